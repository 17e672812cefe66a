// Package metrics answers the figures a SOC lead and an MSSP account manager
// read every morning: alert volume over time, breakdowns by severity,
// status, connector and assignee, open and unassigned counts, time to detect
// and to resolve, and a summary against the previous period. Every figure
// reads through ent, so the privacy rules decide whose rows count; a
// provider's roll-up across its tree is viewer.ForTree's read-only widening
// (see docs/ARCHITECTURE.md). Definitions are in the README's "Metrics"
// section and metrics.graphql.
package metrics
