package directory

import "sync/atomic"

// CountHashes makes password hashing count into n until the test ends.
func CountHashes(n *atomic.Int64) (restore func()) {
	prev := hashPassword
	hashPassword = func(p string) (string, error) {
		n.Add(1)
		return prev(p)
	}
	return func() { hashPassword = prev }
}
