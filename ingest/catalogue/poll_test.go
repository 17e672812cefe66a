package catalogue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/internal/vendorfake"
	"github.com/seliq/seliq/outbound"
)

// vendor describes one pollable type for the shared poller tests: its
// fake, its settings, a record at a time, and the body a push of records
// would carry.
type vendor struct {
	key      string
	fake     func(t testing.TB, creds vendorfake.Credentials) *vendorfake.Server
	creds    vendorfake.Credentials
	settings func(base string) map[string]any
	wrong    func(base string) map[string]any // refused credentials
	record   func(i int, at time.Time) vendorfake.Record
	pushBody func(docs []json.RawMessage) []byte
	oauth    bool   // tokens expire and are refreshed
	windows  bool   // reads windows of index time, not of the records' own time (Splunk)
	apiPath  string // the path a 429 or 500 is scripted on
}

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

func vendors() []vendor {
	return []vendor{
		{
			key: "sentinelone", fake: vendorfake.SentinelOne,
			creds: vendorfake.Credentials{Token: "s1-token"},
			settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "api_token": "s1-token"}
			},
			wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "api_token": "stolen"}
			},
			record: func(i int, at time.Time) vendorfake.Record {
				id := fmt.Sprintf("19%05d", i)
				doc := fmt.Sprintf(`{"id":%q,"threatInfo":{"threatId":%q,"threatName":"Ransom.%d.exe","confidenceLevel":"malicious","createdAt":%q,"sha256":"%064x","filePath":"C:\\Users\\bob\\Ransom.%d.exe","classification":"Ransomware"},"agentRealtimeInfo":{"agentComputerName":"ws-%d"},"agentDetectionInfo":{"agentIpV4":"10.0.0.%d"}}`,
					id, id, i, at.Format(time.RFC3339Nano), i, i, i%7, i%250+1)
				return vendorfake.Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			pushBody: func(docs []json.RawMessage) []byte {
				b, _ := json.Marshal(map[string]any{"data": docs})
				return b
			},
			apiPath: "/web/api/v2.1/threats",
		},
		{
			key: "crowdstrike", fake: vendorfake.CrowdStrike,
			creds: vendorfake.Credentials{ClientID: "cs-id", ClientSecret: "cs-secret"},
			settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "client_id": "cs-id", "client_secret": "cs-secret", "filter": "status:'new'"}
			},
			wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "client_id": "cs-id", "client_secret": "guess"}
			},
			record: func(i int, at time.Time) vendorfake.Record {
				id := fmt.Sprintf("cid0:ind:aid%d:%d", i%5, i)
				doc := fmt.Sprintf(`{"composite_id":%q,"created_timestamp":%q,"display_name":"CredentialTheft %d","description":"LSASS read","severity":%d,"tactic":"Credential Access","technique":"OS Credential Dumping","technique_id":"T1003","device":{"hostname":"srv-%d","local_ip":"10.1.0.%d"},"user_name":"svc%d","cmdline":"procdump -ma lsass.exe","sha256":"%064x","filename":"procdump.exe"}`,
					id, at.Format(time.RFC3339Nano), i, 30+i%70, i%9, i%250+1, i%3, i)
				return vendorfake.Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			pushBody: func(docs []json.RawMessage) []byte {
				b, _ := json.Marshal(map[string]any{"resources": docs})
				return b
			},
			oauth:   true,
			apiPath: "/alerts/queries/alerts/v2",
		},
		{
			key: "defender",
			fake: func(t testing.TB, creds vendorfake.Credentials) *vendorfake.Server {
				return vendorfake.Graph(t, creds, "contoso.onmicrosoft.com")
			},
			creds: vendorfake.Credentials{ClientID: "app-id", ClientSecret: "app-secret"},
			settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "authority_url": base, "tenant_id": "contoso.onmicrosoft.com",
					"client_id": "app-id", "client_secret": "app-secret", "filter": "severity ne 'informational'"}
			},
			wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "authority_url": base, "tenant_id": "contoso.onmicrosoft.com", "client_id": "app-id", "client_secret": "guess"}
			},
			record: func(i int, at time.Time) vendorfake.Record {
				id := fmt.Sprintf("da63%014d_%d", i, i)
				doc := fmt.Sprintf(`{"id":%q,"title":"Suspicious PowerShell command line %d","description":"A suspicious PowerShell activity was observed.","severity":"high","status":"new","category":"Execution","serviceSource":"microsoftDefenderForEndpoint","detectionSource":"antivirus","createdDateTime":%q,"mitreTechniques":["T1059.001"],"evidence":[{"@odata.type":"#microsoft.graph.security.deviceEvidence","deviceDnsName":"ws-%d.contoso.com"},{"@odata.type":"#microsoft.graph.security.userEvidence","userAccount":{"accountName":"user%d"}},{"@odata.type":"#microsoft.graph.security.processEvidence","processCommandLine":"powershell.exe -enc SQBFAFgA","imageFile":{"fileName":"powershell.exe","sha256":"%064x"}}]}`,
					id, i, at.Format("2006-01-02T15:04:05.0000000Z"), i%6, i%4, i)
				return vendorfake.Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			pushBody: func(docs []json.RawMessage) []byte {
				b, _ := json.Marshal(map[string]any{"value": docs})
				return b
			},
			oauth:   true,
			apiPath: "/v1.0/security/alerts_v2",
		},
		{
			key: "splunk",
			fake: func(t testing.TB, creds vendorfake.Credentials) *vendorfake.Server {
				return vendorfake.Splunk(t, creds, "SplunkEnterpriseSecuritySuite")
			},
			creds: vendorfake.Credentials{Token: "splunk-token"},
			settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "token": "splunk-token", "search": "`notable` | search status=new", "app": "SplunkEnterpriseSecuritySuite"}
			},
			wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "token": "stolen", "search": "index=notable"}
			},
			record: func(i int, at time.Time) vendorfake.Record {
				id := fmt.Sprintf("E4A1%06d", i)
				doc := fmt.Sprintf(`{"_time":%q,"event_id":%q,"rule_name":"Brute Force Access Behavior Detected %d","urgency":"high","src":"198.51.100.%d","dest":"web-%d","user":"admin%d","mitre_technique_id":"T1110"}`,
					at.Format(time.RFC3339), id, i, i%250+1, i%5, i%3)
				return vendorfake.Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			pushBody: func(docs []json.RawMessage) []byte {
				b, _ := json.Marshal(map[string]any{"results": docs})
				return b
			},
			windows: true,
			apiPath: "/servicesNS/-/SplunkEnterpriseSecuritySuite/search/jobs",
		},
		{
			key: "elastic", fake: vendorfake.Elastic,
			creds: vendorfake.Credentials{Token: "ZWxhc3RpYzprZXk="},
			settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "api_key": "ZWxhc3RpYzprZXk=", "query": "kibana.alert.workflow_status:open"}
			},
			wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "api_key": "stolen"}
			},
			record: func(i int, at time.Time) vendorfake.Record {
				id := fmt.Sprintf("%08x-0000-4000-8000-%012d", i, i)
				doc := fmt.Sprintf(`{"@timestamp":%q,"kibana.alert.uuid":%q,"kibana.alert.workflow_status":"open","kibana.alert.rule.name":"Suspicious PowerShell %d","kibana.alert.reason":"process event on host-%d","kibana.alert.severity":"high","kibana.alert.risk_score":73,"kibana.alert.rule.threat":[{"technique":[{"id":"T1059","subtechnique":[{"id":"T1059.001"}]}]}],"host":{"name":"host-%d"},"user":{"name":"u%d"},"process":{"name":"powershell.exe","command_line":"powershell -enc SQBFAFgA"},"source":{"ip":"10.2.0.%d"}}`,
					at.Format("2006-01-02T15:04:05.000Z07:00"), id, i, i%4, i%4, i%3, i%250+1)
				return vendorfake.Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			pushBody: searchResponse,
			apiPath:  "/_search",
		},
		{
			key: "wazuh", fake: vendorfake.WazuhIndexer,
			creds: vendorfake.Credentials{User: "seliq", Password: "indexer-pw"},
			settings: func(base string) map[string]any {
				return map[string]any{"base_url": base, "username": "seliq", "password": "indexer-pw", "min_level": 5}
			},
			wrong: func(base string) map[string]any {
				return map[string]any{"base_url": base, "username": "seliq", "password": "guess"}
			},
			record: func(i int, at time.Time) vendorfake.Record {
				id := fmt.Sprintf("1764576000.%d", 1000+i)
				doc := fmt.Sprintf(`{"timestamp":%q,"id":%q,"rule":{"level":%d,"description":"sshd: authentication failed %d","id":"5760","groups":["syslog","sshd","authentication_failed"],"mitre":{"id":["T1110"]}},"agent":{"id":"00%d","name":"web-%d"},"data":{"srcip":"203.0.113.%d","dstuser":"root"},"full_log":"Failed password for root from 203.0.113.%d"}`,
					at.Format("2006-01-02T15:04:05.000Z07:00"), id, 5+i%10, i, i%9, i%9, i%250+1, i%250+1)
				return vendorfake.Record{ID: id, Time: at, Doc: json.RawMessage(doc)}
			},
			pushBody: searchResponse,
			apiPath:  "/wazuh-alerts-*/_search",
		},
	}
}

// searchResponse is an Elasticsearch/OpenSearch search answer over hits.
func searchResponse(hits []json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"hits": map[string]any{"hits": hits}})
	return b
}

// records makes n records from start, two per timestamp (ties are where
// time checkpoints lose or repeat).
func (v vendor) records(from, n int, start time.Time) []vendorfake.Record {
	out := make([]vendorfake.Record, n)
	for i := range n {
		out[i] = v.record(from+i, start.Add(time.Duration(i/2)*time.Second))
	}
	return out
}

func newPoller(t *testing.T, v vendor, settings map[string]any, tokens *catalogue.TokenCache) catalogue.Poller {
	t.Helper()
	p, err := catalogue.NewPoller(v.key, catalogue.PollConfig{
		Settings: settings,
		HTTP:     vendorfake.Policy().Client(outbound.ClientOptions{Timeout: 10 * time.Second}),
		Since:    t0.Add(-time.Hour),
		Tokens:   tokens, TokenKey: "connector-1",
		Backoff: time.Millisecond, PageSize: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// drain fetches until caught up and returns the records' ids and the
// final checkpoint.
func drain(t *testing.T, p catalogue.Poller, checkpoint string) ([]json.RawMessage, string, error) {
	t.Helper()
	var got []json.RawMessage
	for range 100 {
		page, err := p.Fetch(context.Background(), checkpoint)
		if err != nil {
			return got, checkpoint, err
		}
		got = append(got, page.Records...)
		checkpoint = page.Checkpoint
		if !page.More {
			return got, checkpoint, nil
		}
	}
	t.Fatal("paging does not end")
	return nil, "", nil
}

// ids are the records' ids in the vendors' order: by time, then id.
func ids(recs []vendorfake.Record) []string {
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b vendorfake.Record) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func docIDs(t *testing.T, docs []json.RawMessage) []string {
	t.Helper()
	out := make([]string, len(docs))
	for i, d := range docs {
		var o struct {
			ID          string `json:"id"`
			CompositeID string `json:"composite_id"`
			HitID       string `json:"_id"`
			EventID     string `json:"event_id"`
		}
		if err := json.Unmarshal(d, &o); err != nil {
			t.Fatal(err)
		}
		out[i] = o.ID + o.CompositeID + o.HitID + o.EventID
	}
	return out
}

func TestPollers(t *testing.T) {
	for _, v := range vendors() {
		t.Run(v.key, func(t *testing.T) {
			t.Run("pages from the look-back, then only what is new", func(t *testing.T) {
				if v.windows {
					t.Skip("index-time windows: TestSplunkIndexTimeWindows")
				}
				srv := v.fake(t, v.creds)
				old := v.record(0, t0.Add(-2*time.Hour)) // before the look-back
				first := v.records(1, 11, t0)
				srv.Add(append([]vendorfake.Record{old}, first...)...)
				p := newPoller(t, v, v.settings(srv.URL), catalogue.NewTokenCache())
				got, cp, err := drain(t, p, "")
				if err != nil {
					t.Fatal(err)
				}
				if !sameIDs(docIDs(t, got), ids(first)) {
					t.Fatalf("first poll read %v, want %v", docIDs(t, got), ids(first))
				}
				// Same second as the last record read, and later ones.
				more := append(v.records(100, 1, first[len(first)-1].Time), v.records(200, 5, t0.Add(time.Minute))...)
				srv.Add(more...)
				got, cp, err = drain(t, p, cp)
				if err != nil {
					t.Fatal(err)
				}
				if !sameIDs(docIDs(t, got), ids(more)) {
					t.Fatalf("second poll read %v, want %v", docIDs(t, got), ids(more))
				}
				if got, _, _ = drain(t, p, cp); len(got) != 0 {
					t.Fatalf("a poll with nothing new read %v", docIDs(t, got))
				}
			})
			t.Run("refused credentials in words", func(t *testing.T) {
				srv := v.fake(t, v.creds)
				srv.Add(v.records(1, 2, t0)...)
				_, _, err := drain(t, newPoller(t, v, v.wrong(srv.URL), catalogue.NewTokenCache()), "")
				var pe *catalogue.PollError
				if !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized || !strings.Contains(pe.Error(), "check") {
					t.Fatalf("got %v, want a 401 PollError saying what to check", err)
				}
				if strings.Contains(err.Error(), "guess") || strings.Contains(err.Error(), "stolen") {
					t.Fatalf("the error quotes the credential: %v", err)
				}
			})
			t.Run("429 with Retry-After and a 500 mid-pagination are retried", func(t *testing.T) {
				srv := v.fake(t, v.creds)
				recs := v.records(1, 10, t0)
				srv.Add(recs...)
				srv.RateLimit(0, "0")
				srv.Fail(2, http.StatusInternalServerError)
				got, _, err := drain(t, newPoller(t, v, v.settings(srv.URL), catalogue.NewTokenCache()), "")
				if err != nil {
					t.Fatal(err)
				}
				if !sameIDs(docIDs(t, got), ids(recs)) {
					t.Fatalf("read %v, want %v", docIDs(t, got), ids(recs))
				}
			})
			t.Run("a long Retry-After ends the poll and says how long", func(t *testing.T) {
				srv := v.fake(t, v.creds)
				srv.Add(v.records(1, 2, t0)...)
				srv.RateLimit(0, "120")
				_, _, err := drain(t, newPoller(t, v, v.settings(srv.URL), catalogue.NewTokenCache()), "")
				var pe *catalogue.PollError
				if !errors.As(err, &pe) || pe.RetryAfter != 2*time.Minute {
					t.Fatalf("got %v, want a PollError asking for 2m", err)
				}
			})
			t.Run("a 500 that persists fails the page; its checkpoint resumes without loss or repeat", func(t *testing.T) {
				srv := v.fake(t, v.creds)
				recs := v.records(1, 12, t0)
				srv.Add(recs...)
				p := newPoller(t, v, v.settings(srv.URL), catalogue.NewTokenCache())
				page, err := p.Fetch(context.Background(), "")
				if err != nil || !page.More {
					t.Fatalf("first page: %v more=%v", err, page.More)
				}
				for range 3 {
					srv.Fail(0, http.StatusInternalServerError)
				}
				_, err = p.Fetch(context.Background(), page.Checkpoint)
				var pe *catalogue.PollError
				if !errors.As(err, &pe) || pe.Status != http.StatusInternalServerError {
					t.Fatalf("got %v, want the 500", err)
				}
				rest, _, err := drain(t, p, page.Checkpoint)
				if err != nil {
					t.Fatal(err)
				}
				all := append(slices.Clone(page.Records), rest...)
				if !sameIDs(docIDs(t, all), ids(recs)) {
					t.Fatalf("read %v, want %v", docIDs(t, all), ids(recs))
				}
			})
			if v.oauth {
				t.Run("a token is reused, refreshed when it expires early", func(t *testing.T) {
					srv := v.fake(t, v.creds)
					srv.Add(v.records(1, 6, t0)...)
					tokens := catalogue.NewTokenCache()
					p := newPoller(t, v, v.settings(srv.URL), tokens)
					page, err := p.Fetch(context.Background(), "")
					if err != nil {
						t.Fatal(err)
					}
					srv.ExpireTokens()
					if _, _, err := drain(t, p, page.Checkpoint); err != nil {
						t.Fatal(err)
					}
					// A new poller (the next poll) shares the cache.
					if _, _, err := drain(t, newPoller(t, v, v.settings(srv.URL), tokens), ""); err != nil {
						t.Fatal(err)
					}
					if n := srv.TokensIssued(); n != 2 {
						t.Fatalf("%d tokens issued, want 2 (one, then one after it expired)", n)
					}
				})
			}
			t.Run("polled records map as the same records pushed", func(t *testing.T) {
				srv := v.fake(t, v.creds)
				recs := v.records(1, 7, t0)
				srv.Add(recs...)
				got, _, err := drain(t, newPoller(t, v, v.settings(srv.URL), catalogue.NewTokenCache()), "")
				if err != nil {
					t.Fatal(err)
				}
				var polled []catalogue.Alert
				for _, d := range got {
					a, err := catalogue.Map(v.key, d)
					if err != nil {
						t.Fatal(err)
					}
					polled = append(polled, a...)
				}
				// The same records pushed in the vendor's own envelope.
				pushed, err := catalogue.Map(v.key, v.pushBody(got))
				if err != nil {
					t.Fatal(err)
				}
				if len(polled) != len(recs) || !reflect.DeepEqual(polled, pushed) {
					t.Fatalf("polled alerts differ from pushed ones:\n%+v\n%+v", polled, pushed)
				}
			})
		})
	}
}

// TestSearchPollerFilters: Elastic's Lucene query and Wazuh's min_level
// reach the engine, and Elastic's point in time is closed once caught up.
func TestSearchPollerFilters(t *testing.T) {
	for _, v := range vendors() {
		if v.key != "elastic" && v.key != "wazuh" {
			continue
		}
		t.Run(v.key, func(t *testing.T) {
			srv := v.fake(t, v.creds)
			keep := v.records(1, 5, t0)
			drop := v.record(99, t0)
			switch v.key {
			case "elastic":
				drop.Doc = json.RawMessage(strings.Replace(string(drop.Doc), `"kibana.alert.workflow_status":"open"`, `"kibana.alert.workflow_status":"closed"`, 1))
			case "wazuh":
				drop.Doc = json.RawMessage(strings.Replace(string(drop.Doc), `"level":14`, `"level":3`, 1))
			}
			srv.Add(append(keep, drop)...)
			got, _, err := drain(t, newPoller(t, v, v.settings(srv.URL), catalogue.NewTokenCache()), "")
			if err != nil {
				t.Fatal(err)
			}
			if !sameIDs(docIDs(t, got), ids(keep)) {
				t.Fatalf("read %v, want %v", docIDs(t, got), ids(keep))
			}
			if n := srv.OpenPITs(); n != 0 {
				t.Fatalf("%d points in time left open", n)
			}
		})
	}
}

// sameIDs compares as sets: vendors page in their own order (Graph newest
// first), and each record must come exactly once.
func sameIDs(got, want []string) bool {
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}

// TestSplunkIndexTimeWindows: Splunk is read by index time, in windows
// fixed when they open, so late events count and a resumed window
// neither repeats nor skips.
func TestSplunkIndexTimeWindows(t *testing.T) {
	var v vendor
	for _, x := range vendors() {
		if x.key == "splunk" {
			v = x
		}
	}
	srv := v.fake(t, v.creds)
	clock := t0.Add(10 * time.Minute)
	poller := func(settings map[string]any) catalogue.Poller {
		p, err := catalogue.NewPoller("splunk", catalogue.PollConfig{
			Settings: settings, HTTP: vendorfake.Policy().Client(outbound.ClientOptions{Timeout: 10 * time.Second}),
			Since: t0.Add(-time.Hour), Backoff: time.Millisecond, PageSize: 4, Now: func() time.Time { return clock },
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := poller(v.settings(srv.URL))
	first := v.records(1, 6, t0)
	srv.Add(first...)
	// Indexed after the window closes: the next window's.
	soon := v.record(50, clock.Add(time.Second))
	srv.Add(soon)
	page, err := p.Fetch(context.Background(), "")
	if err != nil || !page.More || len(page.Records) != 4 {
		t.Fatalf("first page: %d records, more %v, %v", len(page.Records), page.More, err)
	}
	// Another replica resumes the window from the checkpoint.
	rest, cp, err := drain(t, poller(v.settings(srv.URL)), page.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if got := docIDs(t, append(page.Records, rest...)); !sameIDs(got, ids(first)) {
		t.Fatalf("first window read %v, want %v", got, ids(first))
	}
	late := v.record(60, clock.Add(2*time.Minute)) // indexed now, happened long ago
	late.Doc = json.RawMessage(strings.Replace(string(late.Doc), clock.Add(2*time.Minute).Format(time.RFC3339), t0.Add(-48*time.Hour).Format(time.RFC3339), 1))
	srv.Add(late)
	clock = clock.Add(5 * time.Minute)
	got, _, err := drain(t, p, cp)
	if err != nil {
		t.Fatal(err)
	}
	if !sameIDs(docIDs(t, got), []string{soon.ID, late.ID}) {
		t.Fatalf("second window read %v, want the event indexed after the first and the late one", docIDs(t, got))
	}
	t.Run("unknown app in words", func(t *testing.T) {
		s := v.settings(srv.URL)
		s["app"] = "nope"
		_, _, err := drain(t, poller(s), "")
		var pe *catalogue.PollError
		if !errors.As(err, &pe) || pe.Status != http.StatusNotFound || !strings.Contains(err.Error(), "Application does not exist") {
			t.Fatalf("got %v", err)
		}
	})
}
