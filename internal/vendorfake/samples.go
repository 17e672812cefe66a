package vendorfake

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// Vendor describes one pollable connector type for tests: its fake, the
// connector settings that reach it, sample records in the vendor's
// documented shape, and the body a push of such records carries.
type Vendor struct {
	Key      string
	Fake     func(t testing.TB, creds Credentials) *Server
	Creds    Credentials
	Settings func(base string) map[string]any
	Wrong    func(base string) map[string]any // refused credentials
	Record   func(i int, at time.Time) Record
	PushBody func(docs []json.RawMessage) []byte
	OAuth    bool   // tokens expire and are refreshed
	Windows  bool   // reads windows of index time, not of the records' own time (Splunk)
	APIPath  string // the query API's path
}

// Vendors are the six pollable types.
func Vendors() []Vendor {
	return []Vendor{
		{
			Key: "sentinelone", Fake: SentinelOne,
			Creds: Credentials{Token: "s1-token"},
			Settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "api_token": "s1-token"}
			},
			Wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "api_token": "stolen"}
			},
			Record: func(i int, at time.Time) Record {
				id := fmt.Sprintf("19%05d", i)
				doc := fmt.Sprintf(`{"id":%q,"threatInfo":{"threatId":%q,"threatName":"Ransom.%d.exe","confidenceLevel":"malicious","createdAt":%q,"sha256":"%064x","filePath":"C:\\Users\\bob\\Ransom.%d.exe","classification":"Ransomware"},"agentRealtimeInfo":{"agentComputerName":"ws-%d"},"agentDetectionInfo":{"agentIpV4":"10.0.0.%d"}}`,
					id, id, i, at.Format(time.RFC3339Nano), i, i, i%7, i%250+1)
				return Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			PushBody: func(docs []json.RawMessage) []byte {
				b, _ := json.Marshal(map[string]any{"data": docs})
				return b
			},
			APIPath: "/web/api/v2.1/threats",
		},
		{
			Key: "crowdstrike", Fake: CrowdStrike,
			Creds: Credentials{ClientID: "cs-id", ClientSecret: "cs-secret"},
			Settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "client_id": "cs-id", "client_secret": "cs-secret", "filter": "status:'new'"}
			},
			Wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "client_id": "cs-id", "client_secret": "guess"}
			},
			Record: func(i int, at time.Time) Record {
				id := fmt.Sprintf("cid0:ind:aid%d:%d", i%5, i)
				doc := fmt.Sprintf(`{"composite_id":%q,"created_timestamp":%q,"display_name":"CredentialTheft %d","description":"LSASS read","severity":%d,"tactic":"Credential Access","technique":"OS Credential Dumping","technique_id":"T1003","device":{"hostname":"srv-%d","local_ip":"10.1.0.%d"},"user_name":"svc%d","cmdline":"procdump -ma lsass.exe","sha256":"%064x","filename":"procdump.exe"}`,
					id, at.Format(time.RFC3339Nano), i, 30+i%70, i%9, i%250+1, i%3, i)
				return Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			PushBody: func(docs []json.RawMessage) []byte {
				b, _ := json.Marshal(map[string]any{"resources": docs})
				return b
			},
			OAuth:   true,
			APIPath: "/alerts/queries/alerts/v2",
		},
		{
			Key: "defender",
			Fake: func(t testing.TB, creds Credentials) *Server {
				return Graph(t, creds, "contoso.onmicrosoft.com")
			},
			Creds: Credentials{ClientID: "app-id", ClientSecret: "app-secret"},
			Settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "authority_url": base, "tenant_id": "contoso.onmicrosoft.com",
					"client_id": "app-id", "client_secret": "app-secret", "filter": "severity ne 'informational'"}
			},
			Wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "authority_url": base, "tenant_id": "contoso.onmicrosoft.com", "client_id": "app-id", "client_secret": "guess"}
			},
			Record: func(i int, at time.Time) Record {
				id := fmt.Sprintf("da63%014d_%d", i, i)
				doc := fmt.Sprintf(`{"id":%q,"title":"Suspicious PowerShell command line %d","description":"A suspicious PowerShell activity was observed.","severity":"high","status":"new","category":"Execution","serviceSource":"microsoftDefenderForEndpoint","detectionSource":"antivirus","createdDateTime":%q,"mitreTechniques":["T1059.001"],"evidence":[{"@odata.type":"#microsoft.graph.security.deviceEvidence","deviceDnsName":"ws-%d.contoso.com"},{"@odata.type":"#microsoft.graph.security.userEvidence","userAccount":{"accountName":"user%d"}},{"@odata.type":"#microsoft.graph.security.processEvidence","processCommandLine":"powershell.exe -enc SQBFAFgA","imageFile":{"fileName":"powershell.exe","sha256":"%064x"}}]}`,
					id, i, at.Format("2006-01-02T15:04:05.0000000Z"), i%6, i%4, i)
				return Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			PushBody: func(docs []json.RawMessage) []byte {
				b, _ := json.Marshal(map[string]any{"value": docs})
				return b
			},
			OAuth:   true,
			APIPath: "/v1.0/security/alerts_v2",
		},
		{
			Key: "splunk",
			Fake: func(t testing.TB, creds Credentials) *Server {
				return Splunk(t, creds, "SplunkEnterpriseSecuritySuite")
			},
			Creds: Credentials{Token: "splunk-token"},
			Settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "token": "splunk-token", "search": "`notable` | search status=new", "app": "SplunkEnterpriseSecuritySuite"}
			},
			Wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "token": "stolen", "search": "index=notable"}
			},
			Record: func(i int, at time.Time) Record {
				id := fmt.Sprintf("E4A1%06d", i)
				doc := fmt.Sprintf(`{"_time":%q,"event_id":%q,"rule_name":"Brute Force Access Behavior Detected %d","urgency":"high","src":"198.51.100.%d","dest":"web-%d","user":"admin%d","mitre_technique_id":"T1110"}`,
					at.Format(time.RFC3339), id, i, i%250+1, i%5, i%3)
				return Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			PushBody: func(docs []json.RawMessage) []byte {
				b, _ := json.Marshal(map[string]any{"results": docs})
				return b
			},
			Windows: true,
			APIPath: "/servicesNS/-/SplunkEnterpriseSecuritySuite/search/jobs",
		},
		{
			Key: "elastic", Fake: Elastic,
			Creds: Credentials{Token: "ZWxhc3RpYzprZXk="},
			Settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "api_key": "ZWxhc3RpYzprZXk=", "query": "kibana.alert.workflow_status:open"}
			},
			Wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "api_key": "stolen"}
			},
			Record: func(i int, at time.Time) Record {
				id := fmt.Sprintf("%08x-0000-4000-8000-%012d", i, i)
				doc := fmt.Sprintf(`{"@timestamp":%q,"kibana.alert.uuid":%q,"kibana.alert.workflow_status":"open","kibana.alert.rule.name":"Suspicious PowerShell %d","kibana.alert.reason":"process event on host-%d","kibana.alert.severity":"high","kibana.alert.risk_score":73,"kibana.alert.rule.threat":[{"technique":[{"id":"T1059","subtechnique":[{"id":"T1059.001"}]}]}],"host":{"name":"host-%d"},"user":{"name":"u%d"},"process":{"name":"powershell.exe","command_line":"powershell -enc SQBFAFgA"},"source":{"ip":"10.2.0.%d"}}`,
					at.Format("2006-01-02T15:04:05.000Z07:00"), id, i, i%4, i%4, i%3, i%250+1)
				return Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			PushBody: SearchResponse,
			APIPath:  "/_search",
		},
		{
			Key: "wazuh", Fake: WazuhIndexer,
			Creds: Credentials{User: "seliq", Password: "indexer-pw"},
			Settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "username": "seliq", "password": "indexer-pw", "min_level": 5}
			},
			Wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "username": "seliq", "password": "guess"}
			},
			Record: func(i int, at time.Time) Record {
				id := fmt.Sprintf("1764576000.%d", 1000+i)
				doc := fmt.Sprintf(`{"timestamp":%q,"id":%q,"rule":{"level":%d,"description":"sshd: authentication failed %d","id":"5760","groups":["syslog","sshd","authentication_failed"],"mitre":{"id":["T1110"]}},"agent":{"id":"00%d","name":"web-%d"},"data":{"srcip":"203.0.113.%d","dstuser":"root"},"full_log":"Failed password for root from 203.0.113.%d"}`,
					at.Format("2006-01-02T15:04:05.000Z07:00"), id, 5+i%10, i, i%9, i%9, i%250+1, i%250+1)
				return Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			PushBody: SearchResponse,
			APIPath:  "/wazuh-alerts-*/_search",
		},
	}
}

// SearchResponse is an Elasticsearch/OpenSearch search answer over hits.
func SearchResponse(hits []json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"hits": map[string]any{"hits": hits}})
	return b
}

// Records makes n records numbered from `from`, two per second from start
// (ties are where time checkpoints lose or repeat).
func (v Vendor) Records(from, n int, start time.Time) []Record {
	out := make([]Record, n)
	for i := range n {
		out[i] = v.Record(from+i, start.Add(time.Duration(i/2)*time.Second))
	}
	return out
}
