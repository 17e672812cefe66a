package catalogue

import (
	"github.com/seliq/seliq/enum"
)

func elasticType() Type {
	s := spec{key: "elastic", expand: hitsExpand("alerts"), one: elasticOne}
	return Type{
		Key:    "elastic",
		Name:   "Elastic Security alerts",
		Vendor: "Elastic",
		Description: "Elastic Security detection alerts (ECS): one alert document, a Kibana webhook body {\"alerts\": [...]}, or an Elasticsearch search response " +
			"over .alerts-security.alerts-* ({\"hits\": {\"hits\": [...]}}, _source or fields). Field names may be dotted keys or nested objects; legacy signal.* fields are read too.",
		Modes: []enum.ConnectorMode{enum.ConnectorModePush, enum.ConnectorModePull},
		SeverityScale: "kibana.alert.severity (or signal.rule.severity): low → low, medium → medium, high → high, critical → critical. " +
			"Without it, kibana.alert.risk_score 0–100 with Elastic's bands: 0–21 low, 22–47 medium, 48–73 high, 74–100 critical. Otherwise medium.",
		DedupFields: []string{"source", "rule", "host", "user"},
		Mapping: []FieldMapping{
			{"title", "kibana.alert.rule.name, signal.rule.name, rule.name, kibana.alert.reason, message", ""},
			{"description", "kibana.alert.reason, kibana.alert.rule.description, signal.reason, signal.rule.description", ""},
			{"severity", "kibana.alert.severity, signal.rule.severity, kibana.alert.risk_score, signal.rule.risk_score", "See the severity scale."},
			{"external_id", "kibana.alert.uuid, hit _id, signal id", ""},
			{"event_time", "@timestamp, kibana.alert.original_time, signal.original_time", ""},
			{"mitre", "kibana.alert.rule.threat[].technique[].id and .subtechnique[].id, signal.rule.threat, threat.technique.id", ""},
			{"tags", "kibana.alert.rule.tags, signal.rule.tags", ""},
			{"attributes.rule", "kibana.alert.rule.name, kibana.alert.rule.rule_id", ""},
			{"attributes.host", "host.name, host.hostname", ""},
			{"attributes.user", "user.name", ""},
			{"attributes.src_ip / dst_ip", "source.ip / destination.ip", ""},
			{"attributes.process / command_line", "process.name / process.command_line", ""},
			{"attributes.file_hash / file_name", "file.hash.sha256, process.hash.sha256, file.hash.sha1, file.hash.md5 / file.name", ""},
			{"attributes.url / domain", "url.full, url.original / dns.question.name, destination.domain, url.domain", ""},
			{"attributes.email_from / email_to", "email.from.address / email.to.address", ""},
			{"attributes.category", "event.category", ""},
		},
		Settings: settingsSchema("Elastic Security connector settings", map[string]any{
			"base_url":   urlProp("Elasticsearch URL for polling the alerts index.", ""),
			"api_key":    secretProp("Elasticsearch API key (base64 id:key) with read access to the alerts index."),
			"index":      strProp("Alerts index pattern (default .alerts-security.alerts-default)."),
			"query":      strProp("Optional filter in Lucene query syntax (query_string; _search does not run KQL), e.g. kibana.alert.workflow_status:open."),
			"verify_tls": boolProp("Verify the server certificate.", true),
		}, "base_url", "api_key"),
		Map:       s.run,
		NewPoller: newElasticPoller,
	}
}

// hitsExpand splits a list envelope (listKey, e.g. "alerts") or an
// Elasticsearch/OpenSearch search response {"hits": {"hits": [...]}} into its
// documents; the record stays the hit (with _id/_source) so Raw is the element.
func hitsExpand(listKey string) func(r record) ([]record, error) {
	return func(r record) ([]record, error) {
		if listKey != "" {
			if recs, ok, err := children(r, listKey); ok || err != nil {
				return recs, err
			}
		}
		if h, ok := r.obj["hits"].(map[string]any); ok {
			if _, has := h["hits"]; has {
				recs, _, err := children(r, "hits", "hits")
				return recs, err
			}
		}
		return []record{r}, nil
	}
}

// hitDoc returns the document of a search hit (_source, else fields), or the record itself.
func hitDoc(o map[string]any) map[string]any {
	if src, ok := o["_source"].(map[string]any); ok {
		return src
	}
	if _, isHit := o["_id"]; isHit {
		if f, ok := o["fields"].(map[string]any); ok {
			return f
		}
	}
	return o
}

func elasticOne(r record) (Alert, error) {
	d := hitDoc(r.obj)
	a := Alert{
		Title:       gs(d, "kibana.alert.rule.name", "signal.rule.name", "rule.name", "kibana.alert.reason", "message"),
		Description: gs(d, "kibana.alert.reason", "kibana.alert.rule.description", "signal.reason", "signal.rule.description"),
		ExternalID:  first(gs(d, "kibana.alert.uuid"), gs(r.obj, "_id"), gs(d, "signal.id")),
		EventTime:   firstTime(d, "@timestamp", "kibana.alert.original_time", "signal.original_time"),
		Tags:        append(strs(get(d, "kibana.alert.rule.tags")), strs(get(d, "signal.rule.tags"))...),
	}
	if a.Title == "" {
		return a, unmappable("not an Elastic Security alert: no kibana.alert.rule.name")
	}
	if a.Description == a.Title {
		a.Description = ""
	}
	if sev, ok := elasticScale.lookup(get(d, "kibana.alert.severity")); ok {
		a.Severity = sev
	} else if sev, ok := elasticScale.lookup(get(d, "signal.rule.severity")); ok {
		a.Severity = sev
	} else {
		a.Severity = elasticRisk.firstOf(get(d, "kibana.alert.risk_score"), get(d, "signal.rule.risk_score"))
	}
	for _, p := range []string{
		"kibana.alert.rule.threat", "signal.rule.threat",
		"threat.technique.id", "threat.technique.subtechnique.id",
		"kibana.alert.rule.threat.technique.id", "kibana.alert.rule.threat.technique.subtechnique.id",
	} {
		walkTechniques(get(d, p), &a.Mitre)
	}
	// ECS "threat" may also be a list of {technique: [{id}]} objects.
	if th, ok := d["threat"].([]any); ok {
		walkTechniques(th, &a.Mitre)
	}
	at := attrs{}
	at.set(AttrRule, gs(d, "kibana.alert.rule.name", "signal.rule.name", "kibana.alert.rule.rule_id"))
	at.set(AttrHost, gs(d, "host.name", "host.hostname"))
	at.set(AttrUser, gs(d, "user.name"))
	at.set(AttrSrcIP, ipOnly(gs(d, "source.ip")))
	at.set(AttrDstIP, ipOnly(gs(d, "destination.ip")))
	at.set(AttrProcess, gs(d, "process.name"))
	at.set(AttrCommandLine, gs(d, "process.command_line"))
	at.set(AttrFileHash, gs(d, "file.hash.sha256", "process.hash.sha256", "file.hash.sha1", "file.hash.md5"))
	at.set(AttrFileName, gs(d, "file.name"))
	at.set(AttrURL, gs(d, "url.full", "url.original"))
	at.set(AttrDomain, gs(d, "dns.question.name", "destination.domain", "url.domain"))
	at.set(AttrEmailFrom, gs(d, "email.from.address"))
	at.set(AttrEmailTo, gs(d, "email.to.address"))
	at.set(AttrCategory, gs(d, "event.category"))
	a.Attributes = at
	return a, nil
}
