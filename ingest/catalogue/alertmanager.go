package catalogue

import (
	"github.com/seliq/seliq/enum"
)

func alertmanagerType() Type {
	s := spec{key: "alertmanager", expand: alertmanagerExpand, one: alertmanagerOne}
	return Type{
		Key:    "alertmanager",
		Name:   "Prometheus Alertmanager",
		Vendor: "Prometheus",
		Description: "The Alertmanager webhook receiver payload (version 4: {\"version\": \"4\", \"status\", \"receiver\", \"groupLabels\", \"alerts\": [...]}), one alert per element, " +
			"or single alert objects (as from the v2 API). Resolved notifications map too, tagged status:resolved.",
		Modes: []enum.ConnectorMode{enum.ConnectorModePush},
		SeverityScale: "labels.severity (a convention, case-insensitive): critical/page/emergency/fatal/disaster/p1 → critical; error/high/major/p2 → high; " +
			"warning/warn/medium/minor/average/p3 → medium; low/p4 → low; info/informational/notice/none/debug/ok/p5 → info. Missing or other → medium.",
		DedupFields: []string{"source", "external_id"},
		Mapping: []FieldMapping{
			{"title", "annotations.summary, annotations.title, labels.alertname", ""},
			{"description", "annotations.description, annotations.message", "annotations.runbook_url appended."},
			{"severity", "labels.severity", "See the severity scale."},
			{"external_id", "fingerprint", "Stable per label set."},
			{"event_time", "startsAt", ""},
			{"tags", "\"status:<status>\" (element status, else the webhook's)", ""},
			{"mitre", "labels.mitre_technique, annotations.mitre_technique", "If a rule author sets them."},
			{"attributes.rule", "labels.alertname", ""},
			{"attributes.host", "labels.instance (port stripped), labels.hostname, labels.host, labels.node, labels.nodename", ""},
			{"attributes.category", "labels.category, labels.type", ""},
		},
		Settings: settingsSchema("Alertmanager connector settings", nil),
		Map:      s.run,
	}
}

func alertmanagerExpand(r record) ([]record, error) {
	if recs, ok, err := children(r, "alerts"); ok || err != nil {
		return recs, err
	}
	return []record{r}, nil
}

func alertmanagerOne(r record) (Alert, error) {
	o := r.obj
	labels, annotations, err := alertmanagerMaps(o)
	if err != nil {
		return Alert{}, err
	}
	if labels == nil && annotations == nil {
		if r.env == nil {
			return Alert{}, unmappable("not an Alertmanager payload: no alerts list and no labels")
		}
		return Alert{}, unmappable("alert without labels or annotations")
	}
	a := Alert{
		Title:       first(gs(annotations, "summary", "title"), gs(labels, "alertname")),
		Description: gs(annotations, "description", "message"),
		ExternalID:  gs(o, "fingerprint"),
		Severity:    alertmanagerScale.of(labels["severity"]),
		EventTime:   firstTime(o, "startsAt"),
	}
	if a.Title == "" {
		return a, unmappable("no labels.alertname or annotations.summary")
	}
	if rb := gs(annotations, "runbook_url", "runbook"); rb != "" {
		a.Description = first(a.Description+"\n\nRunbook: "+rb, rb)
	}
	status := first(gs(o, "status"), gs(r.env, "status"))
	if status == "" {
		// The v2 API nests it: {"status": {"state": "active"}}.
		status = gs(o, "status.state")
	}
	if status != "" {
		a.Tags = append(a.Tags, "status:"+status)
	}
	a.Mitre = append(a.Mitre, techniquesIn(first(gs(labels, "mitre_technique"), gs(annotations, "mitre_technique")))...)
	at := attrs{}
	at.set(AttrRule, gs(labels, "alertname"))
	at.set(AttrHost, hostPart(gs(labels, "instance")), gs(labels, "hostname", "host", "node", "nodename"))
	at.set(AttrCategory, gs(labels, "category", "type"))
	a.Attributes = at
	return a, nil
}

// alertmanagerMaps returns the labels and annotations objects, rejecting other shapes.
func alertmanagerMaps(o map[string]any) (labels, annotations map[string]any, err error) {
	for _, k := range []string{"labels", "annotations"} {
		v, present := o[k]
		if !present || v == nil {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, nil, &FieldError{Field: k, Reason: "expected an object of strings"}
		}
		if k == "labels" {
			labels = m
		} else {
			annotations = m
		}
	}
	return labels, annotations, nil
}
