// Package layout holds no code: its test checks the module's layering, that
// domain packages do not import the transport (HTTP, GraphQL, WebSocket).
package layout
