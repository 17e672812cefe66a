// Package connectors manages the security tools that send alerts: their
// settings (checked against the catalogue type's schema), their keys (shown
// once, stored hashed, rotatable) and their dead letters.
package connectors
