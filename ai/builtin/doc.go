// Package builtin is Seliq's built-in analyst: a deterministic, explainable
// triage of an alert or an incident that needs no model provider.
//
// It works on plain input structs the caller fills (the alert with the
// ATT&CK ids its source gave, the related alerts and incidents it found,
// the dispositions of earlier alerts of the same rule on the same asset,
// the organisation's asset profile) and never touches storage or the
// network.
//
// How a verdict is reached: decision rules an expert would write
// (rules.go: reverse shells, web shells, LOLBins fetching payloads, cloud
// credentials used outside the cloud, known C2, shells in production pods,
// impossible travel, MFA fatigue, look-alike phishing, …; and vendor test
// alerts, admin tooling from admin hosts, the organisation's scanners,
// policy signatures, …) settle it on their own, each with its ATT&CK
// mapping and explanation (decide.go). A malicious rule against a benign
// one, or against a benign history, is a real conflict: needs_review.
// Without a rule, independent signals (source severity, techniques, vendor
// verdict fields, known-bad tags, repetition, history, internal or
// external entities, scanner and infrastructure noise) each add a signed
// weight and a Reason, and their sum decides, suspicious at most. Text an
// attacker controls (a mail's subject, a file name) is never read as a
// test or benign marker.
//
// Techniques: the source's own ids, validated against the bundled ATT&CK
// matrix (attack_matrix.tsv), plus what the rules establish; keyword
// matches from mitre_data.go only when neither says anything. A benign
// verdict records none.
//
// IOCs and assets: the payload is walked once and each value filed by its
// field (corpus.go): record ids, UUIDs, versions and TLS fingerprints are
// never indicators, console, documentation and schema links are
// references. Hostnames, users, private, loopback, link-local and CGNAT
// addresses, the asset profile's domains, networks and hosts, and the
// domains inferred from the alert (user principal names, fully qualified
// hostnames, reserved internal suffixes) are assets. Well-known benign
// infrastructure (wellknown.json, each group with its source) and CVEs are
// excluded, with why. The remaining IOCs are ranked, each with a reason
// (the field it came from, a look-alike of the organisation's domain).
package builtin
