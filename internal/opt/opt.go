// Package opt is a patch field that can be left out, as distinct from one
// given as null: a nil pointer inside a set Value clears what it patches.
package opt

// Value is a value that may be absent.
type Value[T any] struct {
	v   T
	set bool
}

// Of returns a set value.
func Of[T any](v T) Value[T] { return Value[T]{v: v, set: true} }

// Set gives the value.
func (o *Value[T]) Set(v T) { o.v, o.set = v, true }

// Value returns the value, or the zero value when it is absent.
func (o Value[T]) Value() T { return o.v }

// IsSet reports whether the value was given.
func (o Value[T]) IsSet() bool { return o.set }
