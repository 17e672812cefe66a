package builtin

// techniqueRule maps ATT&CK technique to the text that reveals it. The
// text searched is the lower-cased title, description, tags and selected
// vendor fields (command lines, process and file names, signatures).
//
// Keywords match whole words ("lsass" matches "lsass.exe" but not
// "lsassy"); a trailing "*" makes a keyword a word prefix ("exfiltrat*").
// Patterns are regular expressions over the same lower-cased text; each
// must start with a literal (checked by TestTechniqueTable) so it is only
// run when that literal occurs.
//
// A parent technique (T1566) is dropped when one of its sub-techniques
// (T1566.001) also matched.
type techniqueRule struct {
	ID       string
	Name     string
	Tactic   string
	Keywords []string
	Patterns []string
}

// tacticWeights is how much one technique of a tactic pushes towards
// malicious: the later in the kill chain and the more damaging, the more.
var tacticWeights = map[string]float64{
	"reconnaissance":       0.05,
	"discovery":            0.10,
	"collection":           0.15,
	"initial-access":       0.20,
	"execution":            0.20,
	"persistence":          0.20,
	"defense-evasion":      0.20,
	"privilege-escalation": 0.25,
	"lateral-movement":     0.25,
	"credential-access":    0.30,
	"command-and-control":  0.30,
	"exfiltration":         0.30,
	"impact":               0.35,
	"resource-development": 0.05,
	tacticUnknown:          0.15, // a matrix technique outside the table
}

var techniqueTable = []techniqueRule{
	// Reconnaissance and initial access.
	{ID: "T1595.002", Name: "Active Scanning: Vulnerability Scanning", Tactic: "reconnaissance",
		Keywords: []string{"vulnerability scan*", "nikto", "openvas", "nessus", "nuclei", "acunetix"}},
	{ID: "T1566", Name: "Phishing", Tactic: "initial-access",
		Keywords: []string{"phish*"}},
	{ID: "T1566.001", Name: "Phishing: Spearphishing Attachment", Tactic: "initial-access",
		Keywords: []string{"malicious attachment*", "malicious file removed after delivery", "malicious file*"},
		Patterns: []string{`phish[a-z]*\b.{0,80}\battach`, `attachment.{0,60}\.(docm|xlsm|iso|img|one|hta|html?|zip|lnk|js)\b`}},
	{ID: "T1566.002", Name: "Phishing: Spearphishing Link", Tactic: "initial-access",
		Keywords: []string{"credential harvesting", "malicious url*", "malicious link*"},
		Patterns: []string{`phish[a-z]*\b.{0,80}\b(link|url)`}},
	{ID: "T1190", Name: "Exploit Public-Facing Application", Tactic: "initial-access",
		Keywords: []string{"sql injection", "sqli", "log4shell", "log4j", "path traversal", "directory traversal", "remote code execution", "exploit attempt*", "web attack"},
		Patterns: []string{`\$\{jndi:`}},
	{ID: "T1189", Name: "Drive-by Compromise", Tactic: "initial-access",
		Keywords: []string{"drive-by", "exploit kit"}},
	{ID: "T1078", Name: "Valid Accounts", Tactic: "initial-access",
		Keywords: []string{"impossible travel", "atypical travel", "unfamiliar sign-in*", "anomalous sign-in*", "anomalous login*", "sign-in from an anonymous ip", "leaked credentials", "compromised credentials"}},

	// Execution.
	{ID: "T1059.001", Name: "Command and Scripting Interpreter: PowerShell", Tactic: "execution",
		Keywords: []string{"encodedcommand", "suspicious powershell", "invoke-expression"},
		Patterns: []string{`powershell[^\n]{0,200}\s[-/](e|en|enc|enco|encod|encode|encoded)\s`, `pwsh[^\n]{0,200}\s-(e|en|enc)\s`, `powershell[^\n]{0,300}(downloadstring|downloadfile|iex\b|frombase64string|-nop\b|-w(indowstyle)? hidden)`}},
	{ID: "T1059.003", Name: "Command and Scripting Interpreter: Windows Command Shell", Tactic: "execution",
		Patterns: []string{`cmd(\.exe)?"?\s+/[ck]\s`}},
	{ID: "T1059.004", Name: "Command and Scripting Interpreter: Unix Shell", Tactic: "execution",
		Keywords: []string{"reverse shell"},
		Patterns: []string{`/dev/tcp/`, `curl [^\n|]{0,200}\|\s*(ba|z)?sh\b`, `wget [^\n|]{0,200}\|\s*(ba|z)?sh\b`}},
	{ID: "T1059.005", Name: "Command and Scripting Interpreter: Visual Basic", Tactic: "execution",
		Keywords: []string{"vba macro*", "malicious macro*"},
		Patterns: []string{`wscript(\.exe)?[^\n]{0,200}\.vbs\b`, `cscript(\.exe)?[^\n]{0,200}\.vbs\b`}},
	{ID: "T1059.007", Name: "Command and Scripting Interpreter: JavaScript", Tactic: "execution",
		Patterns: []string{`wscript(\.exe)?[^\n]{0,200}\.(js|jse)\b`, `cscript(\.exe)?[^\n]{0,200}\.(js|jse)\b`}},
	{ID: "T1204.002", Name: "User Execution: Malicious File", Tactic: "execution",
		Keywords: []string{"user opened*", "user executed*", "opened the attachment", "office application spawned*"},
		Patterns: []string{`winword\.exe[^\n]{0,300}(powershell|cmd\.exe|wscript|mshta|rundll32)`, `excel\.exe[^\n]{0,300}(powershell|cmd\.exe|wscript|mshta|rundll32)`}},
	{ID: "T1047", Name: "Windows Management Instrumentation", Tactic: "execution",
		Keywords: []string{"wmic", "invoke-wmimethod", "wmiprvse"},
		Patterns: []string{`win32_process[^\n]{0,40}create`}},
	{ID: "T1569.002", Name: "System Services: Service Execution", Tactic: "execution",
		Keywords: []string{"psexesvc", "remcomsvc"}},

	// Persistence.
	{ID: "T1053.005", Name: "Scheduled Task/Job: Scheduled Task", Tactic: "persistence",
		Keywords: []string{"scheduled task", "register-scheduledtask", "new-scheduledtask*"},
		Patterns: []string{`schtasks(\.exe)?[^\n]{0,40}/create`}},
	{ID: "T1053.003", Name: "Scheduled Task/Job: Cron", Tactic: "persistence",
		Keywords: []string{"crontab", "/etc/cron*"}},
	{ID: "T1547.001", Name: "Boot or Logon Autostart Execution: Registry Run Keys / Startup Folder", Tactic: "persistence",
		Keywords: []string{"run key", "startup folder"},
		Patterns: []string{`currentversion\\run(once)?\b`}},
	{ID: "T1136", Name: "Create Account", Tactic: "persistence",
		Keywords: []string{"user account was created", "new user account", "account created", "new admin*", "new administrator*"}},
	{ID: "T1136.001", Name: "Create Account: Local Account", Tactic: "persistence",
		Keywords: []string{"useradd", "adduser", "new local user", "new local admin*"},
		Patterns: []string{`net1?(\.exe)? user [^\n]{0,80}/add\b`}},
	{ID: "T1136.002", Name: "Create Account: Domain Account", Tactic: "persistence",
		Keywords: []string{"new domain user", "new domain admin*", "new-aduser"},
		Patterns: []string{`net1?(\.exe)? user [^\n]{0,80}/add[^\n]{0,20}/domain`}},
	{ID: "T1136.003", Name: "Create Account: Cloud Account", Tactic: "persistence",
		Keywords: []string{"createuser", "iam user created", "add user to directory"}},
	{ID: "T1098", Name: "Account Manipulation", Tactic: "persistence",
		Keywords: []string{"add-adgroupmember", "added to domain admins", "added to administrators", "member added to security-enabled global group", "add member to role"},
		Patterns: []string{`net1?(\.exe)? (local)?group [^\n]{0,60}/add\b`}},
	{ID: "T1543.003", Name: "Create or Modify System Process: Windows Service", Tactic: "persistence",
		Keywords: []string{"new-service", "service was installed", "new service installed"},
		Patterns: []string{`sc(\.exe)? (\\\\\S+ )?create\s`}},
	{ID: "T1505.003", Name: "Server Software Component: Web Shell", Tactic: "persistence",
		Keywords: []string{"webshell", "web shell", "china chopper"}},

	// Privilege escalation and defence evasion.
	{ID: "T1548.002", Name: "Abuse Elevation Control Mechanism: Bypass User Account Control", Tactic: "privilege-escalation",
		Keywords: []string{"uac bypass", "bypass uac", "fodhelper"}},
	{ID: "T1068", Name: "Exploitation for Privilege Escalation", Tactic: "privilege-escalation",
		Keywords: []string{"privilege escalation exploit*", "local privilege escalation", "pwnkit", "dirty pipe", "dirtypipe", "dirty cow"}},
	{ID: "T1055", Name: "Process Injection", Tactic: "defense-evasion",
		Keywords: []string{"process injection", "createremotethread", "process hollowing", "reflective dll", "reflective loader", "injected into*"}},
	{ID: "T1562.001", Name: "Impair Defenses: Disable or Modify Tools", Tactic: "defense-evasion",
		Keywords: []string{"disablerealtimemonitoring", "tamper protection", "defender disabled", "antivirus disabled", "disable defender", "disabled windows defender", "security tool disabled"},
		Patterns: []string{`set-mppreference[^\n]{0,80}-disable`, `stop-service[^\n]{0,20}(windefend|sense\b|mpssvc)`, `sc(\.exe)? stop[^\n]{0,20}(windefend|sense\b|mpssvc)`, `net stop[^\n]{0,20}(windefend|sense\b|mpssvc)`, `add-mppreference[^\n]{0,40}-exclusionpath`}},
	{ID: "T1070.001", Name: "Indicator Removal: Clear Windows Event Logs", Tactic: "defense-evasion",
		Keywords: []string{"clear-eventlog", "audit log was cleared", "security log cleared", "event log cleared"},
		Patterns: []string{`wevtutil(\.exe)?"?\s+cl\s`}},
	{ID: "T1218.005", Name: "System Binary Proxy Execution: Mshta", Tactic: "defense-evasion",
		Keywords: []string{"mshta"}},
	{ID: "T1218.010", Name: "System Binary Proxy Execution: Regsvr32", Tactic: "defense-evasion",
		Keywords: []string{"regsvr32", "squiblydoo"}},
	{ID: "T1218.011", Name: "System Binary Proxy Execution: Rundll32", Tactic: "defense-evasion",
		Keywords: []string{"rundll32"}},
	{ID: "T1027", Name: "Obfuscated Files or Information", Tactic: "defense-evasion",
		Keywords: []string{"obfuscat*", "frombase64string"}},
	{ID: "T1140", Name: "Deobfuscate/Decode Files or Information", Tactic: "defense-evasion",
		Patterns: []string{`certutil(\.exe)?[^\n]{0,40}-decode`}},

	// Credential access.
	{ID: "T1003.001", Name: "OS Credential Dumping: LSASS Memory", Tactic: "credential-access",
		Keywords: []string{"mimikatz", "sekurlsa*", "lsass", "nanodump", "lsassy"},
		Patterns: []string{`comsvcs(\.dll)?[^\n]{0,40}minidump`, `procdump[^\n]{0,80}lsass`}},
	{ID: "T1003.002", Name: "OS Credential Dumping: Security Account Manager", Tactic: "credential-access",
		Patterns: []string{`reg(\.exe)? save hklm\\sam`, `reg(\.exe)? save hklm\\system`}},
	{ID: "T1003.003", Name: "OS Credential Dumping: NTDS", Tactic: "credential-access",
		Keywords: []string{"ntds.dit", "ntdsutil"}},
	{ID: "T1003.006", Name: "OS Credential Dumping: DCSync", Tactic: "credential-access",
		Keywords: []string{"dcsync", "lsadump::dcsync", "directory replication from non-dc*"}},
	{ID: "T1110", Name: "Brute Force", Tactic: "credential-access",
		Keywords: []string{"brute force", "brute-force", "bruteforce", "failed password for", "authentication failures", "excessive failed*", "multiple failed*", "many failed*", "repeated failed*", "failed login attempts", "failed logon attempts"}},
	{ID: "T1110.003", Name: "Brute Force: Password Spraying", Tactic: "credential-access",
		Keywords: []string{"password spray*"}},
	{ID: "T1110.004", Name: "Brute Force: Credential Stuffing", Tactic: "credential-access",
		Keywords: []string{"credential stuffing"}},
	{ID: "T1558.003", Name: "Steal or Forge Kerberos Tickets: Kerberoasting", Tactic: "credential-access",
		Keywords: []string{"kerberoast*", "rubeus"}},
	{ID: "T1621", Name: "Multi-Factor Authentication Request Generation", Tactic: "credential-access",
		Keywords: []string{"mfa fatigue", "mfa bombing", "push fatigue", "push bombing", "push spam", "deny_push", "denied push*", "rejected push*", "push notifications were rejected", "push notifications were denied"}},
	{ID: "T1557.001", Name: "Adversary-in-the-Middle: LLMNR/NBT-NS Poisoning and SMB Relay", Tactic: "credential-access",
		Keywords: []string{"llmnr poisoning", "nbt-ns poisoning", "smb relay", "ntlmrelayx"}},

	// Discovery.
	{ID: "T1046", Name: "Network Service Discovery", Tactic: "discovery",
		Keywords: []string{"port scan*", "portscan*", "nmap", "masscan", "syn scan", "et scan"}},
	{ID: "T1087.002", Name: "Account Discovery: Domain Account", Tactic: "discovery",
		Keywords: []string{"sharphound", "bloodhound", "adfind"},
		Patterns: []string{`net1?(\.exe)? (user|group) [^\n]{0,40}/domain`}},
	{ID: "T1018", Name: "Remote System Discovery", Tactic: "discovery",
		Keywords: []string{"ping sweep", "net view"}},
	{ID: "T1033", Name: "System Owner/User Discovery", Tactic: "discovery",
		Keywords: []string{"whoami"}},

	// Lateral movement.
	{ID: "T1021.001", Name: "Remote Services: Remote Desktop Protocol", Tactic: "lateral-movement",
		Keywords: []string{"rdp lateral movement", "mstsc", "rdp session from*"}},
	{ID: "T1021.002", Name: "Remote Services: SMB/Windows Admin Shares", Tactic: "lateral-movement",
		Keywords: []string{"psexec", "smbexec", "admin$", "admin share*"},
		Patterns: []string{`\\\\[a-z0-9._-]+\\(admin|c)\$`}},
	{ID: "T1021.006", Name: "Remote Services: Windows Remote Management", Tactic: "lateral-movement",
		Keywords: []string{"winrm", "wsmprovhost", "enter-pssession", "evil-winrm"},
		Patterns: []string{`invoke-command[^\n]{0,80}-computername`}},
	{ID: "T1550.002", Name: "Use Alternate Authentication Material: Pass the Hash", Tactic: "lateral-movement",
		Keywords: []string{"pass the hash", "pass-the-hash", "sekurlsa::pth", "overpass-the-hash"}},

	// Collection.
	{ID: "T1560.001", Name: "Archive Collected Data: Archive via Utility", Tactic: "collection",
		Patterns: []string{`7z(a|\.exe)? a [^\n]{0,200}-p`, `rar(\.exe)? a [^\n]{0,200}-hp`}},
	{ID: "T1114.003", Name: "Email Collection: Email Forwarding Rule", Tactic: "collection",
		Keywords: []string{"forwarding rule", "new-inboxrule", "suspicious inbox rule*", "inbox forwarding"}},

	// Command and control.
	{ID: "T1071.001", Name: "Application Layer Protocol: Web Protocols", Tactic: "command-and-control",
		Keywords: []string{"cobalt strike", "cobaltstrike", "beacon*", "c2 server", "c2 traffic", "c2 communication", "command and control", "sliver implant", "meterpreter", "callback to"}},
	{ID: "T1071.004", Name: "Application Layer Protocol: DNS", Tactic: "command-and-control",
		Keywords: []string{"dns tunnel*", "dnscat*", "iodine", "dns exfiltration", "high entropy dns", "long dns quer*"}},
	{ID: "T1105", Name: "Ingress Tool Transfer", Tactic: "command-and-control",
		Keywords: []string{"downloadstring", "downloadfile", "invoke-webrequest", "ingress tool transfer"},
		Patterns: []string{`certutil(\.exe)?[^\n]{0,40}-urlcache`, `bitsadmin(\.exe)?[^\n]{0,40}/transfer`}},
	{ID: "T1572", Name: "Protocol Tunneling", Tactic: "command-and-control",
		Keywords: []string{"ngrok", "chisel", "plink", "protocol tunnel*"}},
	{ID: "T1568.002", Name: "Dynamic Resolution: Domain Generation Algorithms", Tactic: "command-and-control",
		Keywords: []string{"dga", "domain generation algorithm*"}},
	{ID: "T1090.003", Name: "Proxy: Multi-hop Proxy", Tactic: "command-and-control",
		Keywords: []string{"tor exit node", "tor relay", "tor network", "onion router"}},

	// Exfiltration.
	{ID: "T1041", Name: "Exfiltration Over C2 Channel", Tactic: "exfiltration",
		Keywords: []string{"data exfiltration", "exfiltration over c2", "exfiltrat*"}},
	{ID: "T1048", Name: "Exfiltration Over Alternative Protocol", Tactic: "exfiltration",
		Patterns: []string{`exfiltrat[a-z]*\b[^\n]{0,60}\b(ftp|sftp|smtp|icmp|dns)\b`, `large (outbound|upload)[^\n]{0,60}\b(ftp|sftp|smtp|icmp)\b`}},
	{ID: "T1567.002", Name: "Exfiltration Over Web Service: Exfiltration to Cloud Storage", Tactic: "exfiltration",
		Keywords: []string{"rclone", "megasync", "mega.nz"},
		Patterns: []string{`upload(ed)? to (dropbox|google drive|onedrive|mega|box\.com)`}},

	// Impact.
	{ID: "T1486", Name: "Data Encrypted for Impact", Tactic: "impact",
		Keywords: []string{"ransomware", "ransom note", "files encrypted", "encrypted files", "mass file encryption", "lockbit", "blackcat", "ryuk", "akira"}},
	{ID: "T1490", Name: "Inhibit System Recovery", Tactic: "impact",
		Keywords: []string{"shadow copy deletion", "shadow copies deleted", "deleted shadow copies", "shadowcopy delete"},
		Patterns: []string{`vssadmin(\.exe)?"?\s+delete\s+shadows`, `wbadmin(\.exe)?"?\s+delete`, `bcdedit[^\n]{0,60}recoveryenabled\s+no`}},
	{ID: "T1489", Name: "Service Stop", Tactic: "impact",
		Patterns: []string{`net1?(\.exe)? stop [^\n]{0,40}(sql|veeam|backup|exchange)`}},
	{ID: "T1485", Name: "Data Destruction", Tactic: "impact",
		Keywords: []string{"wiper", "data destruction"}},
	{ID: "T1498", Name: "Network Denial of Service", Tactic: "impact",
		Keywords: []string{"ddos", "denial of service", "syn flood", "udp flood"}},
	{ID: "T1496", Name: "Resource Hijacking", Tactic: "impact",
		Keywords: []string{"cryptominer", "coinminer", "coin miner", "xmrig", "cryptojacking", "cryptocurrency mining"}},
}
