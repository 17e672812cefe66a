// Package schematype holds Go types stored in JSON columns. It lives apart
// from ent/schema so that the generated code can import it without a cycle.
package schematype

// Entity is one indicator extracted from an alert (an IP, a hash, a user...).
type Entity struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}
