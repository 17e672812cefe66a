package loaders

import "time"

// NewRefCacheAt is NewRefCache on a clock the test moves.
func NewRefCacheAt(now func() time.Time) *RefCache {
	c := NewRefCache()
	c.now = now
	return c
}
