package catalogue_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/internal/vendorfake"
	"github.com/seliq/seliq/outbound"
)

// FuzzPollAnswer: whatever a vendor answers (any body, status, Retry-After)
// and whatever checkpoint is stored, every poller returns a page or an
// error, never panics, and never reports more records than the answer
// could hold.
func FuzzPollAnswer(f *testing.F) {
	f.Add(`{"data":[{"id":"1","threatInfo":{"createdAt":"2026-12-01T08:00:00Z"}}],"pagination":{"nextCursor":"x"}}`, 200, "", "")
	f.Add(`{"resources":["a","b"],"meta":{"pagination":{"total":9}}}`, 200, "", `{"since":"2026-12-01T08:00:00Z","seen":["a"]}`)
	f.Add(`{"value":[{"id":"x","createdDateTime":"2026-12-01T08:00:00Z"}],"@odata.nextLink":"http://evil.example/x"}`, 200, "", "")
	f.Add(`{"hits":{"hits":[{"_id":"1","_index":"i","sort":["1764576000000","1",3]}]},"pit_id":"p"}`, 200, "", `{"since":"x"}`)
	f.Add(`{"results":[{"_time":"x"}]}`, 200, "", `{"from":-1,"to":5,"offset":-3}`)
	f.Add(`{"errors":[{"message":"slow down"}]}`, 429, "Thu, 01 Jan 1970 00:00:00 GMT", "")
	f.Add("not json", 503, "-5", "null")
	var (
		mu     sync.Mutex
		body   string
		status int
		retry  string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/token") {
			_, _ = w.Write([]byte(`{"access_token":"t","expires_in":3600}`))
			return
		}
		mu.Lock()
		b, st, ra := body, status, retry
		mu.Unlock()
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		w.WriteHeader(st)
		_, _ = w.Write([]byte(b))
	}))
	f.Cleanup(srv.Close)
	client := vendorfake.Policy().Client(outbound.ClientOptions{Timeout: 5 * time.Second})
	f.Fuzz(func(t *testing.T, answer string, code int, retryAfter, checkpoint string) {
		if code < 200 || code > 599 {
			code = 200
		}
		mu.Lock()
		body, status, retry = answer, code, retryAfter
		mu.Unlock()
		for _, v := range vendorfake.Vendors() {
			p, err := catalogue.NewPoller(v.Key, catalogue.PollConfig{
				Settings: v.Settings(srv.URL), HTTP: client, Since: time.Unix(0, 0),
				Backoff: time.Microsecond, PageSize: 2,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			page, err := p.Fetch(ctx, checkpoint)
			cancel()
			if err == nil && len(page.Records) > len(answer) {
				t.Fatalf("%s: %d records from a %d-byte answer", v.Key, len(page.Records), len(answer))
			}
		}
	})
}
