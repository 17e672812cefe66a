// Package alerts is the triage queue: filtering, facets, patching with
// status transitions, notes and bulk actions. Every change is recorded in
// the activity log in the same transaction.
package alerts
