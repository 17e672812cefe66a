package catalogue

import (
	"sort"
	"strings"

	"github.com/seliq/seliq/enum"
)

func splunkType() Type {
	s := spec{key: "splunk", expand: splunkExpand, one: splunkOne}
	return Type{
		Key:    "splunk",
		Name:   "Splunk alert webhooks",
		Vendor: "Splunk",
		Description: "The Splunk webhook alert action body ({\"result\": {first result row}, \"sid\", \"search_name\", \"results_link\", \"app\", \"owner\"}), " +
			"a search-results body ({\"results\": [...]}, one alert per row) or bare result rows; Splunk ES notable fields (urgency, rule_name) and CIM field names are understood.",
		Modes: []enum.ConnectorMode{enum.ConnectorModePush, enum.ConnectorModePull},
		SeverityScale: "result.urgency, else result.severity: informational → info, low → low, medium → medium, high → high, critical → critical; " +
			"numeric 0–10: 0–1 info, 2–3 low, 4–5 medium, 6–7 high, 8–10 critical. Missing or unknown → medium.",
		DedupFields: []string{"source", "title", "host", "src_ip", "dst_ip", "user"},
		Mapping: []FieldMapping{
			{"title", "search_name, result.search_name, result.rule_name, result.rule_title, result.savedsearch_name, result.signature", "Falls back to \"Splunk alert <sid>\" when the search is unnamed."},
			{"description", "result.description, result.rule_description; results_link appended", ""},
			{"severity", "result.urgency, result.severity", "See the severity scale."},
			{"external_id", "sid, result.event_id", "The search id of the triggering run."},
			{"event_time", "result._time, result.time", "Epoch seconds or ISO 8601."},
			{"mitre", "result fields whose name contains \"mitre\" (e.g. annotations.mitre_attack)", ""},
			{"tags", "result.tag, result.tags", ""},
			{"attributes.rule", "search_name, result.rule_name, result.signature", ""},
			{"attributes.host", "result.host, result.dest_host, result.dest_nt_host, result.dest (when not an IP)", ""},
			{"attributes.src_ip / dst_ip", "result.src_ip, result.src / result.dest_ip, result.dest (when an IP)", ""},
			{"attributes.user", "result.user, result.src_user", ""},
			{"attributes.process / command_line", "result.process_name / result.process, result.command_line (CIM: process is the full command line)", ""},
			{"attributes.file_hash / file_name", "result.file_hash, result.sha256 / result.file_name", ""},
			{"attributes.url / domain", "result.url / result.domain, result.query", ""},
			{"attributes.email_from / email_to", "result.sender / result.recipient", ""},
			{"attributes.category", "result.category", ""},
		},
		Settings: settingsSchema("Splunk connector settings", map[string]any{
			"base_url":   urlProp("Splunk management URL for polling, e.g. https://splunk.example.com:8089.", ""),
			"token":      secretProp("Splunk authentication token (pull mode)."),
			"search":     strProp("Search to poll, e.g. `notable` | search status=new (pull mode); each poll runs it over the events indexed since the last."),
			"app":        strProp("App context of the search."),
			"verify_tls": boolProp("Verify the server certificate.", true),
		}, "base_url", "token", "search"),
		Map:       s.run,
		NewPoller: newSplunkPoller,
	}
}

func splunkExpand(r record) ([]record, error) {
	if _, ok := r.obj["result"]; ok {
		return []record{r}, nil
	}
	if recs, ok, err := children(r, "results"); ok || err != nil {
		return recs, err
	}
	return []record{r}, nil
}

func splunkOne(r record) (Alert, error) {
	row, env := r.obj, r.env
	if res, ok := r.obj["result"]; ok {
		m, isObj := res.(map[string]any)
		if !isObj && res != nil {
			return Alert{}, &FieldError{Field: "result", Reason: "expected an object"}
		}
		row, env = m, r.obj
	}
	if env == nil {
		env = map[string]any{}
	}
	sid := gs(env, "sid")
	a := Alert{
		Title:       gs(env, "search_name"),
		Description: gs(row, "description", "rule_description"),
		ExternalID:  first(sid, gs(row, "event_id")),
		Severity:    splunkScale.firstOf(row["urgency"], row["severity"]),
		EventTime:   firstTime(row, "_time", "time"),
		Tags:        append(strs(row["tag"]), strs(row["tags"])...),
	}
	a.Title = first(a.Title, gs(row, "search_name", "rule_name", "rule_title", "savedsearch_name", "signature"))
	if a.Title == "" {
		if sid == "" {
			return a, unmappable("no search_name, rule_name or signature")
		}
		a.Title = "Splunk alert " + sid
	}
	if link := gs(env, "results_link"); link != "" {
		a.Description = strings.TrimSpace(a.Description + "\n\nSearch results: " + link)
	}

	keys := make([]string, 0, len(row))
	for k := range row {
		if strings.Contains(strings.ToLower(k), "mitre") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range strs(row[k]) {
			a.Mitre = append(a.Mitre, techniquesIn(v)...)
		}
	}

	dest := gs(row, "dest")
	src := gs(row, "src")
	at := attrs{}
	at.set(AttrRule, gs(env, "search_name"), gs(row, "rule_name", "signature", "search_name"))
	at.set(AttrHost, gs(row, "host", "dest_host", "dest_nt_host"), notIP(dest))
	at.set(AttrSrcIP, ipOnly(gs(row, "src_ip"), src))
	at.set(AttrDstIP, ipOnly(gs(row, "dest_ip"), dest))
	at.set(AttrUser, gs(row, "user", "src_user"))
	at.set(AttrProcess, gs(row, "process_name"))
	at.set(AttrCommandLine, gs(row, "command_line", "process"))
	at.set(AttrFileHash, gs(row, "file_hash", "sha256", "sha1", "md5"))
	at.set(AttrFileName, gs(row, "file_name"))
	at.set(AttrURL, gs(row, "url"))
	at.set(AttrDomain, gs(row, "domain", "query"))
	at.set(AttrEmailFrom, gs(row, "sender"))
	at.set(AttrEmailTo, gs(row, "recipient"))
	at.set(AttrCategory, gs(row, "category"))
	a.Attributes = at
	return a, nil
}
