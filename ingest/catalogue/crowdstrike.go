package catalogue

import (
	"github.com/seliq/seliq/enum"
)

func crowdstrikeType() Type {
	s := spec{key: "crowdstrike", expand: crowdstrikeExpand, one: crowdstrikeOne}
	return Type{
		Key:    "crowdstrike",
		Name:   "CrowdStrike Falcon detections",
		Vendor: "CrowdStrike",
		Description: "Falcon detections: the Detects/Alerts API responses ({\"resources\": [...]}, one detection or alert per element) and the " +
			"Event Streams API DetectionSummaryEvent ({\"metadata\": {...}, \"event\": {...}}, also as a newline-delimited stream; other stream event types are skipped).",
		Modes: []enum.ConnectorMode{enum.ConnectorModePush, enum.ConnectorModePull},
		SeverityScale: "SeverityName / max_severity_displayname / severity_name: Informational → info, Low → low, Medium → medium, High → high, Critical → critical. " +
			"Else streaming Severity 1–5: 1 info, 2 low, 3 medium, 4 high, 5 critical; API max_severity / severity 0–100: 0–19 info, 20–39 low, 40–59 medium, 60–79 high, 80–100 critical. Unknown → medium.",
		DedupFields: []string{"source", "external_id"},
		Mapping: []FieldMapping{
			{"title", "DetectName (stream); display_name, behaviors[0].display_name, \"<tactic> via <technique>\" (API)", "Falls back to \"CrowdStrike Falcon detection\"."},
			{"description", "DetectDescription (stream); description, behaviors[0].description (API)", ""},
			{"severity", "SeverityName, Severity; max_severity_displayname, severity_name, max_severity, severity", "See the severity scale."},
			{"external_id", "DetectId, CompositeId (stream); detection_id, composite_id, id (API)", ""},
			{"event_time", "metadata.eventCreationTime (ms), ProcessStartTime (s); first_behavior, created_timestamp, timestamp", ""},
			{"mitre", "TechniqueId, Technique (stream); technique_id, behaviors[].technique_id (API)", ""},
			{"attributes.host", "ComputerName, Hostname; device.hostname", ""},
			{"attributes.src_ip", "LocalIP; device.local_ip", ""},
			{"attributes.user", "UserName; user_name, behaviors[0].user_name", ""},
			{"attributes.command_line", "CommandLine; cmdline, behaviors[0].cmdline", ""},
			{"attributes.file_hash", "SHA256String, MD5String; sha256, behaviors[0].sha256, md5", ""},
			{"attributes.file_name / process", "FileName; filename, behaviors[0].filename", ""},
			{"attributes.rule", "DetectName; display_name, behaviors[0].display_name, technique", ""},
			{"attributes.category", "Tactic; tactic, behaviors[0].tactic", ""},
		},
		Settings: settingsSchema("CrowdStrike Falcon connector settings", map[string]any{
			"base_url":      urlProp("Falcon API base URL for your cloud (US-1, US-2, EU-1, US-GOV-1).", "https://api.crowdstrike.com"),
			"client_id":     strProp("API client id with the Alerts: Read scope."),
			"client_secret": secretProp("API client secret."),
			"member_cid":    strProp("Child CID for Flight Control (MSSP) tenants."),
			"filter":        strProp("FQL filter added to the Alerts API query when polling, e.g. status:'new'+severity:>=50."),
		}, "base_url", "client_id", "client_secret"),
		Map:       s.run,
		NewPoller: newCrowdstrikePoller,
	}
}

func crowdstrikeExpand(r record) ([]record, error) {
	if recs, ok, err := children(r, "resources"); ok || err != nil {
		return recs, err
	}
	return []record{r}, nil
}

func crowdstrikeOne(r record) (Alert, error) {
	o := r.obj
	if meta, ok := o["metadata"].(map[string]any); ok {
		if _, has := o["event"]; has {
			ev, ok := o["event"].(map[string]any)
			if !ok {
				return Alert{}, &FieldError{Field: "event", Reason: "expected an object"}
			}
			switch et := str(meta["eventType"]); et {
			case "DetectionSummaryEvent", "EppDetectionSummaryEvent":
				return crowdstrikeStream(ev, meta)
			default:
				return Alert{}, skip("stream event type %q is not a detection", et)
			}
		}
	}
	switch {
	case o["DetectName"] != nil || o["DetectId"] != nil || o["SeverityName"] != nil:
		return crowdstrikeStream(o, nil)
	case o["detection_id"] != nil || o["behaviors"] != nil || o["composite_id"] != nil || o["max_severity"] != nil:
		return crowdstrikeDetection(o)
	}
	return Alert{}, unmappable("not a Falcon detection: expected a Detects/Alerts API resource (detection_id, composite_id, behaviors) or a DetectionSummaryEvent")
}

// crowdstrikeStream maps an Event Streams DetectionSummaryEvent (or EppDetectionSummaryEvent) body.
func crowdstrikeStream(ev, meta map[string]any) (Alert, error) {
	a := Alert{
		Title:       gs(ev, "DetectName", "Name", "Technique"),
		Description: gs(ev, "DetectDescription", "Description"),
		ExternalID:  gs(ev, "DetectId", "CompositeId"),
		EventTime:   first2(firstTime(meta, "eventCreationTime"), firstTime(ev, "ProcessStartTime", "Timestamp")),
	}
	if a.Title == "" {
		a.Title = "CrowdStrike Falcon detection"
	}
	if sev, ok := crowdstrikeNames.lookup(ev["SeverityName"]); ok {
		a.Severity = sev
	} else {
		a.Severity = crowdstrikeLevel.of(ev["Severity"])
	}
	if id, ok := normTechnique(gs(ev, "TechniqueId")); ok {
		a.Mitre = append(a.Mitre, id)
	}
	a.Mitre = append(a.Mitre, techniquesIn(gs(ev, "Technique"))...)
	at := attrs{}
	at.set(AttrRule, gs(ev, "DetectName", "Name"))
	at.set(AttrHost, gs(ev, "ComputerName", "Hostname"))
	at.set(AttrUser, gs(ev, "UserName"))
	at.set(AttrSrcIP, ipOnly(gs(ev, "LocalIP")))
	at.set(AttrCommandLine, gs(ev, "CommandLine"))
	at.set(AttrFileHash, gs(ev, "SHA256String", "SHA1String", "MD5String"))
	at.set(AttrFileName, gs(ev, "FileName"))
	at.set(AttrProcess, gs(ev, "FileName"))
	at.set(AttrCategory, gs(ev, "Tactic"))
	a.Attributes = at
	return a, nil
}

// crowdstrikeDetection maps a Detects API detection (behaviors[]) or an Alerts API alert (flat).
func crowdstrikeDetection(o map[string]any) (Alert, error) {
	behaviors := objs(o["behaviors"])
	var b0 map[string]any
	if len(behaviors) > 0 {
		b0 = behaviors[0]
	}
	// bf reads a field from the detection itself, else from its first behavior.
	bf := func(key string) string { return first(gs(o, key), gs(b0, key)) }

	a := Alert{
		Title:       bf("display_name"),
		Description: bf("description"),
		ExternalID:  gs(o, "detection_id", "composite_id", "id"),
		EventTime:   first2(firstTime(o, "first_behavior", "created_timestamp", "timestamp"), firstTime(b0, "timestamp")),
	}
	tactic, technique := bf("tactic"), bf("technique")
	if a.Title == "" && tactic != "" && technique != "" {
		a.Title = tactic + " via " + technique
	}
	if a.Title == "" {
		a.Title = first(technique, gs(o, "name"), "CrowdStrike Falcon detection")
	}
	if sev, ok := crowdstrikeNames.lookup(first(gs(o, "max_severity_displayname", "severity_name", "SeverityName"))); ok {
		a.Severity = sev
	} else {
		a.Severity = crowdstrikeScore.firstOf(o["max_severity"], o["severity"])
	}
	if id, ok := normTechnique(gs(o, "technique_id")); ok {
		a.Mitre = append(a.Mitre, id)
	}
	for _, b := range behaviors {
		if id, ok := normTechnique(gs(b, "technique_id")); ok {
			a.Mitre = append(a.Mitre, id)
		}
	}
	at := attrs{}
	at.set(AttrRule, bf("display_name"), technique)
	at.set(AttrHost, gs(o, "device.hostname", "hostname"))
	at.set(AttrSrcIP, ipOnly(gs(o, "device.local_ip", "local_ip")))
	at.set(AttrUser, bf("user_name"))
	at.set(AttrCommandLine, bf("cmdline"))
	at.set(AttrFileHash, bf("sha256"), bf("md5"))
	at.set(AttrFileName, bf("filename"))
	at.set(AttrProcess, bf("filename"))
	at.set(AttrCategory, tactic)
	a.Attributes = at
	return a, nil
}

func first2[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}
