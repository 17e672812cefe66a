package builtin

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/seliq/seliq/ingest/entities"
)

// Decisions of a rule; a note (0) records a finding and its techniques
// without deciding.
const (
	decideMalicious = 1
	decideNote      = 0
	decideBenign    = -1
)

// ruleHit is a decision rule that fired: an expert's judgement for a whole
// family of alerts, with its ATT&CK mapping and why.
type ruleHit struct {
	name     string
	decision int // decideMalicious or decideBenign
	// defining techniques are what the rule is about and always recorded;
	// supporting ones only when the source gave none.
	defining, supporting []string
	detail               string
	external             bool // the evidence includes an external indicator
	test                 bool // a vendor test or sample alert
}

// ruleInput is what the rules read.
type ruleInput struct {
	headline string // title, rule name, category and finding type, lower-cased
	body     string // every evidence value, lower-cased
	email    bool   // the alert is a mail (its subject is attacker-controlled)
	ev       *evidence
	profile  orgProfile
}

// headlineKeys are the payload fields that say what the detection is.
var headlineKeys = []string{
	"rule", "rulename", "alertname", "signature", "detectname", "types", "category", "classification",
	"riskeventtype", "eventtype", "threatname", "searchname", "threatcategory", "threatcollection", "title",
}

func newRuleInput(ev *evidence, p orgProfile) ruleInput {
	in := ruleInput{ev: ev, profile: p, email: strings.EqualFold(strings.TrimSpace(ev.alert.Source), "email")}
	var h strings.Builder
	h.WriteString(strings.ToLower(clip(ev.alert.Title, maxTitle)))
	for _, kv := range head(ev.facts.fields.values, maxReasonKV) {
		if slices.Contains(headlineKeys, kv.key) && h.Len() < maxRawText {
			h.WriteString("\n" + clip(kv.value, maxTag))
		}
	}
	in.headline = h.String()
	in.body = ev.facts.text + "\n" + ev.facts.fields.plain.String()
	return in
}

func (in ruleInput) any(s string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// Patterns over the lower-cased body. Each starts with a literal, so the
// regexp only runs where it can match.
var (
	reDevTCP      = regexp.MustCompile(`/dev/(tcp|udp)/\d`)
	reNetcatExec  = regexp.MustCompile(`\bnc(at)?(\.traditional|\.openbsd)?\s+(-[a-z]+\s+)*-[a-z]*e\s+\S*(sh|cmd)`)
	reURLInCmd    = regexp.MustCompile(`(?:https?|ftp)://[^\s"'<>()\\]+`)
	reWebshellURL = regexp.MustCompile(`\.(php|aspx?|jsp|jspx|cfm)\?(cmd|exec|c|command|run)=`)
	reEngines     = regexp.MustCompile(`(\d+) engines detected`)
	reTempService = regexp.MustCompile(`(\\windows\\temp\\|\\users\\public\\|\\programdata\\|\\appdata\\local\\temp\\)[^\s"]+\.exe`)
	reK8sNS       = regexp.MustCompile(`k8s\.ns=([a-z0-9-]+)`)
	reEncodedPS   = regexp.MustCompile(`(?:powershell|pwsh)(?:\.exe)?\s[^\n]{0,200}?\s[-/]e(?:nc|ncodedcommand|c)?\s+[a-z0-9+/]{8,}={0,2}`)
)

var (
	webServers  = []string{"w3wp", "httpd", "apache2", "nginx", "php-fpm", "php-cgi", "tomcat", "iis apppool", "lighttpd", "caddy"}
	dbServers   = []string{"sqlservr", "postgres:", "mysqld", "oracle.exe"}
	shells      = []string{"cmd.exe", "cmd /c", "powershell", "pwsh", "/bin/sh", "/bin/bash", "bash -c", "sh -c", "bash"}
	reconCmds   = []string{"whoami", "id;", "uname", "/etc/passwd", "net user", "ipconfig", "net group", "systeminfo", "hostname"}
	platformNSs = []string{"kube-system", "kube-public", "kube-node-lease", "monitoring", "logging", "calico-system", "tigera-operator", "cert-manager", "ingress-nginx", "istio-system", "gatekeeper-system"}
)

// testMarkers are the vendors' documented test and sample alerts: the
// marker, where it is read (title prefix or body) and the documentation.
var testMarkers = []struct{ marker, where, source string }{
	{"[test alert]", "title", "Microsoft Defender for Endpoint: run a detection test on a newly onboarded device"},
	{"test-mdatp-test", "body", "Microsoft Defender for Endpoint: the onboarding detection test command"},
	{"[sample]", "title", "Amazon GuardDuty: sample findings (CreateSampleFindings)"},
	{"crowdstrike_sample_detection", "body", "CrowdStrike Falcon: the sensor test detection command"},
}

// decisionRules evaluates every rule; more than one may fire.
func decisionRules(in ruleInput) []ruleHit {
	var hits []ruleHit
	add := func(h ruleHit, ok bool) {
		if ok {
			hits = append(hits, h)
		}
	}
	add(reverseShell(in))
	add(webShell(in))
	add(lolbinFetch(in))
	add(cloudCredentialsOutside(in))
	add(cloudLoggingDisabled(in))
	add(knownC2(in))
	add(threatIntel(in))
	add(k8sShell(in))
	add(impossibleTravelRule(in))
	add(sessionHijack(in))
	add(mfaFatigue(in))
	add(confirmedCompromise(in))
	add(lookalikePhish(in))
	add(bec(in))
	add(ransomware(in))
	add(credentialDumping(in))
	add(cryptoMining(in))
	add(cloudExfiltration(in))
	add(serviceFromTemp(in))
	add(vendorMalicious(in))
	malicious := slices.ContainsFunc(hits, func(h ruleHit) bool { return h.decision == decideMalicious })
	add(vendorTest(in))
	if !malicious {
		add(adminActivity(in))
		add(ownScanner(in))
		add(internetScanner(in))
		add(noiseSignature(in))
		add(vendorBenign(in))
		add(ownNetworkSignIn(in))
		add(routineLogin(in))
		add(platformNamespace(in))
		add(scheduledBackup(in))
		add(reportedMailKnownSenders(in))
		add(ownSourceRecon(in))
	}
	if !slices.ContainsFunc(hits, func(h ruleHit) bool { return h.decision != 0 }) {
		add(reportedPhish(in))
	}
	add(encodedPowerShell(in))
	return hits
}

// encodedPowerShell notes PowerShell run with an encoded command: it is
// PowerShell execution whatever the payload, and hiding it is obfuscation.
func encodedPowerShell(in ruleInput) (ruleHit, bool) {
	if in.ev.facts.decoded == "" && !in.anyLine(func(l string) bool {
		return in.any(l, "powershell", "pwsh") && reEncodedPS.MatchString(l)
	}) {
		return ruleHit{}, false
	}
	return ruleHit{name: "encoded_powershell", decision: decideNote, detail: "PowerShell ran an encoded command",
		defining: []string{"T1059.001"}, supporting: []string{"T1027"}}, true
}

func hit(name string, decision int, detail string, defining ...string) (ruleHit, bool) {
	return ruleHit{name: name, decision: decision, detail: detail, defining: defining}, true
}

func reverseShell(in ruleInput) (ruleHit, bool) {
	b := in.body
	cmd := reDevTCP.MatchString(b) || strings.Contains(b, "nc") && reNetcatExec.MatchString(b) ||
		strings.Contains(b, "socket.socket") && in.any(b, "subprocess", "pty.spawn", "dup2") ||
		strings.Contains(b, "net.sockets.tcpclient") || strings.Contains(b, "bash -i >&")
	if cmd {
		id := "T1059.004"
		switch {
		case strings.Contains(b, "net.sockets.tcpclient") || strings.Contains(b, "powershell"):
			id = "T1059.001"
		case strings.Contains(b, "cmd.exe") && !strings.Contains(b, "/bin/"):
			id = "T1059.003"
		}
		h, ok := hit("reverse_shell", decideMalicious, "a shell connected back to a remote address (reverse shell)", id)
		h.external = !in.noExternal()
		return h, ok
	}
	if in.any(in.headline, "reverse shell", "reverseshell") {
		return hit("reverse_shell", decideMalicious, "the source detected a reverse shell")
	}
	return ruleHit{}, false
}

func webShell(in ruleInput) (ruleHit, bool) {
	b := in.body
	recon := in.any(b, reconCmds...)
	shell := in.any(b, shells...)
	switch {
	case recon && shell && in.any(b, webServers...):
		return hit("web_shell", decideMalicious, "a web server process ran a shell with reconnaissance commands: a web shell", "T1505.003")
	case strings.Contains(b, "?") && reWebshellURL.MatchString(b) && in.any(in.headline, "200", "success", "web attack"):
		return hit("web_shell", decideMalicious, "a request passing a command to a server script succeeded: a web shell", "T1505.003")
	case recon && shell && in.any(b, dbServers...):
		return hit("server_exploited", decideMalicious, "a database server process ran a shell with reconnaissance commands: the server was exploited")
	}
	return ruleHit{}, false
}

// lolbinFetch: a living-off-the-land binary or a downloader fetching a
// payload from an external location.
func lolbinFetch(in ruleInput) (ruleHit, bool) {
	b := in.body
	type lol struct {
		bin, needs           string
		defining, supporting []string
	}
	lols := []lol{
		{"certutil", "urlcache", []string{"T1105"}, nil},
		{"certutil", "verifyctl", []string{"T1105"}, nil},
		{"bitsadmin", "/transfer", []string{"T1197", "T1105"}, nil},
		{"mshta", "http", []string{"T1218.005"}, nil},
		{"regsvr32", "/i:http", []string{"T1218.010"}, nil},
		{"msbuild", "http", []string{"T1127.001"}, nil},
		{"rundll32", "http", []string{"T1218.011"}, nil},
		{"powershell", "downloadstring", nil, []string{"T1059.001", "T1105"}},
		{"powershell", "downloadfile", nil, []string{"T1059.001", "T1105"}},
		{"powershell", "iwr ", nil, []string{"T1059.001", "T1105"}},
		{"powershell", "invoke-webrequest", nil, []string{"T1059.001", "T1105"}},
		{"curl", " -o ", []string{"T1105"}, nil},
		{"curl", " -s ", []string{"T1105"}, nil},
		{"wget", "http", []string{"T1105"}, nil},
	}
	// The binary, its option and the external URL must sit in one value (a
	// command line), so words scattered over an alert do not add up.
	lines := strings.Split(in.ev.facts.text, "\n")
	for _, kv := range head(in.ev.facts.fields.values, maxReasonKV) {
		lines = append(lines, kv.value)
	}
	if d := in.ev.facts.decoded; d != "" {
		lines = append(lines, "powershell "+strings.ToLower(d))
	}
	for _, l := range lols {
		if !strings.Contains(b, l.bin) || !strings.Contains(b, l.needs) {
			continue
		}
		remote := ""
		for _, line := range lines {
			if strings.Contains(line, l.bin) && strings.Contains(line, l.needs) {
				if remote = externalURL(in, line); remote != "" {
					break
				}
			}
		}
		if remote == "" {
			continue
		}
		h := ruleHit{name: "lolbin_fetch", decision: decideMalicious, external: true,
			detail:   fmt.Sprintf("%s fetched a payload from %s", l.bin, remote),
			defining: l.defining, supporting: l.supporting}
		if l.bin == "curl" || l.bin == "wget" {
			if in.any(b, "sh -c", "bash -c", "&& /tmp/", "| sh", "|sh", "| bash") {
				h.supporting = append(h.supporting, "T1059.004")
			}
		}
		return h, true
	}
	return ruleHit{}, false
}

// anyLine reports whether a line of the alert's text or a payload value
// satisfies f.
func (in ruleInput) anyLine(f func(string) bool) bool {
	for _, l := range strings.Split(in.ev.facts.text, "\n") {
		if f(l) {
			return true
		}
	}
	for _, kv := range head(in.ev.facts.fields.values, maxReasonKV) {
		if f(kv.value) {
			return true
		}
	}
	return false
}

// externalURL is the first URL in s whose host is outside the
// organisation and not a well-known service.
func externalURL(in ruleInput, s string) string {
	for _, m := range reURLInCmd.FindAllString(s, 20) {
		u, err := url.Parse(strings.TrimRight(m, ".,;'\")"))
		if err != nil || u.Hostname() == "" {
			continue
		}
		host := u.Hostname()
		if isInternalIP(host) || in.profile.ownAddr(host) || in.profile.ownDomain(host) || isOwnDomain(host, ownDomains(in.ev.assets)) {
			continue
		}
		if cat, ok := wellKnown.domain(host); ok && cat != wkUserContent {
			continue
		}
		return u.String()
	}
	return ""
}

func cloudCredentialsOutside(in ruleInput) (ruleHit, bool) {
	h := in.headline
	if strings.Contains(h, "instancecredentialexfiltration") ||
		strings.Contains(h, "instance") && strings.Contains(h, "credential") && in.any(h, "outside aws", "outside the cloud", "outside gcp", "outside azure", "external ip") {
		return hit("cloud_credentials_outside", decideMalicious, "credentials issued to a cloud instance were used from outside the cloud", "T1552.005", "T1078.004")
	}
	return ruleHit{}, false
}

func cloudLoggingDisabled(in ruleInput) (ruleHit, bool) {
	h := in.headline
	if (strings.Contains(h, "cloudtrail") && in.any(h, "disabled", "stoplogging", "deletetrail")) || strings.Contains(h, "loggingdisabled") {
		if in.actorIsAdmin() {
			return ruleHit{}, false
		}
		return hit("cloud_logging_disabled", decideMalicious, "cloud audit logging was switched off by an account that is not an administrator", "T1562.008")
	}
	return ruleHit{}, false
}

func knownC2(in ruleInput) (ruleHit, bool) {
	h := in.headline
	if !in.any(h, "et malware", "et trojan", "et cnc", "c&c", "c2_domains", "command and control",
		"command-and-control", "backdoor:", "cobalt strike", "cobaltstrike", "meterpreter") && !containsWord(h, "c2") && !containsWord(h, "cnc") {
		return ruleHit{}, false
	}
	id := "T1071"
	switch {
	case in.any(h, "dns") || in.hasKey("rrname") || in.hasKey("query"):
		id = "T1071.004"
	case in.hasKey("http") || in.hasKey("url") || in.hasKey("tls") || in.hasKey("sni") || in.hasKey("httpuseragent") || in.any(h, "http", "ssl", "tls", "beacon"):
		id = "T1071.001"
	}
	r, ok := hit("known_c2", decideMalicious, "a command-and-control detection fired (known C2 rule or threat intelligence)")
	r.supporting = []string{id}
	return r, ok
}

// hasKey: the payload has a plain field of that (normalised) name.
func (in ruleInput) hasKey(k string) bool {
	for _, kv := range head(in.ev.facts.fields.values, maxReasonKV) {
		if kv.key == k || strings.HasPrefix(kv.key, k) {
			return true
		}
	}
	return false
}

func threatIntel(in ruleInput) (ruleHit, bool) {
	h := in.headline
	if in.any(h, "known malicious", "maliciousipcaller", "malicious ip", "threat list", "malicious url", "malicious file", "malicious domain") {
		return hit("threat_intel", decideMalicious, "threat intelligence or the vendor's reputation service marks the indicator malicious")
	}
	if m := reEngines.FindStringSubmatch(in.body); m != nil {
		if n, _ := strconv.Atoi(m[1]); n >= 5 {
			return hit("threat_intel", decideMalicious, fmt.Sprintf("%d anti-malware engines detect the file", n))
		}
	}
	return ruleHit{}, false
}

// namespace is the Kubernetes namespace the alert names, or "".
func (in ruleInput) namespace() string {
	for _, kv := range head(in.ev.facts.fields.values, maxReasonKV) {
		if kv.key == "k8snsname" || kv.key == "namespace" || kv.key == "targetnamespace" {
			return kv.value
		}
	}
	if m := reK8sNS.FindStringSubmatch(in.body); m != nil {
		return m[1]
	}
	return ""
}

func production(ns string) bool {
	for _, p := range strings.FieldsFunc(ns, func(r rune) bool { return r == '-' || r == '_' }) {
		if p == "prod" || p == "production" || p == "prd" || p == "live" {
			return true
		}
	}
	return false
}

func k8sShell(in ruleInput) (ruleHit, bool) {
	if !in.any(in.headline, "terminal shell in container", "shell was spawned in a container", "shell in container", "exec into pod", "shell in a pod") {
		return ruleHit{}, false
	}
	ns := in.namespace()
	switch {
	case production(ns) && !in.actorIsAdmin():
		return hit("k8s_shell_prod", decideMalicious, fmt.Sprintf("an interactive shell was opened in a container of the production namespace %q", ns), "T1609", "T1059.004")
	case in.actorIsAdmin() && !production(ns):
		return hit("k8s_shell_admin", decideBenign, fmt.Sprintf("an administrator opened a shell in a container of the non-production namespace %q", ns))
	}
	return ruleHit{}, false
}

func impossibleTravelRule(in ruleInput) (ruleHit, bool) {
	if !in.any(in.headline, "impossible travel", "impossibletravel") {
		return ruleHit{}, false
	}
	if in.vendorSaysSafe() || in.fromOwnNetwork() {
		return hit("impossible_travel_explained", decideBenign, "the distant sign-in came from the organisation's own network or the vendor confirmed it safe")
	}
	return hit("impossible_travel", decideMalicious, "the same account signed in from places too far apart to travel between", "T1078.004")
}

func sessionHijack(in ruleInput) (ruleHit, bool) {
	if in.any(in.headline+in.body, "session cookie reused", "session hijack", "sessionreuse\":\"true", "sessionreuse: true", "anomaloustoken", "token replay") ||
		strings.Contains(in.body, "sessionreuse") && strings.Contains(in.body, "true") {
		return hit("session_hijack", decideMalicious, "a session token was replayed from another place: a stolen session", "T1539", "T1550.004")
	}
	return ruleHit{}, false
}

// mfaFatigue: repeated MFA prompts the user keeps refusing.
func mfaFatigue(in ruleInput) (ruleHit, bool) {
	t := in.headline + "\n" + in.body
	if in.any(t, "mfafraud", "mfa fraud", "mfa fatigue", "push bombing", "push fatigue", "fraud reported") {
		return hit("mfa_fatigue", decideMalicious, "the user reported an MFA request as fraud or was flooded with prompts", "T1621")
	}
	if strings.Contains(t, "push") && in.any(t, "denied", "deny", "denial", "reject") {
		if in.countField("push", "denial") >= 5 || in.any(in.headline, "repeated", "multiple") {
			h, ok := hit("mfa_fatigue", decideMalicious, "the user refused repeated MFA push requests: someone who has the password is pushing", "T1621")
			if strings.Contains(in.headline, "factor") && in.any(in.headline, "deactivat", "reset", "removed", "enrolled") {
				h.detail += ", then the MFA factor was replaced"
				h.defining = append(h.defining, "T1556.006")
			}
			return h, ok
		}
	}
	return ruleHit{}, false
}

// countField is the largest number in a plain field whose key contains
// one of the words.
func (in ruleInput) countField(words ...string) int {
	n := 0
	for _, kv := range head(in.ev.facts.fields.values, maxReasonKV) {
		if !in.any(kv.key, words...) {
			continue
		}
		if v, err := strconv.Atoi(strings.TrimSpace(kv.value)); err == nil {
			n = max(n, v)
		}
	}
	return n
}

// containsWord: w occurs in s between non-word characters.
func containsWord(s, w string) bool {
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(w)
		if (i == 0 || !isWordByte(s[i-1])) && (end == len(s) || !isWordByte(s[end])) {
			return true
		}
		off = i + 1
	}
	return false
}

func confirmedCompromise(in ruleInput) (ruleHit, bool) {
	if in.any(in.body, "confirmedcompromised", "adminconfirmedusercompromised") {
		return hit("confirmed_compromise", decideMalicious, "an administrator confirmed the account compromised", "T1078.004")
	}
	return ruleHit{}, false
}

func lookalikePhish(in ruleInput) (ruleHit, bool) {
	own := append(ownDomains(in.ev.assets), in.profile.domains...)
	for _, e := range in.ev.iocs {
		host := e.Value
		switch e.Type {
		case entities.URL:
			if u, err := url.Parse(e.Value); err == nil {
				host = u.Hostname()
			}
		case entities.Email:
			_, host, _ = strings.Cut(e.Value, "@")
		case entities.Domain:
		default:
			continue
		}
		target, ok := lookalike(host, own)
		if !ok {
			continue
		}
		id := "T1566"
		switch {
		case len(valuesOf(in.ev.iocs, entities.URL)) > 0:
			id = "T1566.002"
		case strings.Contains(in.body, "attachment") || len(valuesOf(in.ev.iocs, entities.SHA256, entities.SHA1, entities.MD5)) > 0:
			id = "T1566.001"
		}
		h, _ := hit("lookalike_phishing", decideMalicious, fmt.Sprintf("%s imitates %s", host, target), id)
		h.external = true
		return h, true
	}
	return ruleHit{}, false
}

// bec: a free-mail sender posing as the organisation or an executive asks
// for money.
func bec(in ruleInput) (ruleHit, bool) {
	if !in.email || !in.any(in.body, "wire transfer", "gift card", "bank details", "change of bank", "payment to a new") {
		return ruleHit{}, false
	}
	for _, e := range in.ev.iocs {
		if e.Type != entities.Email {
			continue
		}
		local, dom, _ := strings.Cut(e.Value, "@")
		if cat, ok := wellKnown.domain(dom); !ok || cat != wkMail {
			continue
		}
		for _, d := range in.profile.domains {
			if strings.Contains(local, strings.Split(d, ".")[0]) || in.any(local, "ceo", "cfo", "director", "president") {
				return hit("bec", decideMalicious, fmt.Sprintf("a free-mail sender (%s) poses as the organisation and asks for a payment", e.Value), "T1566")
			}
		}
	}
	return ruleHit{}, false
}

func ransomware(in ruleInput) (ruleHit, bool) {
	b := in.body
	var h ruleHit
	if strings.Contains(b, "vssadmin") && strings.Contains(b, "delete shadows") || strings.Contains(b, "shadowcopy delete") ||
		strings.Contains(b, "recoveryenabled no") || strings.Contains(b, "wbadmin delete catalog") || strings.Contains(b, "delete shadows /all") {
		h, _ = hit("inhibit_recovery", decideMalicious, "shadow copies or the recovery configuration were deleted, as ransomware does before encrypting", "T1490")
	}
	if in.any(in.headline, "ransomware", "ransom note") || strings.Contains(b, "files were encrypted") {
		if h.name == "" {
			h, _ = hit("ransomware", decideMalicious, "ransomware behaviour: files encrypted or a ransomware family detected")
		} else {
			h.name, h.detail = "ransomware", "ransomware: "+h.detail+", and a ransomware family or encryption detected"
		}
		h.defining = append(h.defining, "T1486")
	}
	return h, h.name != ""
}

func credentialDumping(in ruleInput) (ruleHit, bool) {
	b := in.body
	if strings.Contains(b, "lsass") && in.any(b, "procdump", "-ma ", "minidump", "comsvcs", "sekurlsa", "mimikatz", ".dmp") ||
		strings.Contains(b, "sekurlsa::") {
		return hit("lsass_dump", decideMalicious, "LSASS memory was dumped to read credentials", "T1003.001")
	}
	if in.any(b, "dcsync", "replication of directory services", "drsuapi") {
		return hit("dcsync", decideMalicious, "directory replication was requested by a host that is not a domain controller (DCSync)", "T1003.006")
	}
	if strings.Contains(b, "/etc/shadow") && in.any(in.headline, "sensitive file", "untrusted", "credential") {
		return hit("shadow_read", decideMalicious, "an untrusted program read /etc/shadow", "T1003.008")
	}
	return ruleHit{}, false
}

func cryptoMining(in ruleInput) (ruleHit, bool) {
	if in.any(in.body, "stratum+tcp", "xmrig", "cryptonight", "minexmr", "bitcointool", "cryptocurrency:", "mining pool", "coinminer", "cryptominer") {
		return hit("crypto_mining", decideMalicious, "cryptocurrency mining: a miner or a mining pool", "T1496")
	}
	return ruleHit{}, false
}

func cloudExfiltration(in ruleInput) (ruleHit, bool) {
	if strings.Contains(in.body, "rclone") && in.any(in.body, "rclone copy", "rclone.exe copy", "rclone sync", "rclone.exe sync") {
		return hit("cloud_exfiltration", decideMalicious, "rclone copied data to a cloud storage remote", "T1567.002")
	}
	return ruleHit{}, false
}

func serviceFromTemp(in ruleInput) (ruleHit, bool) {
	if in.any(in.headline, "service") && in.any(in.body, "service", "sc create", "new-service") && reTempService.MatchString(in.body) {
		return hit("service_from_temp", decideMalicious, "a service was installed with a binary in a temporary or public folder", "T1543.003")
	}
	return ruleHit{}, false
}

func vendorMalicious(in ruleInput) (ruleHit, bool) {
	for _, v := range in.ev.facts.verdicts {
		k, val, _ := strings.Cut(v, ": ")
		if (k == "confidencelevel" || k == "verdict" || k == "determination") && (val == "malicious" || val == "malware") {
			return hit("vendor_malicious", decideMalicious, "the source's own verdict is "+v)
		}
	}
	return ruleHit{}, false
}

// vendorTest: the vendor's documented test or sample alert, or a public
// anti-malware test file. A mail's subject is the sender's to choose, so
// mails never count.
func vendorTest(in ruleInput) (ruleHit, bool) {
	for _, e := range slices.Concat(in.ev.alert.Entities[:min(len(in.ev.alert.Entities), maxEntities)], in.ev.facts.hidden) {
		if wellKnown.testFiles[strings.ToLower(e.Value)] {
			h, _ := hit("vendor_test", decideBenign, "the file is a public anti-malware test file ("+e.Value+")")
			h.test = true
			return h, true
		}
	}
	if in.email {
		return ruleHit{}, false
	}
	title := strings.ToLower(strings.TrimSpace(in.ev.alert.Title))
	for _, m := range testMarkers {
		if m.where == "title" && strings.HasPrefix(title, m.marker) || m.where == "body" && strings.Contains(in.body, m.marker) {
			h, _ := hit("vendor_test", decideBenign, fmt.Sprintf("a vendor test or sample alert (%s)", m.source))
			h.test = true
			return h, true
		}
	}
	return ruleHit{}, false
}

// actorKeys are payload fields naming the account that acted.
var actorKeys = []string{"auid", "srcuser", "subjectusername", "accountname", "username", "actor", "initiatedby", "processuser"}

// actors are the hosts, accounts and addresses the alert is about, and
// the accounts named in the payload's actor fields.
func (in ruleInput) actors() []string {
	out := valuesOf(in.ev.assets, entities.User, entities.Hostname, entities.IPv4, entities.IPv6)
	for _, kv := range head(in.ev.facts.fields.values, maxReasonKV) {
		if slices.Contains(actorKeys, kv.key) && len(kv.value) <= maxTag {
			out = append(out, kv.value)
		}
	}
	return out
}

func (in ruleInput) actorIsAdmin() bool {
	return slices.ContainsFunc(in.actors(), in.profile.admin)
}

func (in ruleInput) noExternal() bool {
	return len(valuesOf(in.ev.iocs, entities.IPv4, entities.IPv6, entities.Domain, entities.URL)) == 0
}

func adminActivity(in ruleInput) (ruleHit, bool) {
	if !in.noExternal() {
		return ruleHit{}, false
	}
	for _, a := range in.actors() {
		if in.profile.admin(a) {
			return hit("admin_activity", decideBenign, fmt.Sprintf("administrative activity by %s, a known admin host or account, with no external indicator", a))
		}
	}
	return ruleHit{}, false
}

func ownScanner(in ruleInput) (ruleHit, bool) {
	for _, a := range in.actors() {
		if in.profile.scanner(a) {
			return hit("own_scanner", decideBenign, fmt.Sprintf("activity of the organisation's own scanner %s", a))
		}
	}
	return ruleHit{}, false
}

func internetScanner(in ruleInput) (ruleHit, bool) {
	if !in.noExternal() {
		return ruleHit{}, false
	}
	for _, x := range in.ev.excluded {
		if strings.Contains(x.Reason, "scanner") {
			return hit("internet_scanner", decideBenign, fmt.Sprintf("probing by %s, a known internet-wide research scanner", x.Value))
		}
	}
	return ruleHit{}, false
}

func noiseSignature(in ruleInput) (ruleHit, bool) {
	title := strings.ToLower(in.ev.alert.Title)
	// Scan signatures are left out: an internal host scanning is recon
	// unless it is the organisation's scanner (ownScanner).
	for _, p := range []string{"et policy", "et info", "gpl ", "et dns"} {
		if strings.HasPrefix(title, p) && in.noExternal() {
			return hit("policy_signature", decideBenign, fmt.Sprintf("a policy or informational signature (%q) towards the organisation's own or well-known hosts only", strings.TrimSpace(p)))
		}
	}
	return ruleHit{}, false
}

func (in ruleInput) vendorSaysSafe() bool {
	for _, v := range in.ev.facts.verdicts {
		val := valuePart(v)
		if in.any(val, "marked_as_benign", "false_positive", "falsepositive", "benignpositive", "confirmedsigninsafe", "dismissed") {
			return true
		}
	}
	return false
}

func vendorBenign(in ruleInput) (ruleHit, bool) {
	if in.vendorSaysSafe() {
		return hit("vendor_benign", decideBenign, "the source itself marked the activity benign or safe")
	}
	return ruleHit{}, false
}

func (in ruleInput) fromOwnNetwork() bool {
	ips := valuesOf(in.ev.assets, entities.IPv4, entities.IPv6)
	return len(valuesOf(in.ev.iocs, entities.IPv4, entities.IPv6)) == 0 && slices.ContainsFunc(ips, in.profile.ownAddr)
}

func ownNetworkSignIn(in ruleInput) (ruleHit, bool) {
	if in.any(in.headline, "unfamiliar", "new device", "new geo", "atypical", "anomalous sign", "new location") && in.fromOwnNetwork() {
		return hit("own_network_signin", decideBenign, "the unusual sign-in came from the organisation's own network")
	}
	return ruleHit{}, false
}

func routineLogin(in ruleInput) (ruleHit, bool) {
	sev := strings.ToLower(in.ev.alert.Severity)
	if (sev == "low" || sev == "info") && in.any(in.headline, "authentication success", "sign-in succeeded", "accepted publickey", "login success", "successful login") &&
		!in.any(in.body, "=positive", "impossible", "unusual", "anomal", "brute", "spray") {
		return hit("routine_login", decideBenign, "a successful login with no anomaly (usual place and device)")
	}
	return ruleHit{}, false
}

func platformNamespace(in ruleInput) (ruleHit, bool) {
	if ns := in.namespace(); slices.Contains(platformNSs, ns) {
		return hit("platform_namespace", decideBenign, fmt.Sprintf("a platform workload in the %q namespace doing what such agents do", ns))
	}
	return ruleHit{}, false
}

func scheduledBackup(in ruleInput) (ruleHit, bool) {
	b := in.body
	if in.any(b, "wbadmin start backup", "veeamagent", "pg_basebackup", "restic backup", "borg create") && in.any(b, "-scheduled", "schedule", "taskeng", "cron", "nightly", "-quiet") {
		return hit("scheduled_backup", decideBenign, "a scheduled backup job")
	}
	return ruleHit{}, false
}

// reportedMailKnownSenders: a reported mail whose senders and links are all
// the organisation's own or well-known services (not public mail or
// user-content hosts), with no attachment hash.
func reportedMailKnownSenders(in ruleInput) (ruleHit, bool) {
	if !in.email {
		return ruleHit{}, false
	}
	for _, e := range in.ev.iocs {
		if e.Type != entities.Email {
			return ruleHit{}, false
		}
		_, dom, _ := strings.Cut(e.Value, "@")
		if cat, ok := wellKnown.domain(dom); !ok || cat != wkService {
			return ruleHit{}, false
		}
	}
	return hit("reported_mail_known_senders", decideBenign, "the reported message comes from the organisation itself or a well-known service and links only there")
}

// ownSourceRecon: reconnaissance or penetration-test findings whose source
// is the organisation's own network.
func ownSourceRecon(in ruleInput) (ruleHit, bool) {
	if in.any(in.headline, "pentest:", "recon:", "portprobe", "kali") && in.fromOwnNetwork() {
		return hit("own_source_recon", decideBenign, "reconnaissance or penetration-test activity from the organisation's own network")
	}
	return ruleHit{}, false
}

// reportedPhish notes a user-reported mail that no rule decided: what it
// carries says which phishing technique it would be.
func reportedPhish(in ruleInput) (ruleHit, bool) {
	if !in.email {
		return ruleHit{}, false
	}
	switch {
	case len(valuesOf(in.ev.iocs, entities.URL)) > 0:
		return ruleHit{name: "reported_phish", decision: decideNote, detail: "a reported mail with an external link", defining: []string{"T1566.002"}}, true
	case len(valuesOf(in.ev.iocs, entities.SHA256, entities.SHA1, entities.MD5)) > 0:
		return ruleHit{name: "reported_phish", decision: decideNote, detail: "a reported mail with an attachment", defining: []string{"T1566.001"}}, true
	}
	return ruleHit{}, false
}
