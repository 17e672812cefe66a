package builtin

import "strings"

// sourceNames are the products behind Seliq's connector types, as an
// analyst names them in a summary ("CrowdStrike Falcon reported …").
var sourceNames = map[string]string{
	"crowdstrike":  "CrowdStrike Falcon",
	"sentinelone":  "SentinelOne",
	"defender":     "Microsoft Defender",
	"splunk":       "Splunk",
	"elastic":      "Elastic Security",
	"wazuh":        "Wazuh",
	"suricata":     "Suricata",
	"alertmanager": "Alertmanager",
	"ocsf":         "An OCSF source",
}

// SourceName is how a summary names an alert's source: the product for a
// connector type, else the source as given.
func SourceName(source string) string {
	if n, ok := sourceNames[strings.ToLower(strings.TrimSpace(source))]; ok {
		return n
	}
	return source
}
