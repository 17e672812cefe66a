// Package builtin is Seliq's built-in analyst: a deterministic, explainable
// triage of an alert or an incident that needs no model provider.
//
// It works on plain input structs the caller fills (the alert, the related
// alerts and incidents it found, the dispositions of earlier alerts with the
// same fingerprint) and never touches storage or the network.
//
// How a verdict is reached: independent signals (source severity, ATT&CK
// techniques matched from the data table in mitre_data.go, vendor verdict
// fields, known-bad tags, repetition, disposition history, internal-only or
// external entities, scanner and infrastructure noise) each add a signed
// weight and a Reason. The sum decides the verdict; agreement between the
// signals and their strength decide the confidence. Strong evidence both
// ways, or too little evidence, gives needs_review.
//
// IOCs and assets: public IP addresses, external domains, URLs and e-mail
// addresses, hashes and CVEs are IOCs. Hostnames, users, private, loopback,
// link-local and CGNAT addresses, and domains, URLs and e-mail addresses
// inside the organisation's own domains are assets: things to protect, not
// to block. The organisation's domains are inferred from the alert itself:
// the domain of user principal names (alice@contoso.com) and the parent
// domain of fully qualified hostnames (ws-01.corp.contoso.com), plus the
// reserved internal suffixes (.local, .lan, .internal, .corp, .home.arpa).
package builtin
