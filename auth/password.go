package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/seliq/seliq/internal/apperr"
)

// argon2id parameters (RFC 9106's second recommended option, with memory
// lowered to 64 MiB so a 2-core server can verify a handful of logins at once).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
	saltLen      = 16
)

// Bounds on parameters read from a stored hash: argon2 panics on zero
// rounds or threads, an empty key would match every password, and absurd
// memory or rounds would exhaust the server.
const (
	minKeyLen    = 16
	maxArgonTime = 100
	maxArgonMem  = 1 << 20 // KiB (1 GiB)
)

var b64 = base64.RawStdEncoding

// argonParams are the cost parameters of new hashes; verification reads
// them from each stored hash instead.
type argonParams struct {
	time, memory uint32
	threads      uint8
}

// hashParams is initialised in its declaration, as gate is (see below).
var hashParams = func() *atomic.Pointer[argonParams] {
	p := new(atomic.Pointer[argonParams])
	p.Store(&argonParams{time: argonTime, memory: argonMemory, threads: argonThreads})
	return p
}()

// UseCheapHashingInTests makes new password hashes cheap (one pass over
// 1 MiB), for test binaries whose servers create and log in many users. It
// panics outside a test binary: a running server always hashes at full cost.
func UseCheapHashingInTests() {
	if !testing.Testing() {
		panic("auth: cheap password hashing outside a test binary")
	}
	hashParams.Store(&argonParams{time: 1, memory: 1024, threads: 1})
}

// hashGate bounds how many argon2id computations run at once: each takes
// 64 MiB and most of a core, so an unbounded flood of logins (or user
// creations) exhausts memory and starves every other request. Callers past
// the bound wait up to wait, then are refused with 429.
type hashGate struct {
	slots chan struct{}
	wait  time.Duration
}

// DefaultHashWait is how long a password hash waits for a free slot.
const DefaultHashWait = 2 * time.Second

// hashRetryAfter is what a refused caller is told to wait: a hash takes a
// fraction of a second, so slots free up quickly.
const hashRetryAfter = time.Second

// gate is initialised in its declaration, not in init: dummyHash below
// hashes during package variable initialisation, before init runs.
var gate = func() *atomic.Pointer[hashGate] {
	p := new(atomic.Pointer[hashGate])
	p.Store(newHashGate(0, 0))
	return p
}()

// LimitHashing bounds concurrent password hashing to n (default GOMAXPROCS)
// with callers waiting up to wait (default DefaultHashWait). The bound is
// process-wide, as the CPU and memory it protects are: logins, user
// creation and password resets share it.
func LimitHashing(n int, wait time.Duration) { gate.Store(newHashGate(n, wait)) }

func newHashGate(n int, wait time.Duration) *hashGate {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if wait <= 0 {
		wait = DefaultHashWait
	}
	return &hashGate{slots: make(chan struct{}, n), wait: wait}
}

// ErrHashBusy refuses a hash when every slot stayed busy for the wait.
var ErrHashBusy = &apperr.Error{Code: apperr.RateLimited,
	Message: "the server is busy checking passwords; try again shortly", RetryAfter: hashRetryAfter}

// acquireHash takes a hashing slot and returns its release.
func acquireHash() (func(), error) {
	g := gate.Load()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case <-t.C:
		return nil, ErrHashBusy
	}
}

// idKey is argon2.IDKey behind the hashing gate.
func idKey(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
	release, err := acquireHash()
	if err != nil {
		return nil, err
	}
	defer release()
	return argon2.IDKey(password, salt, time, memory, threads, keyLen), nil
}

// HashPassword returns the password's argon2id hash in PHC string format,
// or ErrHashBusy when the server is saturated with hashing.
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := *hashParams.Load()
	key, err := idKey([]byte(password), salt, p.time, p.memory, p.threads, argonKeyLen)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed password hash")

// VerifyPassword reports whether password matches the PHC-encoded hash; the
// parameters are read from the hash so they can be raised later. It fails
// with ErrHashBusy when the server is saturated with hashing.
func VerifyPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return false, errBadHash
	}
	if iters < 1 || iters > maxArgonTime || threads < 1 || mem > maxArgonMem {
		return false, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < minKeyLen {
		return false, errBadHash
	}
	got, err := idKey([]byte(password), salt, iters, mem, threads, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when a login names an unknown user, so that
// the response time does not reveal which emails exist.
var dummyHash = func() string {
	h, err := HashPassword("not-a-real-password")
	if err != nil {
		panic(err)
	}
	return h
}()
