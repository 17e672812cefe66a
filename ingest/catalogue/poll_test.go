package catalogue_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/internal/vendorfake"
	"github.com/seliq/seliq/outbound"
)

type vendor = vendorfake.Vendor

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

func vendors() []vendor { return vendorfake.Vendors() }

func newPoller(t *testing.T, v vendor, settings map[string]any, tokens *catalogue.TokenCache) catalogue.Poller {
	t.Helper()
	p, err := catalogue.NewPoller(v.Key, catalogue.PollConfig{
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
		t.Run(v.Key, func(t *testing.T) {
			t.Run("pages from the look-back, then only what is new", func(t *testing.T) {
				if v.Windows {
					t.Skip("index-time windows: TestSplunkIndexTimeWindows")
				}
				srv := v.Fake(t, v.Creds)
				old := v.Record(0, t0.Add(-2*time.Hour)) // before the look-back
				first := v.Records(1, 11, t0)
				srv.Add(append([]vendorfake.Record{old}, first...)...)
				p := newPoller(t, v, v.Settings(srv.URL), catalogue.NewTokenCache())
				got, cp, err := drain(t, p, "")
				if err != nil {
					t.Fatal(err)
				}
				if !sameIDs(docIDs(t, got), ids(first)) {
					t.Fatalf("first poll read %v, want %v", docIDs(t, got), ids(first))
				}
				// Same second as the last record read, and later ones.
				more := append(v.Records(100, 1, first[len(first)-1].Time), v.Records(200, 5, t0.Add(time.Minute))...)
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
				srv := v.Fake(t, v.Creds)
				srv.Add(v.Records(1, 2, t0)...)
				_, _, err := drain(t, newPoller(t, v, v.Wrong(srv.URL), catalogue.NewTokenCache()), "")
				var pe *catalogue.PollError
				if !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized || !strings.Contains(pe.Error(), "check") {
					t.Fatalf("got %v, want a 401 PollError saying what to check", err)
				}
				if strings.Contains(err.Error(), "guess") || strings.Contains(err.Error(), "stolen") {
					t.Fatalf("the error quotes the credential: %v", err)
				}
			})
			t.Run("429 with Retry-After and a 500 mid-pagination are retried", func(t *testing.T) {
				srv := v.Fake(t, v.Creds)
				recs := v.Records(1, 10, t0)
				srv.Add(recs...)
				srv.RateLimit(0, "0")
				srv.Fail(2, http.StatusInternalServerError)
				got, _, err := drain(t, newPoller(t, v, v.Settings(srv.URL), catalogue.NewTokenCache()), "")
				if err != nil {
					t.Fatal(err)
				}
				if !sameIDs(docIDs(t, got), ids(recs)) {
					t.Fatalf("read %v, want %v", docIDs(t, got), ids(recs))
				}
			})
			t.Run("a long Retry-After ends the poll and says how long", func(t *testing.T) {
				srv := v.Fake(t, v.Creds)
				srv.Add(v.Records(1, 2, t0)...)
				srv.RateLimit(0, "120")
				_, _, err := drain(t, newPoller(t, v, v.Settings(srv.URL), catalogue.NewTokenCache()), "")
				var pe *catalogue.PollError
				if !errors.As(err, &pe) || pe.RetryAfter != 2*time.Minute {
					t.Fatalf("got %v, want a PollError asking for 2m", err)
				}
			})
			t.Run("a 500 that persists fails the page; its checkpoint resumes without loss or repeat", func(t *testing.T) {
				srv := v.Fake(t, v.Creds)
				recs := v.Records(1, 12, t0)
				srv.Add(recs...)
				p := newPoller(t, v, v.Settings(srv.URL), catalogue.NewTokenCache())
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
			if v.OAuth {
				t.Run("a token is reused, refreshed when it expires early", func(t *testing.T) {
					srv := v.Fake(t, v.Creds)
					srv.Add(v.Records(1, 6, t0)...)
					tokens := catalogue.NewTokenCache()
					p := newPoller(t, v, v.Settings(srv.URL), tokens)
					page, err := p.Fetch(context.Background(), "")
					if err != nil {
						t.Fatal(err)
					}
					srv.ExpireTokens()
					if _, _, err := drain(t, p, page.Checkpoint); err != nil {
						t.Fatal(err)
					}
					// A new poller (the next poll) shares the cache.
					if _, _, err := drain(t, newPoller(t, v, v.Settings(srv.URL), tokens), ""); err != nil {
						t.Fatal(err)
					}
					if n := srv.TokensIssued(); n != 2 {
						t.Fatalf("%d tokens issued, want 2 (one, then one after it expired)", n)
					}
				})
			}
			t.Run("polled records map as the same records pushed", func(t *testing.T) {
				srv := v.Fake(t, v.Creds)
				recs := v.Records(1, 7, t0)
				srv.Add(recs...)
				got, _, err := drain(t, newPoller(t, v, v.Settings(srv.URL), catalogue.NewTokenCache()), "")
				if err != nil {
					t.Fatal(err)
				}
				var polled []catalogue.Alert
				for _, d := range got {
					a, err := catalogue.Map(v.Key, d)
					if err != nil {
						t.Fatal(err)
					}
					polled = append(polled, a...)
				}
				// The same records pushed in the vendor's own envelope.
				pushed, err := catalogue.Map(v.Key, v.PushBody(got))
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
		if v.Key != "elastic" && v.Key != "wazuh" {
			continue
		}
		t.Run(v.Key, func(t *testing.T) {
			srv := v.Fake(t, v.Creds)
			keep := v.Records(1, 5, t0)
			drop := v.Record(99, t0)
			switch v.Key {
			case "elastic":
				drop.Doc = json.RawMessage(strings.Replace(string(drop.Doc), `"kibana.alert.workflow_status":"open"`, `"kibana.alert.workflow_status":"closed"`, 1))
			case "wazuh":
				drop.Doc = json.RawMessage(strings.Replace(string(drop.Doc), `"level":14`, `"level":3`, 1))
			}
			srv.Add(append(keep, drop)...)
			got, _, err := drain(t, newPoller(t, v, v.Settings(srv.URL), catalogue.NewTokenCache()), "")
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
		if x.Key == "splunk" {
			v = x
		}
	}
	srv := v.Fake(t, v.Creds)
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
	p := poller(v.Settings(srv.URL))
	first := v.Records(1, 6, t0)
	srv.Add(first...)
	// Indexed after the window closes: the next window's.
	soon := v.Record(50, clock.Add(time.Second))
	srv.Add(soon)
	page, err := p.Fetch(context.Background(), "")
	if err != nil || !page.More || len(page.Records) != 4 {
		t.Fatalf("first page: %d records, more %v, %v", len(page.Records), page.More, err)
	}
	// Another replica resumes the window from the checkpoint.
	rest, cp, err := drain(t, poller(v.Settings(srv.URL)), page.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if got := docIDs(t, append(page.Records, rest...)); !sameIDs(got, ids(first)) {
		t.Fatalf("first window read %v, want %v", got, ids(first))
	}
	late := v.Record(60, clock.Add(2*time.Minute)) // indexed now, happened long ago
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
		s := v.Settings(srv.URL)
		s["app"] = "nope"
		_, _, err := drain(t, poller(s), "")
		var pe *catalogue.PollError
		if !errors.As(err, &pe) || pe.Status != http.StatusNotFound || !strings.Contains(err.Error(), "Application does not exist") {
			t.Fatalf("got %v", err)
		}
	})
}

// TestDefenderNextLinkStaysOnBaseURL: a next link to another host is not
// followed (the bearer token would go with it).
func TestDefenderNextLinkStaysOnBaseURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/token") {
			_, _ = w.Write([]byte(`{"access_token":"t","expires_in":3600}`))
			return
		}
		_, _ = w.Write([]byte(`{"value":[],"@odata.nextLink":"https://collector.example/steal"}`))
	}))
	defer srv.Close()
	settings := map[string]any{"base_url": srv.URL, "authority_url": srv.URL, "tenant_id": "t", "client_id": "c", "client_secret": "s"}
	_, err := newPoller(t, vendorfake.Vendor{Key: "defender"}, settings, catalogue.NewTokenCache()).Fetch(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "nextLink") {
		t.Fatalf("got %v, want the link refused", err)
	}
}
