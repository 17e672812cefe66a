package mailin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/auth"
	"github.com/seliq/seliq/connectors"
	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/alert"
	"github.com/seliq/seliq/ent/deadletter"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/ingest"
	"github.com/seliq/seliq/ingest/mailin"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

const ownAddress = "seliq@provider.test"

// rig is one database with two organisations, each with an inbound token.
type rig struct {
	db       *storage.DB
	rcv      *mailin.Receiver
	conns    *connectors.Service
	adminA   context.Context
	adminB   context.Context
	orgA     *ent.Organization
	orgB     *ent.Organization
	tokenA   string
	tokenB   string
	ingested *ingest.Service
}

func newRig(t *testing.T, db *storage.DB, cfg mailin.Config) *rig {
	t.Helper()
	r := &rig{db: db, conns: connectors.New(db.Client, testenv.Box(t))}
	r.orgA = testenv.Org(t, db, testenv.Slug("org-a"))
	r.orgB = testenv.Org(t, db, testenv.Slug("org-b"))
	r.adminA, _ = testenv.UserContext(t, db, r.orgA, enum.RoleAdmin, testenv.Email("admin@a.test"), testenv.Handle("admin-a"))
	r.adminB, _ = testenv.UserContext(t, db, r.orgB, enum.RoleAdmin, testenv.Email("admin@b.test"), testenv.Handle("admin-b"))
	r.tokenA = r.rotate(t, r.adminA)
	r.tokenB = r.rotate(t, r.adminB)
	cfg.OwnAddresses = func(context.Context, uuid.UUID) []string { return []string{ownAddress} }
	r.ingested = ingest.New(db, ingest.Options{})
	r.rcv = mailin.NewReceiver(r.ingested, auth.New(db.Client, auth.Config{}), cfg)
	return r
}

// rotate makes a new inbound token for the admin's organisation and
// returns it (the URL's last segment).
func (r *rig) rotate(t *testing.T, ctx context.Context) string {
	t.Helper()
	tok, err := r.conns.RotateInboundEmailToken(ctx)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if !strings.HasPrefix(tok.URL, connectors.InboundEmailPath) || tok.Connector.Type != "email" {
		t.Fatalf("rotation answer: %+v", tok)
	}
	return strings.TrimPrefix(tok.URL, connectors.InboundEmailPath)
}

// post delivers body as the mail service would.
func (r *rig) post(t *testing.T, token, ctype, body string) (*mailin.Result, error) {
	t.Helper()
	ctx, c, err := r.rcv.Authenticate(context.Background(), token)
	if err != nil {
		return nil, err
	}
	return r.rcv.Receive(ctx, c, ctype, []byte(body))
}

func (r *rig) alerts(t *testing.T, ctx context.Context) []*ent.Alert {
	t.Helper()
	l, err := r.db.Client.Alert.Query().Order(ent.Asc(alert.FieldFirstSeenAt)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func code(err error) apperr.Code {
	if e, ok := apperr.As(err); ok {
		return e.Code
	}
	return ""
}

func mail(from, id, extra string) string {
	return "From: " + from + "\r\nTo: soc@a.test\r\nSubject: Suspicious invoice\r\nMessage-ID: <" + id + ">\r\n" + extra +
		"\r\nPlease check https://invoice.example.com/pay from 203.0.113.50\r\n"
}

// TestReceive: a raw message becomes an alert of the token's organisation
// only, with its entities; the same Message-ID merges; the loop guard and
// allowed senders ignore; malformed mail is refused and kept.
func TestReceive(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		r := newRig(t, db, mailin.Config{})
		res, err := r.post(t, r.tokenA, "message/rfc822", mail("Mallory <mallory@evil.test>", "m1@evil.test", ""))
		if err != nil || res.Created != 1 || res.Format != mailin.FormatMIME {
			t.Fatalf("first delivery: %+v %v", res, err)
		}
		got := r.alerts(t, r.adminA)
		if len(got) != 1 {
			t.Fatalf("org A alerts: %d", len(got))
		}
		a := got[0]
		if a.Title != "Suspicious invoice" || a.Source != "email" || a.ExternalID != "m1@evil.test" || a.OrganizationID != r.orgA.ID ||
			a.Attributes["email_from"] != "mallory@evil.test" {
			t.Errorf("alert: %+v", a)
		}
		var values []string
		for _, e := range a.Entities {
			values = append(values, e.Type+":"+e.Value)
		}
		for _, want := range []string{"email:mallory@evil.test", "email:soc@a.test", "url:https://invoice.example.com/pay", "ipv4:203.0.113.50"} {
			if !strings.Contains(strings.Join(values, " "), want) {
				t.Errorf("entity %s missing from %v", want, values)
			}
		}
		if n := len(r.alerts(t, r.adminB)); n != 0 {
			t.Errorf("org B sees %d alerts of org A's mail", n)
		}

		// The same message again (a service's retry): merged by Message-ID.
		res, err = r.post(t, r.tokenA, "message/rfc822", mail("Mallory <mallory@evil.test>", "m1@evil.test", ""))
		if err != nil || res.Merged != 1 {
			t.Fatalf("redelivery: %+v %v", res, err)
		}
		// Another message with the same subject and sender is another alert.
		if res, err = r.post(t, r.tokenA, "message/rfc822", mail("mallory@evil.test", "m2@evil.test", "")); err != nil || res.Created != 1 {
			t.Fatalf("second message: %+v %v", res, err)
		}

		// Org B's token files into org B.
		if res, err = r.post(t, r.tokenB, "message/rfc822", mail("x@evil.test", "b1@evil.test", "")); err != nil || res.Created != 1 {
			t.Fatalf("org B delivery: %+v %v", res, err)
		}
		if a, b := len(r.alerts(t, r.adminA)), len(r.alerts(t, r.adminB)); a != 2 || b != 1 {
			t.Errorf("alerts: org A %d (want 2), org B %d (want 1)", a, b)
		}

		// Loop guard and allowed senders: answered, nothing filed.
		for _, tt := range []struct{ name, raw, want string }{
			{"auto-reply", mail("ooo@evil.test", "l1@x", "Auto-Submitted: auto-replied\r\n"), "Auto-Submitted: auto-replied"},
			{"bulk", mail("news@evil.test", "l2@x", "Precedence: bulk\r\n"), "Precedence: bulk"},
			{"our own address", mail("Seliq <"+strings.ToUpper(ownAddress)+">", "l3@x", ""), "sent from Seliq's own address " + ownAddress},
		} {
			res, err := r.post(t, r.tokenA, "message/rfc822", tt.raw)
			if err != nil || res.Ignored != tt.want || res.Result != nil {
				t.Errorf("%s: %+v %v, want ignored %q", tt.name, res, err, tt.want)
			}
		}
		if n := len(r.alerts(t, r.adminA)); n != 2 {
			t.Errorf("ignored mail filed alerts: %d", n)
		}

		// Malformed: 422 and a dead letter holding the payload.
		_, err = r.post(t, r.tokenA, "message/rfc822", "this is not an email")
		if code(err) != apperr.BadInput {
			t.Fatalf("malformed: %v", err)
		}
		dls, err := db.Client.DeadLetter.Query().Where(deadletter.PayloadEQ("this is not an email")).All(r.adminA)
		if err != nil || len(dls) != 1 || !strings.Contains(dls[0].Reason, "malformed email") {
			t.Errorf("dead letters: %+v %v", dls, err)
		}
		// Hostile bytes (NUL, invalid UTF-8, raw Latin-1 headers) are
		// stored on both databases, as an alert or as a dead letter.
		hostile := "From: =?ISO-8859-1?Q?Ren=E9?= <rene@evil.test>\r\nSubject: caf\xe9 \x00 menu\r\nMessage-ID: <nul@x>\r\n\r\nbody \x00\xff\xfe http://nul.example.com/\r\n"
		if res, err := r.post(t, r.tokenA, "message/rfc822", hostile); err != nil || res.Created != 1 {
			t.Errorf("hostile but readable mail: %+v %v", res, err)
		}
		if _, err := r.post(t, r.tokenA, "message/rfc822", "\x00\xff\xfe not mail"); code(err) != apperr.BadInput {
			t.Errorf("hostile malformed mail: %v", err)
		}
		// A Content-Type of no format: 422 naming it, nothing kept.
		if _, err = r.post(t, r.tokenA, "text/plain", "hi"); code(err) != apperr.BadInput {
			t.Errorf("unsupported type: %v", err)
		}
	})
}

// TestReceiveAllowedSenders: the email connector's allowed_senders
// setting is applied.
func TestReceiveAllowedSenders(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		r := newRig(t, db, mailin.Config{})
		c, err := db.Client.Connector.Query().Only(r.adminA)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.conns.Update(r.adminA, c.ID, connectors.UpdateConnectorInput{Settings: map[string]any{"allowed_senders": []any{"@partner.test", "boss@a.test"}}}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			from    string
			ignored bool
		}{{"x@partner.test", false}, {"boss@a.test", false}, {"x@evil.test", true}, {"boss@a.test.evil.test", true}} {
			res, err := r.post(t, r.tokenA, "message/rfc822", mail(tt.from, tt.from+"-id", ""))
			if err != nil || (res.Ignored != "") != tt.ignored {
				t.Errorf("%s: %+v %v, want ignored %v", tt.from, res, err, tt.ignored)
			}
		}
	})
}

// TestReceiveTokens: an unknown token is NotFound; a rotation ends the
// old token at once; the token of one organisation never reaches another.
func TestReceiveTokens(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		r := newRig(t, db, mailin.Config{})
		for _, tok := range []string{"", "sqm_unknown", r.tokenA + "x", strings.ToUpper(r.tokenA)} {
			if _, err := r.post(t, tok, "message/rfc822", mail("a@evil.test", "t1@x", "")); code(err) != apperr.NotFound {
				t.Errorf("token %q: %v, want NotFound", tok, err)
			}
		}
		old := r.tokenA
		newTok := r.rotate(t, r.adminA)
		if _, err := r.post(t, old, "message/rfc822", mail("a@evil.test", "t2@x", "")); code(err) != apperr.NotFound {
			t.Errorf("old token after rotation: %v", err)
		}
		if res, err := r.post(t, newTok, "message/rfc822", mail("a@evil.test", "t3@x", "")); err != nil || res.Created != 1 {
			t.Errorf("new token: %+v %v", res, err)
		}
		// The rotation reused the connector: one email connector, one URL.
		if n, _ := db.Client.Connector.Query().Count(r.adminA); n != 1 {
			t.Errorf("org A has %d connectors after two rotations", n)
		}
		url, err := r.conns.InboundEmailURL(r.adminA)
		if err != nil || url == nil || *url != connectors.InboundEmailPath+newTok {
			t.Errorf("InboundEmailURL: %v %v", url, err)
		}
		// Each rotation is in the activity log, without the token.
		acts, err := db.Client.Activity.Query().All(r.adminA)
		if err != nil {
			t.Fatal(err)
		}
		rotations := 0
		for _, a := range acts {
			if a.Action == "rotate_inbound_token" {
				rotations++
			}
			if strings.Contains(a.String(), newTok) || strings.Contains(a.String(), old) {
				t.Errorf("activity records the token: %v", a)
			}
		}
		if rotations != 2 {
			t.Errorf("%d rotations logged, want 2", rotations)
		}
		// Before any rotation an organisation has no URL.
		orgC := testenv.Org(t, db, testenv.Slug("org-c"))
		adminC, _ := testenv.UserContext(t, db, orgC, enum.RoleAdmin, testenv.Email("admin@c.test"), testenv.Handle("admin-c"))
		if url, err := r.conns.InboundEmailURL(adminC); err != nil || url != nil {
			t.Errorf("URL before rotation: %v %v", url, err)
		}
	})
}

// TestReceiveLimits: the size limit, and the rate limits per address and
// per sender.
func TestReceiveLimits(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		r := newRig(t, db, mailin.Config{MaxBytes: 4096, PerSenderLimit: 2, PerTokenLimit: 5})
		if _, err := r.post(t, r.tokenA, "message/rfc822", mail("a@evil.test", "big@x", "X-Pad: "+strings.Repeat("x", 5000)+"\r\n")); code(err) != apperr.TooLarge {
			t.Errorf("oversized: %v", err)
		}
		for i, want := range []apperr.Code{"", "", apperr.RateLimited} {
			_, err := r.post(t, r.tokenA, "message/rfc822", mail("same@evil.test", "s"+string(rune('a'+i))+"@x", ""))
			if code(err) != want {
				t.Errorf("sender delivery %d: %v, want %q", i+1, err, want)
			}
		}
		// Another sender still gets through until the address's own limit.
		if _, err := r.post(t, r.tokenA, "message/rfc822", mail("other@evil.test", "o1@x", "")); err != nil {
			t.Errorf("other sender: %v", err)
		}
		if _, err := r.post(t, r.tokenA, "message/rfc822", mail("third@evil.test", "o2@x", "")); code(err) != apperr.RateLimited {
			t.Errorf("sixth delivery to the address: %v, want RateLimited", err)
		}
		// Org B's address has its own budget.
		if _, err := r.post(t, r.tokenB, "message/rfc822", mail("third@evil.test", "o3@x", "")); err != nil {
			t.Errorf("org B: %v", err)
		}
	})
}
