package builtin

// Signal tables: the words that move the score besides ATT&CK techniques.
// All matching is on lower-cased text.

// knownBadTags are alert tags that a connector or an upstream rule sets
// only for confirmed-bad activity.
var knownBadTags = []string{
	"malware", "ransomware", "trojan", "backdoor", "c2", "apt", "exploit",
	"threat-intel", "ioc-match", "confirmed", "true-positive",
}

// verdictKeys are vendor payload fields (lower-cased, separators removed)
// that carry the vendor's own verdict or enforcement action.
var verdictKeys = []string{
	"verdict", "action", "disposition", "classification", "determination",
	"confidencelevel", "threatconfidence", "mitigationstatus", "remediationstatus",
	"patterndispositiondescription", "threattypes", "threattype", "threatstatus",
	"detectiontype", "analystverdict", "riskstate", "riskdetail",
}

// maliciousWords in a verdict field mean the vendor judged the activity
// malicious; enforcedWords mean it acted on it (which is only done for
// activity it considers bad).
var (
	maliciousWords = []string{"malicious", "malware", "truepositive", "true_positive", "true positive", "ransomware", "trojan", "phish"}
	enforcedWords  = []string{"blocked", "quarantin", "prevent", "killed", "mitigated", "remediated", "drop", "removed"}
)

// textKeys are vendor payload fields searched for techniques alongside the
// title, description and tags: what ran, what fired and what was sent.
var textKeys = []string{
	"commandline", "cmdline", "processcommandline", "parentcommandline",
	"initiatingprocesscommandline", "initiatingprocessparentfilename",
	"parentprocesscommandline", "grandparentcommandline",
	"filename", "imagefilename", "parentimagefilename", "image", "parentimage",
	"processname", "parentprocessname", "parentbasefilename", "originalfilename",
	"signature", "signaturename", "rulename", "alertname", "threatname",
	"threatfamilyname", "malwarefamily", "category", "tactic", "technique",
	"techniqueid", "techniques", "mitretechniques", "eventtype", "eventaction",
	"attachmentname", "attachmentnames", "subject", "query", "rrname",
	"displaymessage", "message", "reason",
}

// noiseKeywords mark scanner, policy and informational signatures: real
// traffic, rarely an attack by themselves.
var noiseKeywords = []string{
	"et policy", "et info", "et scan", "gpl ", "et dns", "heartbeat",
	"test alert", "health check", "informational",
}

// infraSources are monitoring systems whose alerts are about availability
// rather than threats.
var infraSources = []string{
	"alertmanager", "prometheus", "grafana", "zabbix", "nagios", "icinga",
	"datadog", "uptime", "new relic", "cloudwatch alarm",
}

// infraKeywords are availability and capacity conditions.
var infraKeywords = []string{
	"nodedown", "node down", "instancedown", "instance down", "targetdown",
	"target down", "host unreachable", "disk full", "diskfull", "disk space",
	"high cpu", "cpu usage", "memory pressure", "out of memory", "oomkilled",
	"crashloopbackoff", "kubepodcrashlooping", "kubepodnotready", "watchdog",
	"probe failed", "certificate expir", "latency", "backup job failed",
	"service unavailable", "deadmanswitch", "forwarder missing", "has not sent data",
	"stopped sending", "no data received", "agent disconnected", "license expir",
}

// hashKeys are fields that hold file hashes: their values are evidence even
// where the key would otherwise read as an id ("sha256" under "fileDetails").
var hashKeys = []string{
	"sha256", "sha1", "md5", "sha256string", "sha1string", "md5string", "hash", "hashes",
	"filehash", "sha256after", "sha1after", "md5after", "imphashfile",
}

// notIDKeys end like ids but hold names: Okta's login ("alternateId").
var notIDKeys = []string{"alternateid", "displayid"}

// idKeys are fields (besides names ending in id, uid, uuid, guid, ids,
// idstring or fingerprint, or naming a version) whose values are record ids,
// fingerprints or opaque tokens: never indicators.
var idKeys = []string{
	"sid", "storyline", "offset", "groupkey", "fingerprint", "ja3", "ja3s", "ja4", "ja4s", "hassh",
	"hasshserver", "imphash", "pehash", "thumbprint", "serial", "etag", "transaction",
	"externalsessionid", "arn", "communityid", "flowid", "eventid", "messageid", "serialnumber",
}

// refKeys are fields (besides names ending in link, weburl, reference(s) or
// starting with runbook) that link to a console, documentation or schema.
var refKeys = []string{
	"srcurl", "generatorurl", "externalurl", "odatacontext", "schema", "odatatype", "documentation",
	"docs", "helpurl", "consoleurl", "permalink", "resultslink", "detailsurl", "reportlink",
}
