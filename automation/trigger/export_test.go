package trigger

import "github.com/google/uuid"

// Cached reports whether the engine holds org's compiled triggers.
func (e *Engine) Cached(org uuid.UUID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.cache[org]
	return ok
}
