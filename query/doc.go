// Package query is Seliq's one query language: CEL expressions, type-checked
// against the declared fields of a source (alerts, incidents, activity), run
// two ways with one meaning:
//
//   - in SQL, for stored rows: a compiled expression becomes an ent predicate,
//     so the privacy rules still confine it to the acting organisation and
//     both databases use their indexes;
//   - in memory, for one object (a live event): the same checked program,
//     bounded by CEL's cost limit.
//
// Every expression is translated to SQL when it is compiled, even one that
// only ever runs in memory, so the two back-ends accept exactly the same
// language; the agreement property test checks that they also mean the same.
// Where SQL and CEL could differ, the meaning is fixed here once: severity
// compares by rank, text comparisons are case-sensitive and by code point,
// a missing value (no assignee, no disposition, an attribute the connector
// did not map) reads as the empty string, and `matches` is RE2.
package query
