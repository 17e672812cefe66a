package sla_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/ent/privacy"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/incidents"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/opt"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/internal/viewer"
	"github.com/seliq/seliq/sla"
	"github.com/seliq/seliq/storage"
)

func TestSettingsValidation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		c := &clock{}
		a := newTenant(t, db, "acme", c, nil)
		b := newTenant(t, db, "globex", c, nil)
		stranger := b.admin

		got, err := a.sla.Settings(a.ctx)
		if err != nil {
			t.Fatal(err)
		}
		crit := got.Targets[0]
		if got.ClockMode != enum.SLAClockMode24x7 || crit.Severity != enum.SeverityCritical || *crit.Acknowledge != "15m" || *crit.Resolve != "4h" ||
			*got.Targets[3].Resolve != "5d" || got.Targets[4].Acknowledge != nil || got.Targets[4].Resolve != nil {
			t.Fatalf("defaults = %+v", got)
		}

		bad := []struct {
			field string
			in    sla.UpdateSettingsInput
		}{
			{"time_zone", sla.UpdateSettingsInput{TimeZone: str("Mars/Olympus")}},
			{"time_zone", sla.UpdateSettingsInput{TimeZone: str("../../etc/passwd")}},
			{"targets.0.acknowledge", sla.UpdateSettingsInput{Targets: []*sla.TargetInput{{Severity: enum.SeverityHigh, Acknowledge: opt.Of(str("-5m"))}}}},
			{"targets.0.resolve", sla.UpdateSettingsInput{Targets: []*sla.TargetInput{{Severity: enum.SeverityHigh, Resolve: opt.Of(str("1.5h"))}}}},
			{"targets.1.severity", sla.UpdateSettingsInput{Targets: []*sla.TargetInput{{Severity: enum.SeverityHigh}, {Severity: enum.SeverityHigh}}}},
			{"days.0.closes", sla.UpdateSettingsInput{Days: []*sla.DayInput{{Day: "monday", Opens: "09:00", Closes: "25:00"}}}},
			{"days.0.day", sla.UpdateSettingsInput{Days: []*sla.DayInput{{Day: "funday", Opens: "09:00", Closes: "17:00"}}}},
			{"holidays.0", sla.UpdateSettingsInput{Holidays: []string{"2026-02-30"}}},
			{"days", sla.UpdateSettingsInput{ClockMode: ptr(enum.SLAClockModeBusinessHours), Days: []*sla.DayInput{}}},
			{"escalation_owner_id", sla.UpdateSettingsInput{EscalationOwnerID: opt.Of(&stranger.ID)}},
			{"escalation_owner_id", sla.UpdateSettingsInput{EscalationOwnerID: opt.Of(ptr(uuid.New()))}},
		}
		for _, tc := range bad {
			_, err := a.sla.UpdateSettings(a.ctx, tc.in)
			wantInvalid(t, err, tc.field)
		}

		// Overnight hours are accepted: closing before opening ends the next day.
		set := a.update(t, sla.UpdateSettingsInput{
			ClockMode: ptr(enum.SLAClockModeBusinessHours), TimeZone: str("Europe/Paris"),
			Days:              []*sla.DayInput{{Day: "tuesday", Opens: "22:00", Closes: "06:00"}, {Day: "monday", Opens: "09:00", Closes: "17:00"}},
			Holidays:          []string{"2026-12-25", "2026-01-01", "2026-12-25"},
			Targets:           []*sla.TargetInput{{Severity: enum.SeverityInfo, Resolve: opt.Of(str("90m"))}, {Severity: enum.SeverityCritical, Acknowledge: opt.Of[*string](nil)}},
			EscalationOwnerID: opt.Of(&a.analyst.ID),
		})
		if set.Days[0].Day != "monday" || len(set.Holidays) != 2 || *set.Targets[4].Resolve != "1h30m" || set.Targets[0].Acknowledge != nil ||
			*set.Targets[0].Resolve != "4h" || set.EscalationOwnerID == nil || *set.EscalationOwnerID != a.analyst.ID {
			t.Fatalf("saved = %+v", set)
		}

		// What was saved is what is read back, untracked timers included.
		reread, err := a.sla.Settings(testenv.As(a.reader, a.org))
		if err != nil || reread.Targets[0].Acknowledge != nil || *reread.Targets[0].Resolve != "4h" || len(reread.Days) != 2 ||
			reread.TimeZone != "Europe/Paris" || *reread.EscalationOwnerID != a.analyst.ID {
			t.Fatalf("read back = %+v, %v", reread, err)
		}

		// Analysts and read-only users cannot change them; every change is logged.
		for _, u := range []*ent.User{a.analyst, a.reader} {
			_, err := a.sla.UpdateSettings(testenv.As(u, a.org), sla.UpdateSettingsInput{TimeZone: str("UTC")})
			wantCode(t, err, apperr.Forbidden)
		}
		n, err := db.Client.Activity.Query().Where().Count(a.ctx)
		if err != nil || n == 0 {
			t.Fatalf("activity = %d, %v", n, err)
		}

		// Another organisation neither sees nor changes them.
		theirs, err := b.sla.Settings(b.ctx)
		if err != nil || theirs.ClockMode != enum.SLAClockMode24x7 || theirs.EscalationOwnerID != nil {
			t.Fatalf("another organisation reads %+v, %v", theirs, err)
		}
		b.update(t, sla.UpdateSettingsInput{TimeZone: str("Asia/Tokyo")})
		mine, _ := a.sla.Settings(a.ctx)
		if mine.TimeZone != "Europe/Paris" {
			t.Fatalf("another organisation's change reached this one: %s", mine.TimeZone)
		}
	})
}

func TestDueTimesFollowSettingsAndSeverity(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		c := &clock{}
		a := newTenant(t, db, "acme", c, nil)
		inc := a.open(t, "Ransomware", enum.SeverityCritical, nil)
		if inc.SLAAckDueAt == nil || !inc.SLAAckDueAt.Equal(start(inc).Add(15*time.Minute)) ||
			!inc.SLAResolveDueAt.Equal(start(inc).Add(4*time.Hour)) || !inc.SLADueAt.Equal(*inc.SLAAckDueAt) {
			t.Fatalf("critical timers: ack %v resolve %v next %v (created %v)", inc.SLAAckDueAt, inc.SLAResolveDueAt, inc.SLADueAt, inc.CreatedAt)
		}
		info := a.open(t, "Port scan", enum.SeverityInfo, nil)
		if info.SLAAckDueAt != nil || info.SLAResolveDueAt != nil || info.SLADueAt != nil {
			t.Fatalf("info is not tracked, got %v %v", info.SLAAckDueAt, info.SLAResolveDueAt)
		}
		closed := a.open(t, "Closed one", enum.SeverityCritical, nil)
		if _, err := a.incidents.Update(a.ctx, closed.ID, incidents.UpdateIncidentInput{Status: ptr(enum.IncidentStatusClosed), Disposition: opt.Of(ptr(enum.DispositionBenign))}); err != nil {
			t.Fatal(err)
		}
		closedBefore := a.reload(t, closed.ID)

		// A settings change moves the open incidents' running timers.
		a.update(t, sla.UpdateSettingsInput{Targets: []*sla.TargetInput{{Severity: enum.SeverityCritical, Acknowledge: opt.Of(str("30m")), Resolve: opt.Of(str("2h"))}}})
		inc = a.reload(t, inc.ID)
		if !inc.SLAAckDueAt.Equal(start(inc).Add(30*time.Minute)) || !inc.SLAResolveDueAt.Equal(start(inc).Add(2*time.Hour)) {
			t.Fatalf("after the settings change: ack %v resolve %v", inc.SLAAckDueAt, inc.SLAResolveDueAt)
		}
		if got := a.reload(t, closed.ID); !got.SLAResolveDueAt.Equal(*closedBefore.SLAResolveDueAt) {
			t.Fatalf("a closed incident's timer moved: %v → %v", closedBefore.SLAResolveDueAt, got.SLAResolveDueAt)
		}
		// A severity change moves them too; a timer no longer tracked stops.
		if _, err := a.incidents.Update(a.ctx, inc.ID, incidents.UpdateIncidentInput{Severity: ptr(enum.SeverityHigh)}); err != nil {
			t.Fatal(err)
		}
		inc = a.reload(t, inc.ID)
		if !inc.SLAAckDueAt.Equal(start(inc).Add(time.Hour)) || !inc.SLAResolveDueAt.Equal(start(inc).Add(8*time.Hour)) {
			t.Fatalf("after the severity change: ack %v resolve %v", inc.SLAAckDueAt, inc.SLAResolveDueAt)
		}
		if _, err := a.incidents.Update(a.ctx, inc.ID, incidents.UpdateIncidentInput{Severity: ptr(enum.SeverityInfo)}); err != nil {
			t.Fatal(err)
		}
		if inc = a.reload(t, inc.ID); inc.SLAAckDueAt != nil || inc.SLADueAt != nil {
			t.Fatalf("info after the change: ack %v next %v", inc.SLAAckDueAt, inc.SLADueAt)
		}

		// Business hours: a low incident counts 24 business hours (3 days
		// of 8 hours); the state is paused while closed.
		a.update(t, sla.UpdateSettingsInput{ClockMode: ptr(enum.SLAClockModeBusinessHours), TimeZone: str("UTC"),
			Days: []*sla.DayInput{{Day: "monday", Opens: "00:00", Closes: "00:00"}, {Day: "tuesday", Opens: "00:00", Closes: "00:00"},
				{Day: "wednesday", Opens: "00:00", Closes: "00:00"}, {Day: "thursday", Opens: "00:00", Closes: "00:00"},
				{Day: "friday", Opens: "00:00", Closes: "00:00"}, {Day: "saturday", Opens: "00:00", Closes: "00:00"},
				{Day: "sunday", Opens: "00:00", Closes: "00:00"}}})
		low := a.open(t, "Low one", enum.SeverityLow, nil)
		if !low.SLAAckDueAt.Equal(start(low).Add(24 * time.Hour)) {
			t.Fatalf("open round the clock in business-hours mode: ack due %v, want created + 24h", low.SLAAckDueAt)
		}
		if !low.SLAResolveDueAt.Equal(start(low).Add(5 * 24 * time.Hour)) {
			t.Fatalf("5 business days every day open: %v", low.SLAResolveDueAt)
		}
		st, err := a.sla.Of(a.ctx, low)
		if err != nil || st.Acknowledge.State != enum.SLAStateOk {
			t.Fatalf("state = %+v, %v", st, err)
		}
		today := c.now().UTC().Weekday().String()
		a.update(t, sla.UpdateSettingsInput{Days: []*sla.DayInput{{Day: weekdayName(c.now().UTC().Add(48 * time.Hour).Weekday()), Opens: "09:00", Closes: "10:00"}}})
		if st, _ = a.sla.Of(a.ctx, a.reload(t, low.ID)); st.Acknowledge.State != enum.SLAStatePaused {
			t.Fatalf("state on a closed %s = %s, want paused", today, st.Acknowledge.State)
		}
	})
}

func weekdayName(d time.Weekday) string {
	return []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}[d]
}

func TestAcknowledgeByPersonNotByJob(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		c := &clock{}
		a := newTenant(t, db, "acme", c, nil)
		job := viewer.ForJob(a.ctx, a.org.ID)
		cases := []struct {
			name string
			act  func(id uuid.UUID) error
			ack  bool
		}{
			{"a job changes the status", func(id uuid.UUID) error {
				_, err := a.incidents.Update(job, id, incidents.UpdateIncidentInput{Status: ptr(enum.IncidentStatusInProgress)})
				return err
			}, false},
			{"a job assigns", func(id uuid.UUID) error {
				_, err := a.incidents.Update(job, id, incidents.UpdateIncidentInput{AssigneeID: opt.Of(&a.analyst.ID)})
				return err
			}, false},
			{"a person changes the status", func(id uuid.UUID) error {
				_, err := a.incidents.Update(a.ctx, id, incidents.UpdateIncidentInput{Status: ptr(enum.IncidentStatusInProgress)})
				return err
			}, true},
			{"a person assigns", func(id uuid.UUID) error {
				_, err := a.incidents.Update(a.ctx, id, incidents.UpdateIncidentInput{AssigneeID: opt.Of(&a.analyst.ID)})
				return err
			}, true},
			{"a person writes a note", func(id uuid.UUID) error {
				_, err := a.incidents.AddNote(testenv.As(a.analyst, a.org), id, "looking")
				return err
			}, true},
			{"a person edits the title only", func(id uuid.UUID) error {
				_, err := a.incidents.Update(a.ctx, id, incidents.UpdateIncidentInput{Title: str("renamed")})
				return err
			}, false},
		}
		for _, tc := range cases {
			inc := a.open(t, tc.name, enum.SeverityHigh, nil)
			if err := tc.act(inc.ID); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got := a.reload(t, inc.ID)
			st, err := a.sla.Of(a.ctx, got)
			if err != nil {
				t.Fatal(err)
			}
			if (got.AcknowledgedAt != nil) != tc.ack || (st.Acknowledge.State == enum.SLAStateMet) != tc.ack {
				t.Errorf("%s: acknowledged_at %v, state %s; want acknowledged %v", tc.name, got.AcknowledgedAt, st.Acknowledge.State, tc.ack)
			}
			// Once acknowledged, the queue's next due time is the resolve timer's.
			if tc.ack && !got.SLADueAt.Equal(*got.SLAResolveDueAt) {
				t.Errorf("%s: next due %v, want the resolve due %v", tc.name, got.SLADueAt, got.SLAResolveDueAt)
			}
		}
	})
}

// TestFireOnceAndStale fires events by hand: the second firing, a stale
// one and one for a met timer do nothing; the recipients are the
// assignee, the escalation owner and the provider's administrators.
func TestFireOnceAndStale(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		c := &clock{}
		provider := testenv.Org(t, db, testenv.Slug("mssp"))
		padmin := testenv.User(t, db, provider, enum.RoleAdmin, testenv.Handle("pat"))
		a := newTenant(t, db, "acme", c, nil, testenv.Parent(provider.ID))
		a.update(t, sla.UpdateSettingsInput{EscalationOwnerID: opt.Of(&a.admin.ID)})
		inc := a.open(t, "Ransomware", enum.SeverityCritical, &a.analyst.ID)
		job := viewer.ForJob(a.ctx, a.org.ID)
		stale := sla.FireArgs{OrganizationID: a.org.ID, IncidentID: inc.ID, Timer: enum.SLATimerAcknowledge, Event: "breach",
			Due: inc.SLAAckDueAt.Add(-time.Minute), At: inc.SLAAckDueAt.Add(-time.Minute)}
		if fired, err := a.sla.Fire(job, stale); err != nil || fired {
			t.Fatalf("stale fire = %v, %v", fired, err)
		}
		args := sla.FireArgs{OrganizationID: a.org.ID, IncidentID: inc.ID, Timer: enum.SLATimerAcknowledge, Event: "breach",
			Due: *inc.SLAAckDueAt, At: *inc.SLAAckDueAt}
		for i, want := range []bool{true, false} {
			if fired, err := a.sla.Fire(job, args); err != nil || fired != want {
				t.Fatalf("fire %d = %v, %v; want %v", i, fired, err, want)
			}
		}
		got := notifications(t, db, enum.NotificationKindSlaBreach, inc.ID)
		want := map[uuid.UUID]int{a.analyst.ID: 1, a.admin.ID: 1, padmin.ID: 1}
		if len(got) != len(want) || got[a.analyst.ID] != 1 || got[a.admin.ID] != 1 || got[padmin.ID] != 1 {
			t.Fatalf("breach notifications = %v, want %v", got, want)
		}
		st, _ := a.sla.Of(a.ctx, a.reload(t, inc.ID))
		if st.Acknowledge.State != enum.SLAStateBreached || !st.Acknowledge.BreachedAt.Equal(*inc.SLAAckDueAt) {
			t.Fatalf("after the breach: %+v", st.Acknowledge)
		}
		// The resolve timer is met by closing: its breach does nothing.
		if _, err := a.incidents.Update(a.ctx, inc.ID, incidents.UpdateIncidentInput{Status: ptr(enum.IncidentStatusClosed), Disposition: opt.Of(ptr(enum.DispositionBenign))}); err != nil {
			t.Fatal(err)
		}
		met := sla.FireArgs{OrganizationID: a.org.ID, IncidentID: inc.ID, Timer: enum.SLATimerResolve, Event: "breach", Due: *inc.SLAResolveDueAt, At: *inc.SLAResolveDueAt}
		if fired, err := a.sla.Fire(job, met); err != nil || fired {
			t.Fatalf("fire on a met timer = %v, %v", fired, err)
		}
		// Another organisation's job cannot fire it.
		other := testenv.Org(t, db)
		if fired, err := a.sla.Fire(viewer.ForJob(a.ctx, other.ID), args); err != nil || fired {
			t.Fatalf("another organisation's job fired: %v, %v", fired, err)
		}
	})
}

func TestQueueFilterAndSort(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		c := &clock{}
		a := newTenant(t, db, "acme", c, nil)
		b := newTenant(t, db, "globex", c, nil)
		job := viewer.ForJob(a.ctx, a.org.ID)
		fire := func(inc *ent.Incident, timer enum.SLATimer, event string) {
			due := *inc.SLAAckDueAt
			if timer == enum.SLATimerResolve {
				due = *inc.SLAResolveDueAt
			}
			if ok, err := a.sla.Fire(job, sla.FireArgs{OrganizationID: a.org.ID, IncidentID: inc.ID, Timer: timer, Event: event, Due: due, At: due}); err != nil || !ok {
				t.Fatalf("fire: %v %v", ok, err)
			}
		}
		medium := a.open(t, "medium at risk", enum.SeverityMedium, nil)
		fire(medium, enum.SLATimerAcknowledge, "at_risk")
		high := a.open(t, "high breached", enum.SeverityHigh, nil)
		fire(high, enum.SLATimerAcknowledge, "breach")
		crit := a.open(t, "critical ok", enum.SeverityCritical, nil)
		a.open(t, "info untracked", enum.SeverityInfo, nil)
		b.open(t, "their critical", enum.SeverityCritical, nil)
		_ = crit

		list := func(states ...enum.SLAState) []string {
			conn, err := a.incidents.List(a.ctx, &incidents.IncidentFilter{SLAState: states}, paging.Page{},
				&ent.IncidentOrder{Direction: paging.Asc, Field: ent.IncidentOrderFieldSLADueAt})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range conn.Edges {
				out = append(out, e.Node.Title)
			}
			return out
		}
		if got := list(enum.SLAStateAtRisk, enum.SLAStateBreached); len(got) != 2 || got[0] != "high breached" || got[1] != "medium at risk" {
			t.Fatalf("at_risk,breached by due = %v", got)
		}
		if got := list(enum.SLAStateOk); len(got) != 3 || got[0] != "critical ok" {
			t.Fatalf("ok = %v (the critical's ack is due first, the others' resolve timers are ok)", got)
		}
		_, err := a.incidents.List(a.ctx, &incidents.IncidentFilter{SLAState: []enum.SLAState{enum.SLAStatePaused}}, paging.Page{}, nil)
		wantInvalid(t, err, "filter.sla_state")
	})
}

func TestMetrics(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		c := &clock{}
		a := newTenant(t, db, "acme", c, nil)
		b := newTenant(t, db, "globex", c, nil)
		job := viewer.ForJob(a.ctx, a.org.ID)
		sys := privacy.DecisionContext(a.ctx, privacy.Allow)
		// Three critical incidents: one acknowledged after 10 minutes (met),
		// one breached then acknowledged after 20 minutes, one at risk.
		mk := func(title string) *ent.Incident { return a.open(t, title, enum.SeverityCritical, nil) }
		met, late, risky := mk("met"), mk("late"), mk("risky")
		ack := func(inc *ent.Incident, after time.Duration) {
			if err := db.Client.Incident.UpdateOneID(inc.ID).SetAcknowledgedAt(inc.CreatedAt.Add(after)).Exec(sys); err != nil {
				t.Fatal(err)
			}
		}
		ack(met, 10*time.Minute)
		if ok, err := a.sla.Fire(job, sla.FireArgs{OrganizationID: a.org.ID, IncidentID: late.ID, Timer: enum.SLATimerAcknowledge, Event: "breach", Due: *late.SLAAckDueAt, At: *late.SLAAckDueAt}); !ok || err != nil {
			t.Fatal(ok, err)
		}
		ack(late, 20*time.Minute)
		if ok, err := a.sla.Fire(job, sla.FireArgs{OrganizationID: a.org.ID, IncidentID: risky.ID, Timer: enum.SLATimerAcknowledge, Event: "at_risk", Due: *risky.SLAAckDueAt, At: *risky.SLAAckDueAt}); !ok || err != nil {
			t.Fatal(ok, err)
		}
		b.open(t, "theirs", enum.SeverityCritical, nil)

		m, err := a.sla.Metrics(a.ctx, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		row := m.Rows[0]
		if *row.Severity != enum.SeverityCritical || row.Timer != enum.SLATimerAcknowledge {
			t.Fatalf("first row is %v %v", row.Severity, row.Timer)
		}
		// tracked 3, met 1, breached 1 → 50 %; at risk 1; times 600 s and
		// 1200 s: mean 900, median 900, p90 (interpolated) 1140.
		if row.Tracked != 3 || row.Met != 1 || row.Breached != 1 || row.AtRiskNow != 1 || row.AttainmentPercent == nil || *row.AttainmentPercent != 50 {
			t.Fatalf("critical/acknowledge = %+v", row)
		}
		if tm := row.Time; tm.Count != 2 || *tm.MeanSeconds != 900 || *tm.MedianSeconds != 900 || *tm.P90Seconds != 1140 {
			t.Fatalf("time to acknowledge = %+v", tm)
		}
		res := m.Rows[1]
		if res.Tracked != 3 || res.Met != 0 || res.Breached != 0 || res.AttainmentPercent != nil || res.Time.Count != 0 {
			t.Fatalf("critical/resolve = %+v", res)
		}
		if tot := m.Total[0]; tot.Tracked != 3 || tot.Met != 1 || tot.AtRiskNow != 1 {
			t.Fatalf("total = %+v", tot)
		}
		if info := m.Rows[8]; *info.Severity != enum.SeverityInfo || info.Tracked != 0 {
			t.Fatalf("info row = %+v", info)
		}
		_, err = a.sla.Metrics(a.ctx, ptr(time.Now()), ptr(time.Now().Add(-time.Hour)), nil)
		wantInvalid(t, err, "until")
	})
}

func TestSummarise(t *testing.T) {
	cases := []struct {
		in                []float64
		mean, median, p90 float64
	}{
		// p90 interpolates between the ranks around 0.9·(n-1), as
		// PostgreSQL's percentile_cont and every other duration Seliq shows.
		{[]float64{5}, 5, 5, 5},
		{[]float64{4, 1, 3, 2}, 2.5, 2.5, 3.7},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5.5, 5.5, 9.1},
		{[]float64{10, 20, 30}, 20, 20, 28},
	}
	for _, tc := range cases {
		s := sla.Summarise(tc.in)
		if s.Count != len(tc.in) || *s.MeanSeconds != tc.mean || *s.MedianSeconds != tc.median || *s.P90Seconds != tc.p90 {
			t.Errorf("Summarise(%v) = %d %v %v %v", tc.in, s.Count, *s.MeanSeconds, *s.MedianSeconds, *s.P90Seconds)
		}
	}
	if s := sla.Summarise(nil); s.Count != 0 || s.MeanSeconds != nil {
		t.Errorf("Summarise(nil) = %+v", s)
	}
}
