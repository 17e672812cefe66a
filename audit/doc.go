// Package audit records who changed what, when, from which value to which,
// and searches those records.
package audit
