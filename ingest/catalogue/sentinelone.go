package catalogue

import (
	"strings"

	"github.com/seliq/seliq/enum"
)

func sentineloneType() Type {
	s := spec{key: "sentinelone", expand: sentineloneExpand, one: sentineloneOne}
	return Type{
		Key:         "sentinelone",
		Name:        "SentinelOne threats",
		Vendor:      "SentinelOne",
		Description: "Singularity threats as returned by the Management API v2.1 (GET /web/api/v2.1/threats: {\"data\": [...]}) or a single threat object.",
		Modes:       []enum.ConnectorMode{enum.ConnectorModePush, enum.ConnectorModePull},
		SeverityScale: "threatInfo.confidenceLevel: malicious → high, suspicious → medium; n/a or missing → medium. " +
			"(SentinelOne threats carry a confidence, not a severity.)",
		DedupFields: []string{"source", "external_id"},
		Mapping: []FieldMapping{
			{"title", "threatInfo.threatName, threatName", "Falls back to \"SentinelOne threat\"."},
			{"description", "threatInfo.classification, detectionType, filePath, mitigationStatus, analystVerdict", "Composed, one fact per line."},
			{"severity", "threatInfo.confidenceLevel", "See the severity scale."},
			{"external_id", "id, threatInfo.threatId", ""},
			{"event_time", "threatInfo.createdAt, threatInfo.identifiedAt, createdAt", ""},
			{"mitre", "indicators[].tactics[].techniques[].title, .link", "Technique ids like T1486."},
			{"tags", "indicators[].category", ""},
			{"attributes.host", "agentRealtimeInfo.agentComputerName, agentDetectionInfo.agentComputerName", ""},
			{"attributes.user", "threatInfo.processUser, agentDetectionInfo.agentLastLoggedInUserName", ""},
			{"attributes.src_ip", "agentDetectionInfo.agentIpV4", "The endpoint's address."},
			{"attributes.file_hash", "threatInfo.sha256, threatInfo.sha1, threatInfo.md5", ""},
			{"attributes.file_name", "basename of threatInfo.filePath", ""},
			{"attributes.process / command_line", "threatInfo.originatorProcess / threatInfo.maliciousProcessArguments", ""},
			{"attributes.category", "threatInfo.classification", ""},
			{"attributes.rule", "threatInfo.threatName", ""},
		},
		Settings: settingsSchema("SentinelOne connector settings", map[string]any{
			"base_url":          urlProp("Management console URL, e.g. https://usea1-partners.sentinelone.net.", ""),
			"api_token":         secretProp("API token of a service user with threat view permission."),
			"site_ids":          strListProp("Restrict polling to these site ids."),
			"account_ids":       strListProp("Restrict polling to these account ids."),
			"confidence_levels": strListProp("Only import threats with these confidence levels (malicious, suspicious)."),
		}, "base_url", "api_token"),
		Map:       s.run,
		NewPoller: newSentinelonePoller,
	}
}

func sentineloneExpand(r record) ([]record, error) {
	switch r.obj["data"].(type) {
	case map[string]any: // a single threat under "data"
		rec, err := decodeRecordAt(r, "data")
		if err != nil {
			return nil, err
		}
		return []record{rec}, nil
	}
	if recs, ok, err := children(r, "data"); ok || err != nil {
		return recs, err
	}
	return []record{r}, nil
}

func sentineloneOne(r record) (Alert, error) {
	o := r.obj
	ti := obj(o, "threatInfo")
	if ti == nil && o["threatName"] == nil {
		return Alert{}, unmappable("not a SentinelOne threat: no threatInfo")
	}
	a := Alert{
		Title:      first(gs(ti, "threatName"), gs(o, "threatName"), "SentinelOne threat"),
		ExternalID: first(gs(o, "id"), gs(ti, "threatId")),
		EventTime:  first2(firstTime(ti, "createdAt", "identifiedAt"), firstTime(o, "createdAt")),
		Severity:   sentineloneScale.of(first(gs(ti, "confidenceLevel"), gs(o, "confidenceLevel"))),
	}
	var desc []string
	for _, f := range []struct{ label, path string }{
		{"Classification", "classification"},
		{"Detection type", "detectionType"},
		{"Engines", "engines"},
		{"File path", "filePath"},
		{"Mitigation status", "mitigationStatus"},
		{"Analyst verdict", "analystVerdict"},
		{"Incident status", "incidentStatus"},
	} {
		vals := strs(get(ti, f.path))
		if len(vals) > 0 {
			desc = append(desc, f.label+": "+strings.Join(vals, ", "))
		}
	}
	a.Description = strings.Join(desc, "\n")

	for _, ind := range objs(o["indicators"]) {
		a.Tags = append(a.Tags, gs(ind, "category"))
		for _, tac := range objs(ind["tactics"]) {
			for _, tech := range objs(tac["techniques"]) {
				if id, ok := normTechnique(gs(tech, "title")); ok {
					a.Mitre = append(a.Mitre, id)
				} else {
					a.Mitre = append(a.Mitre, techniquesIn(gs(tech, "link"))...)
				}
			}
		}
	}
	filePath := gs(ti, "filePath")
	at := attrs{}
	at.set(AttrRule, gs(ti, "threatName"))
	at.set(AttrHost, gs(o, "agentRealtimeInfo.agentComputerName", "agentDetectionInfo.agentComputerName", "agentComputerName"))
	at.set(AttrUser, gs(ti, "processUser"), gs(o, "agentDetectionInfo.agentLastLoggedInUserName"))
	at.set(AttrSrcIP, ipOnly(strings.Split(gs(o, "agentDetectionInfo.agentIpV4"), ",")...))
	at.set(AttrFileHash, gs(ti, "sha256", "sha1", "md5"))
	at.set(AttrFileName, baseName(filePath))
	at.set(AttrProcess, gs(ti, "originatorProcess"))
	at.set(AttrCommandLine, gs(ti, "maliciousProcessArguments"))
	at.set(AttrCategory, gs(ti, "classification"))
	a.Attributes = at
	return a, nil
}
