package auth

// HoldHashSlots takes every password-hashing slot, as a flood of logins
// would, until release is called.
func HoldHashSlots() (release func()) {
	g := gate.Load()
	for range cap(g.slots) {
		g.slots <- struct{}{}
	}
	return func() {
		for range cap(g.slots) {
			<-g.slots
		}
	}
}

// RestoreHashParams puts the production hashing cost back.
func RestoreHashParams() {
	hashParams.Store(&argonParams{time: argonTime, memory: argonMemory, threads: argonThreads})
}
