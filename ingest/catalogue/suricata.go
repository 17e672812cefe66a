package catalogue

import (
	"strings"

	"github.com/seliq/seliq/enum"
)

func suricataType() Type {
	s := spec{key: "suricata", one: suricataOne}
	return Type{
		Key:    "suricata",
		Name:   "Suricata EVE alerts",
		Vendor: "OISF Suricata",
		Description: "Suricata EVE JSON records with event_type \"alert\": one record, an array, or eve.json lines as forwarded by Fluent Bit, Vector or Logstash. " +
			"Other event types (flow, dns, http, stats…) in the same batch are skipped; a batch without any alert is unmappable.",
		Modes: []enum.ConnectorMode{enum.ConnectorModePush},
		SeverityScale: "alert.severity (the rule's classification priority; 1 is the most severe): 1 → high, 2 → medium, 3 → low, 4 → info. " +
			"Missing or other values → medium.",
		DedupFields: []string{"source", "rule", "src_ip", "dst_ip"},
		Mapping: []FieldMapping{
			{"title", "alert.signature", "Falls back to \"Suricata alert <gid>:<signature_id>\"."},
			{"description", "alert.category, alert.action, proto and the flow's endpoints", "Composed."},
			{"severity", "alert.severity", "See the severity scale."},
			{"external_id", "flow_id", "Several alerts of one flow share it."},
			{"event_time", "timestamp", "Suricata writes +0000 offsets."},
			{"mitre", "alert.metadata.mitre_technique_id[] (Emerging Threats rule metadata)", ""},
			{"tags", "\"action:<alert.action>\", \"proto:<proto>\", app_proto", ""},
			{"attributes.rule", "alert.signature_id", ""},
			{"attributes.category", "alert.category", ""},
			{"attributes.src_ip / dst_ip", "src_ip / dest_ip", ""},
			{"attributes.domain", "http.hostname, tls.sni, dns.rrname, dns.query[0].rrname", ""},
			{"attributes.url", "http.hostname + http.url", ""},
			{"attributes.file_name / file_hash", "fileinfo.filename / fileinfo.sha256, fileinfo.md5", ""},
			{"attributes.email_from / email_to", "email.from / email.to[0]", ""},
		},
		Settings: settingsSchema("Suricata connector settings", nil),
		Map:      s.run,
	}
}

func suricataOne(r record) (Alert, error) {
	o := r.obj
	et := gs(o, "event_type")
	if et == "" {
		return Alert{}, unmappable("not a Suricata EVE record: no event_type")
	}
	if et != "alert" {
		return Alert{}, skip("event_type %q is not an alert", et)
	}
	al := obj(o, "alert")
	if al == nil {
		return Alert{}, unmappable("event_type alert without an alert object")
	}
	a := Alert{
		Title:      gs(al, "signature"),
		ExternalID: gs(o, "flow_id"),
		Severity:   suricataScale.of(al["severity"]),
		EventTime:  firstTime(o, "timestamp"),
	}
	sid := gs(al, "signature_id")
	if a.Title == "" {
		if sid == "" {
			return a, unmappable("alert without signature or signature_id")
		}
		a.Title = "Suricata alert " + first(gs(al, "gid"), "1") + ":" + sid
	}
	var desc []string
	if c := gs(al, "category"); c != "" {
		desc = append(desc, "Category: "+c)
	}
	if act := gs(al, "action"); act != "" {
		desc = append(desc, "Action: "+act)
		a.Tags = append(a.Tags, "action:"+act)
	}
	if p := gs(o, "proto"); p != "" {
		a.Tags = append(a.Tags, "proto:"+strings.ToLower(p))
		src, dst := endpoint(gs(o, "src_ip"), gs(o, "src_port")), endpoint(gs(o, "dest_ip"), gs(o, "dest_port"))
		if src != "" && dst != "" {
			desc = append(desc, "Flow: "+p+" "+src+" → "+dst)
		}
	}
	if ap := gs(o, "app_proto"); ap != "" && ap != "failed" {
		a.Tags = append(a.Tags, ap)
	}
	a.Description = strings.Join(desc, "\n")
	for _, t := range strs(get(al, "metadata.mitre_technique_id")) {
		if id, ok := normTechnique(t); ok {
			a.Mitre = append(a.Mitre, id)
		}
	}
	httpHost := gs(o, "http.hostname")
	var url string
	if httpHost != "" {
		if path := gs(o, "http.url"); strings.HasPrefix(path, "/") {
			url = "http://" + httpHost + path
		}
	}
	at := attrs{}
	at.set(AttrRule, sid)
	at.set(AttrCategory, gs(al, "category"))
	at.set(AttrSrcIP, ipOnly(gs(o, "src_ip")))
	at.set(AttrDstIP, ipOnly(gs(o, "dest_ip")))
	at.set(AttrDomain, httpHost, gs(o, "tls.sni", "dns.rrname", "dns.query.0.rrname", "dns.queries.0.rrname"))
	at.set(AttrURL, url)
	at.set(AttrFileName, baseName(gs(o, "fileinfo.filename")))
	at.set(AttrFileHash, gs(o, "fileinfo.sha256", "fileinfo.sha1", "fileinfo.md5"))
	at.set(AttrEmailFrom, gs(o, "email.from"))
	at.set(AttrEmailTo, gs(o, "email.to"))
	a.Attributes = at
	return a, nil
}

func endpoint(ip, port string) string {
	switch {
	case ip == "":
		return ""
	case port == "":
		return ip
	case strings.Contains(ip, ":"):
		return "[" + ip + "]:" + port
	default:
		return ip + ":" + port
	}
}
