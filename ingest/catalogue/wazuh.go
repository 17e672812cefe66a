package catalogue

import (
	"strconv"
	"strings"

	"github.com/seliq/seliq/enum"
)

func wazuhType() Type {
	s := spec{key: "wazuh", expand: hitsExpand(""), one: wazuhOne}
	return Type{
		Key:    "wazuh",
		Name:   "Wazuh alerts",
		Vendor: "Wazuh",
		Description: "Wazuh manager alerts as written to alerts.json (one object, an array, or the file's newline-delimited lines) and as sent by " +
			"an integration; also a Wazuh indexer (OpenSearch) search response over wazuh-alerts-* ({\"hits\": {\"hits\": [...]}}).",
		Modes:         []enum.ConnectorMode{enum.ConnectorModePush, enum.ConnectorModePull},
		SeverityScale: "rule.level 0–15: 0–3 info, 4–7 low, 8–11 medium, 12–14 high, 15 critical. Missing or outside 0–15 → medium.",
		DedupFields:   []string{"source", "rule", "host", "src_ip", "user"},
		Mapping: []FieldMapping{
			{"title", "rule.description", ""},
			{"description", "full_log", ""},
			{"severity", "rule.level", "See the severity scale."},
			{"external_id", "id", "The alert id, e.g. 1715678467.1234567."},
			{"event_time", "timestamp, @timestamp", "Wazuh writes +0000 offsets."},
			{"mitre", "rule.mitre.id[]", ""},
			{"tags", "rule.groups[]", ""},
			{"attributes.rule", "rule.id", ""},
			{"attributes.host", "agent.name", ""},
			{"attributes.src_ip / dst_ip", "data.srcip, data.win.eventdata.ipAddress / data.dstip", ""},
			{"attributes.user", "data.dstuser, data.srcuser, data.win.eventdata.targetUserName", ""},
			{"attributes.process / command_line", "data.win.eventdata.image / data.win.eventdata.commandLine, data.audit.execve", ""},
			{"attributes.file_hash / file_name", "syscheck.sha256_after, syscheck.sha1_after, syscheck.md5_after / basename of syscheck.path", ""},
			{"attributes.url", "data.url", ""},
			{"attributes.category", "the last (most specific) of rule.groups", ""},
		},
		Settings: settingsSchema("Wazuh connector settings", map[string]any{
			"base_url":   urlProp("Wazuh indexer URL for polling, e.g. https://wazuh-indexer:9200.", ""),
			"username":   strProp("Indexer user with read access to wazuh-alerts-*."),
			"password":   secretProp("Indexer password."),
			"index":      strProp("Index pattern (default wazuh-alerts-*)."),
			"min_level":  map[string]any{"type": "integer", "minimum": 0, "maximum": 15, "default": 3, "description": "Ignore alerts below this rule level when polling."},
			"verify_tls": boolProp("Verify the server certificate.", true),
		}, "base_url", "username", "password"),
		Map:       s.run,
		NewPoller: newWazuhPoller,
	}
}

func wazuhOne(r record) (Alert, error) {
	d := hitDoc(r.obj)
	rule := obj(d, "rule")
	if rule == nil {
		return Alert{}, unmappable("not a Wazuh alert: no rule object")
	}
	a := Alert{
		Title:       gs(rule, "description"),
		Description: gs(d, "full_log"),
		ExternalID:  gs(d, "id"),
		Severity:    wazuhScale.of(rule["level"]),
		EventTime:   firstTime(d, "timestamp", "@timestamp"),
		Tags:        strs(rule["groups"]),
	}
	if a.Title == "" {
		return a, unmappable("no rule.description")
	}
	for _, t := range strs(get(rule, "mitre.id")) {
		if id, ok := normTechnique(t); ok {
			a.Mitre = append(a.Mitre, id)
		}
	}
	at := attrs{}
	at.set(AttrRule, gs(rule, "id"))
	at.set(AttrHost, gs(d, "agent.name"))
	at.set(AttrSrcIP, ipOnly(gs(d, "data.srcip", "data.win.eventdata.ipAddress")))
	at.set(AttrDstIP, ipOnly(gs(d, "data.dstip")))
	at.set(AttrUser, gs(d, "data.dstuser", "data.srcuser", "data.win.eventdata.targetUserName"))
	at.set(AttrProcess, baseName(gs(d, "data.win.eventdata.image")))
	at.set(AttrCommandLine, gs(d, "data.win.eventdata.commandLine"), auditExecve(obj(d, "data.audit.execve")))
	at.set(AttrFileHash, gs(d, "syscheck.sha256_after", "syscheck.sha1_after", "syscheck.md5_after"))
	at.set(AttrFileName, baseName(gs(d, "syscheck.path")))
	at.set(AttrURL, gs(d, "data.url"))
	if groups := strs(rule["groups"]); len(groups) > 0 {
		at.set(AttrCategory, groups[len(groups)-1]) // groups run from generic to specific
	}
	a.Attributes = at
	return a, nil
}

// auditExecve joins the arguments a0, a1, … of a Linux audit EXECVE record.
func auditExecve(m map[string]any) string {
	var args []string
	for i := 0; i < len(m); i++ {
		v := str(m["a"+strconv.Itoa(i)])
		if v == "" {
			break
		}
		args = append(args, v)
	}
	return strings.Join(args, " ")
}
