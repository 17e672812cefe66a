// Package ent holds the generated data layer; the model itself is declared in
// ent/schema.
package ent

//go:generate go run entc.go
