package builtin

import (
	"slices"
	"strings"
)

// tacticIDs maps ATT&CK tactic ids to the tactic names the analyst uses.
var tacticIDs = map[string]string{
	"TA0043": "reconnaissance", "TA0042": "resource-development", "TA0001": "initial-access", "TA0002": "execution",
	"TA0003": "persistence", "TA0004": "privilege-escalation", "TA0005": "defense-evasion", "TA0006": "credential-access",
	"TA0007": "discovery", "TA0008": "lateral-movement", "TA0009": "collection", "TA0011": "command-and-control",
	"TA0010": "exfiltration", "TA0040": "impact",
}

// normTactic reads a vendor's tactic ("Credential Access",
// "Command_And_Control", "TA0006", Falco's "mitre_credential_access") as
// a tactic name, "" when it is none.
func normTactic(s string) string {
	s = strings.TrimSpace(s)
	if t, ok := tacticIDs[strings.ToUpper(s)]; ok {
		return t
	}
	s = strings.TrimPrefix(strings.ToLower(s), "mitre_")
	s = strings.NewReplacer(" ", "-", "_", "-", "&", "and").Replace(s)
	if s == "resource-development" {
		return s
	}
	if _, ok := tacticWeights[s]; ok && s != tacticUnknown {
		return s
	}
	return ""
}

// tacticKeys are payload fields holding a vendor's tactic.
var tacticKeys = []string{"tactic", "tactics", "mitretacticname", "mitretacticid", "tacticname"}

// vendorTactics are the distinct tactics the payload names.
func vendorTactics(f rawFields, tags []string) []string {
	var out []string
	add := func(v string) {
		if t := normTactic(v); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, kv := range head(f.values, maxReasonKV) {
		if slices.Contains(tacticKeys, kv.key) || kv.key == "name" && (kv.parent == "tactic" || kv.parent == "tactics") {
			add(kv.value)
		}
	}
	for _, t := range head(tags, maxTags) {
		if strings.HasPrefix(strings.ToLower(t), "mitre_") {
			add(t)
		}
	}
	return out
}
