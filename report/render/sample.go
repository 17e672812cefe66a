package render

import (
	"fmt"
	"time"
)

// sampleDocuments are what Parse executes a template against: every
// section on with a few of everything; every section on with nothing in
// them and every optional value absent; every section off; and a large
// incident, so that a template whose cost only shows on many alerts
// ({{if gt (len .Alerts) 100}}…) hits the limits at upload rather than in
// the render job. Together they take both sides of the usual {{if}},
// {{with}} and {{range}}…{{else}}.
func sampleDocuments() []Document {
	empty := sparseSample()
	empty.Kind = KindInternal
	empty.Sections = AllSections()
	return []Document{richSample(), empty, sparseSample(), largeSample()}
}

// largeSampleSize is the number of alerts, entities and events of the
// large sample: more than most incidents, cheap to run a template on.
const largeSampleSize = 1000

func largeSample() Document {
	doc := richSample()
	first := doc.Alerts[0]
	doc.Alerts = make([]Alert, largeSampleSize)
	doc.Entities = make([]Entity, largeSampleSize)
	doc.Timeline = make([]Event, largeSampleSize)
	for i := range largeSampleSize {
		a := first
		a.Title = fmt.Sprintf("%s #%d", first.Title, i+1)
		doc.Alerts[i] = a
		doc.Entities[i] = Entity{Type: "ip", Value: fmt.Sprintf("198.51.100.%d", i%256), Count: i%7 + 1}
		doc.Timeline[i] = Event{OccurredAt: a.FirstSeenAt, Kind: "comment", Title: fmt.Sprintf("Update %d", i+1), Actor: "Alex Analyst"}
	}
	return doc
}

func richSample() Document {
	at := func(minutes int) time.Time {
		return time.Date(2025, time.March, 4, 9, 30, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute)
	}
	ptr := func(t time.Time) *time.Time { return &t }
	dur := func(d time.Duration) *time.Duration { return &d }
	return Document{
		Kind:         KindInternal,
		GeneratedAt:  at(600),
		Organization: "Example Org",
		Branding: Branding{
			CompanyName:     "Example Security",
			AccentColor:     DefaultAccentColor,
			Footer:          "Example Security · soc@example.com",
			Confidentiality: "Confidential",
		},
		Sections: AllSections(),
		Incident: Incident{
			Number:         42,
			Title:          "Suspicious sign-in followed by mailbox rule",
			Description:    "A user signed in from a new country.\n\nA forwarding rule was created minutes later.",
			Summary:        "Credential phishing led to a malicious inbox rule; the account was contained.",
			Severity:       "high",
			Status:         "closed",
			Disposition:    "true_positive",
			Assignee:       "Alex Analyst",
			Group:          "Tier 2",
			Tags:           []string{"phishing", "m365"},
			CreatedAt:      at(0),
			AcknowledgedAt: ptr(at(7)),
			ClosedAt:       ptr(at(185)),
		},
		Timings: Timings{TimeToAcknowledge: dur(7 * time.Minute), TimeToClose: dur(185 * time.Minute)},
		Timeline: []Event{
			{OccurredAt: at(0), Kind: "created", Title: "Incident created", Actor: "Correlation rule"},
			{OccurredAt: at(7), Kind: "status_change", Title: "Acknowledged", Description: "Triage started", Actor: "Alex Analyst"},
			{OccurredAt: at(185), Kind: "status_change", Title: "Closed", Actor: "Alex Analyst"},
		},
		Alerts: []Alert{
			{Title: "Impossible travel", Severity: "medium", Status: "closed", Source: "Entra ID", FirstSeenAt: at(-5), LastSeenAt: at(-5), Occurrences: 1},
			{Title: "New inbox forwarding rule", Severity: "high", Status: "closed", Source: "Exchange", FirstSeenAt: at(-2), LastSeenAt: at(3), Occurrences: 4},
		},
		Entities: []Entity{
			{Type: "user", Value: "j.doe@example.com", Count: 2},
			{Type: "ip", Value: "203.0.113.7", Count: 1},
		},
		Notes: []Note{
			{Author: "Alex Analyst", CreatedAt: at(30), Body: "Password reset done.\nSessions revoked."},
		},
	}
}

func sparseSample() Document {
	return Document{
		Kind:         KindClient,
		GeneratedAt:  time.Date(2025, time.March, 4, 10, 0, 0, 0, time.UTC),
		Organization: "Example Org",
		Branding:     Branding{CompanyName: "Example Org", AccentColor: DefaultAccentColor, Confidentiality: DefaultConfidentiality},
		Incident: Incident{
			Number:    1,
			Title:     "Untriaged incident",
			CreatedAt: time.Date(2025, time.March, 4, 9, 0, 0, 0, time.UTC),
		},
	}
}
