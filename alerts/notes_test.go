package alerts

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/notes"
	"github.com/seliq/seliq/storage"
)

func TestAddNote(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		other := newTriageOrg(t, db, "globex")
		a := o.newAlert(t, db, alertState{})
		theirs := other.newAlert(t, db, alertState{})
		longest := strings.Repeat("é", notes.MaxLength)
		cases := []struct {
			name     string
			ctx      context.Context
			alertID  uuid.UUID
			body     string
			wantBody string
			author   *ent.User
			authorAs string
			mentions []string
			wantErr  func(t *testing.T, err error)
		}{
			{name: "trimmed, named after the author, mentions kept", ctx: o.ctx, alertID: a.ID,
				body: "  look at this @bob and @ada.  \n", wantBody: "look at this @bob and @ada.",
				author: o.admin, authorAs: o.admin.Name, mentions: []string{"bob", "ada"}},
			{name: "an author without a name is shown by email", ctx: viewerContext(o.analyst.ID, o.org.ID), alertID: a.ID,
				body: "no mentions here", wantBody: "no mentions here",
				author: o.analyst, authorAs: o.analyst.Email, mentions: []string{}},
			{name: "20000 characters", ctx: o.ctx, alertID: a.ID, body: longest, wantBody: longest,
				author: o.admin, authorAs: o.admin.Name, mentions: []string{}},
			{name: "20001 characters", ctx: o.ctx, alertID: a.ID, body: longest + "x",
				wantErr: func(t *testing.T, err error) { wantInvalid(t, err, "body") }},
			{name: "blank", ctx: o.ctx, alertID: a.ID, body: " \n\t ",
				wantErr: func(t *testing.T, err error) { wantInvalid(t, err, "body") }},
			{name: "another organisation's alert", ctx: o.ctx, alertID: theirs.ID, body: "hello",
				wantErr: func(t *testing.T, err error) { wantCode(t, err, apperr.NotFound) }},
			{name: "an unknown alert", ctx: o.ctx, alertID: uuid.New(), body: "hello",
				wantErr: func(t *testing.T, err error) { wantCode(t, err, apperr.NotFound) }},
			{name: "a connector", alertID: a.ID, body: "hello",
				ctx:     viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.KindConnector, ConnectorID: uuid.New(), OrgID: o.org.ID, HomeOrgID: o.org.ID}),
				wantErr: func(t *testing.T, err error) { wantCode(t, err, apperr.Forbidden) }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := len(o.history(t, db, tc.alertID))
				n, err := New(db.Client, db.Dialect).AddNote(tc.ctx, tc.alertID, AddNoteInput{Body: tc.body})
				if tc.wantErr != nil {
					tc.wantErr(t, err)
					if after := len(o.history(t, db, tc.alertID)); after != before {
						t.Fatalf("a refused note wrote activity")
					}
					return
				}
				if err != nil {
					t.Fatalf("add note: %v", err)
				}
				stored, err := db.Client.Note.Get(o.ctx, n.ID)
				if err != nil {
					t.Fatalf("read note: %v", err)
				}
				switch {
				case stored.Body != tc.wantBody:
					t.Errorf("body = %.40q, want %.40q", stored.Body, tc.wantBody)
				case stored.AlertID == nil || *stored.AlertID != tc.alertID:
					t.Errorf("alert_id = %v", stored.AlertID)
				case stored.AuthorID == nil || *stored.AuthorID != tc.author.ID || stored.AuthorName != tc.authorAs:
					t.Errorf("author = %v %q, want %s %q", stored.AuthorID, stored.AuthorName, tc.author.ID, tc.authorAs)
				case !slices.Equal(stored.Mentions, tc.mentions):
					t.Errorf("mentions = %q, want %q", stored.Mentions, tc.mentions)
				}
				es := o.history(t, db, tc.alertID)
				if len(es) != before+1 {
					t.Fatalf("%d activity entries, want %d", len(es), before+1)
				}
				last := es[len(es)-1]
				if last.Action != "note" || last.ActorID == nil || *last.ActorID != tc.author.ID {
					t.Errorf("activity %q by %v, want note by %s", last.Action, last.ActorID, tc.author.ID)
				}
				checkJSON(t, "note activity", last.After, map[string]string{"note_id": n.ID.String()})
			})
		}
	})
}

func wantCode(t *testing.T, err error, code apperr.Code) {
	t.Helper()
	if e, ok := apperr.As(err); !ok || e.Code != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

// cursorThroughGraphQL encodes and decodes a cursor as a client's request
// would carry it.
func cursorThroughGraphQL(t *testing.T, c *ent.Cursor) *ent.Cursor {
	t.Helper()
	var buf bytes.Buffer
	c.MarshalGQL(&buf)
	s, err := strconv.Unquote(buf.String())
	if err != nil {
		t.Fatalf("cursor %s: %v", buf.String(), err)
	}
	var out ent.Cursor
	if err := out.UnmarshalGQL(s); err != nil {
		t.Fatalf("decode cursor: %v", err)
	}
	return &out
}

func TestNotesPaging(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		other := newTriageOrg(t, db, "globex")
		a := o.newAlert(t, db, alertState{})
		elsewhere := o.newAlert(t, db, alertState{})
		var bodies []string
		for i := range 5 {
			body := "note " + strconv.Itoa(i)
			bodies = append(bodies, body)
			if _, err := New(db.Client, db.Dialect).AddNote(o.ctx, a.ID, AddNoteInput{Body: body}); err != nil {
				t.Fatalf("add note: %v", err)
			}
		}
		if _, err := New(db.Client, db.Dialect).AddNote(o.ctx, elsewhere.ID, AddNoteInput{Body: "not on a"}); err != nil {
			t.Fatalf("add note: %v", err)
		}
		page := func(after *ent.Cursor, first *int, before *ent.Cursor, last *int) *ent.NoteConnection {
			t.Helper()
			conn, err := New(db.Client, db.Dialect).Notes(o.ctx, a.ID, paging.Page{After: after, First: first, Before: before, Last: last})
			if err != nil {
				t.Fatalf("notes: %v", err)
			}
			if conn.TotalCount != 5 {
				t.Errorf("total = %d, want 5", conn.TotalCount)
			}
			return conn
		}
		bodiesOf := func(conn *ent.NoteConnection) []string {
			var out []string
			for _, e := range conn.Edges {
				out = append(out, e.Node.Body)
			}
			return out
		}
		two := 2
		p1 := page(nil, &two, nil, nil)
		if got := bodiesOf(p1); !slices.Equal(got, bodies[:2]) || !p1.PageInfo.HasNextPage {
			t.Fatalf("first page = %q (next %v), want %q", got, p1.PageInfo.HasNextPage, bodies[:2])
		}
		p2 := page(cursorThroughGraphQL(t, p1.PageInfo.EndCursor), &two, nil, nil)
		if got := bodiesOf(p2); !slices.Equal(got, bodies[2:4]) {
			t.Fatalf("second page = %q, want %q", got, bodies[2:4])
		}
		p3 := page(cursorThroughGraphQL(t, p2.PageInfo.EndCursor), &two, nil, nil)
		if got := bodiesOf(p3); !slices.Equal(got, bodies[4:]) || p3.PageInfo.HasNextPage {
			t.Fatalf("third page = %q (next %v), want %q", got, p3.PageInfo.HasNextPage, bodies[4:])
		}
		tail := page(nil, nil, nil, &two)
		if got := bodiesOf(tail); !slices.Equal(got, bodies[3:]) {
			t.Fatalf("last two = %q, want %q", got, bodies[3:])
		}
		back := page(nil, nil, cursorThroughGraphQL(t, tail.PageInfo.StartCursor), &two)
		if got := bodiesOf(back); !slices.Equal(got, bodies[1:3]) {
			t.Fatalf("two before = %q, want %q", got, bodies[1:3])
		}
		if _, err := New(db.Client, db.Dialect).Notes(other.ctx, a.ID, paging.Page{}); !isCode(err, apperr.NotFound) {
			t.Fatalf("notes of another organisation's alert: %v, want not found", err)
		}
		minus := -1
		for _, args := range []struct {
			first, last *int
			field       string
		}{{&two, &two, "last"}, {&minus, nil, "first"}, {nil, &minus, "last"}} {
			_, err := New(db.Client, db.Dialect).Notes(o.ctx, a.ID, paging.Page{First: args.first, Last: args.last})
			wantInvalid(t, err, args.field)
		}
	})
}

func isCode(err error, code apperr.Code) bool {
	e, ok := apperr.As(err)
	return ok && e.Code == code
}

func TestAlertActivity(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newTriageOrg(t, db, "acme")
		other := newTriageOrg(t, db, "globex")
		a := o.newAlert(t, db, alertState{})
		if _, err := New(db.Client, db.Dialect).AddNote(o.ctx, a.ID, AddNoteInput{Body: "first"}); err != nil {
			t.Fatalf("add note: %v", err)
		}
		if _, err := New(db.Client, db.Dialect).Update(o.ctx, a.ID, UpdateAlertInput{Status: ref(enum.AlertStatusAcknowledged)}); err != nil {
			t.Fatalf("update: %v", err)
		}
		if _, err := New(db.Client, db.Dialect).Update(o.ctx, a.ID, UpdateAlertInput{AssigneeID: opt.Of(&o.analyst.ID)}); err != nil {
			t.Fatalf("update: %v", err)
		}
		conn, err := New(db.Client, db.Dialect).Activity(o.ctx, a.ID, paging.Page{})
		if err != nil {
			t.Fatalf("activity: %v", err)
		}
		var got []string
		for _, e := range conn.Edges {
			got = append(got, e.Node.Action+":"+e.Node.Field)
		}
		want := []string{"update:assignee_id", "update:status", "note:"}
		if !slices.Equal(got, want) || conn.TotalCount != 3 {
			t.Fatalf("activity = %q (total %d), want newest first %q", got, conn.TotalCount, want)
		}
		one := 1
		next, err := New(db.Client, db.Dialect).Activity(o.ctx, a.ID, paging.Page{After: cursorThroughGraphQL(t, &conn.Edges[0].Cursor), First: &one})
		if err != nil || len(next.Edges) != 1 || next.Edges[0].Node.Field != "status" {
			t.Fatalf("page after the newest = %v, %v; want the status entry", next, err)
		}
		if _, err := New(db.Client, db.Dialect).Activity(other.ctx, a.ID, paging.Page{}); !isCode(err, apperr.NotFound) {
			t.Fatalf("activity of another organisation's alert: %v, want not found", err)
		}
	})
}
