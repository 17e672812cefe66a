package catalogue

import (
	"github.com/seliq/seliq/enum"
)

func ocsfType() Type {
	s := spec{key: "ocsf", one: ocsfOne}
	return Type{
		Key:         "ocsf",
		Name:        "OCSF Detection Finding",
		Vendor:      "Open Cybersecurity Schema Framework",
		Description: "OCSF 1.x Detection Finding events (class_uid 2004; other Findings classes 2xxx and the 1.0 Security Finding are accepted too), e.g. from Amazon Security Lake, AWS Security Hub exports or any OCSF-speaking tool.",
		Modes:       []enum.ConnectorMode{enum.ConnectorModePush},
		SeverityScale: "severity_id: 1 Informational → info, 2 Low → low, 3 Medium → medium, 4 High → high, 5 Critical → critical, " +
			"6 Fatal → critical, 0 Unknown / 99 Other → medium. Without severity_id the severity caption is read the same way.",
		DedupFields: []string{"source", "external_id", "title"},
		Mapping: []FieldMapping{
			{"title", "finding_info.title, finding.title (1.0), message, finding_info.analytic.name", ""},
			{"description", "finding_info.desc, message", ""},
			{"severity", "severity_id, severity", "See the severity scale."},
			{"external_id", "finding_info.uid, finding.uid, metadata.uid", ""},
			{"event_time", "time, finding_info.created_time, finding_info.first_seen_time", "OCSF timestamps are epoch milliseconds."},
			{"mitre", "finding_info.attacks[].technique.uid, .sub_technique.uid, attacks[] (1.0)", ""},
			{"tags", "metadata.labels[]", ""},
			{"attributes.rule", "finding_info.analytic.name, finding_info.analytic.uid", ""},
			{"attributes.host", "device.hostname, device.name, resources[].hostname, evidences[].device.hostname", ""},
			{"attributes.user", "actor.user.name, evidences[].actor.user.name, evidences[].user.name", ""},
			{"attributes.src_ip", "src_endpoint.ip, evidences[].src_endpoint.ip, device.ip", ""},
			{"attributes.dst_ip", "dst_endpoint.ip, evidences[].dst_endpoint.ip", ""},
			{"attributes.process / command_line", "actor.process.name / actor.process.cmd_line (or evidences[].process)", ""},
			{"attributes.file_hash / file_name", "evidences[].file.hashes[] (SHA-256 preferred) / evidences[].file.name", ""},
			{"attributes.domain / url", "evidences[].query.hostname / evidences[].url.url_string", ""},
			{"attributes.category", "finding_info.types[0], category_name", ""},
		},
		Settings: settingsSchema("OCSF connector settings", nil),
		Map:      s.run,
	}
}

func ocsfOne(r record) (Alert, error) {
	o := r.obj
	if cu, ok := num(o["class_uid"]); ok {
		if cu < 2000 || cu >= 3000 {
			return Alert{}, unmappable("class_uid %s is not an OCSF Findings class (2xxx); expected Detection Finding (2004)", str(o["class_uid"]))
		}
	} else if obj(o, "finding_info") == nil && obj(o, "finding") == nil {
		return Alert{}, unmappable("not an OCSF finding: no class_uid and no finding_info")
	}
	a := Alert{
		Title:       gs(o, "finding_info.title", "finding.title", "message", "finding_info.analytic.name", "finding.desc"),
		Description: gs(o, "finding_info.desc", "finding.desc", "message"),
		ExternalID:  gs(o, "finding_info.uid", "finding.uid", "metadata.uid"),
		EventTime:   firstTime(o, "time", "finding_info.created_time", "finding_info.first_seen_time", "finding.created_time"),
		Tags:        strs(get(o, "metadata.labels")),
	}
	if a.Description == a.Title {
		a.Description = ""
	}
	a.Severity = ocsfScale.firstOf(o["severity_id"], o["severity"])
	if a.Title == "" {
		return a, unmappable("no finding_info.title or message")
	}

	var attacks []map[string]any
	attacks = append(attacks, objs(get(o, "finding_info.attacks"))...)
	attacks = append(attacks, objs(o["attacks"])...)
	for _, at := range attacks {
		for _, p := range []string{"technique.uid", "sub_technique.uid"} {
			if id, ok := normTechnique(str(get(at, p))); ok {
				a.Mitre = append(a.Mitre, id)
			}
		}
	}

	ev := objs(o["evidences"])
	evs := func(path string) string {
		for _, e := range ev {
			if s := gs(e, path); s != "" {
				return s
			}
		}
		return ""
	}
	var resHost string
	for _, res := range objs(o["resources"]) {
		if resHost = gs(res, "hostname"); resHost != "" {
			break
		}
	}
	var hash string
	for _, e := range ev {
		if hash = ocsfHash(get(e, "file.hashes")); hash != "" {
			break
		}
	}
	at := attrs{}
	at.set(AttrRule, gs(o, "finding_info.analytic.name", "finding_info.analytic.uid"))
	at.set(AttrHost, gs(o, "device.hostname", "device.name"), resHost, evs("device.hostname"))
	at.set(AttrUser, gs(o, "actor.user.name"), evs("actor.user.name"), evs("user.name"))
	at.set(AttrSrcIP, gs(o, "src_endpoint.ip"), evs("src_endpoint.ip"), gs(o, "device.ip"))
	at.set(AttrDstIP, gs(o, "dst_endpoint.ip"), evs("dst_endpoint.ip"))
	at.set(AttrProcess, gs(o, "actor.process.name"), evs("process.name"))
	at.set(AttrCommandLine, gs(o, "actor.process.cmd_line"), evs("process.cmd_line"))
	at.set(AttrFileHash, hash)
	at.set(AttrFileName, evs("file.name"))
	at.set(AttrDomain, evs("query.hostname"))
	at.set(AttrURL, evs("url.url_string"))
	at.set(AttrCategory, gs(o, "finding_info.types", "category_name"))
	a.Attributes = at
	return a, nil
}

// ocsfHash picks a file hash from OCSF fingerprint objects: SHA-256 (algorithm_id 3)
// first, then SHA-1 (2), then MD5 (1), then whatever comes first.
func ocsfHash(v any) string {
	best, bestRank := "", 0
	for _, h := range objs(v) {
		val := str(h["value"])
		if val == "" {
			continue
		}
		rank := 1
		if id, ok := num(h["algorithm_id"]); ok {
			switch id {
			case 3:
				rank = 4
			case 2:
				rank = 3
			case 1:
				rank = 2
			}
		}
		if rank > bestRank {
			best, bestRank = val, rank
		}
	}
	return best
}
