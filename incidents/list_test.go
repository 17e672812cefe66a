package incidents

import (
	"testing"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ent"
	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/paging"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

func TestList(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		o := newOrg(t, db, "acme")
		other := newOrg(t, db, "globex")
		other.incident(t, "Ransomware elsewhere")
		mk := func(title string, sev enum.Severity, tags []string, assignee *uuid.UUID, status enum.IncidentStatus) *ent.Incident {
			inc, err := o.svc.Create(o.ctx, CreateIncidentInput{Title: title, Severity: &sev, Tags: tags, AssigneeID: assignee})
			if err != nil {
				t.Fatal(err)
			}
			if status != enum.IncidentStatusNew {
				if _, err := o.svc.Update(o.ctx, inc.ID, UpdateIncidentInput{Status: &status}); err != nil {
					t.Fatal(err)
				}
			}
			return inc
		}
		ransom := mk("Ransomware on FS01", enum.SeverityCritical, []string{"ransomware"}, &o.bob.ID, enum.IncidentStatusInProgress)
		phish := mk("Phishing wave 100%_off", enum.SeverityMedium, []string{"phishing", "email"}, nil, enum.IncidentStatusNew)
		scan := mk("Port scan", enum.SeverityLow, nil, &o.admin.ID, enum.IncidentStatusEscalated)
		yes := true
		cases := []struct {
			name string
			f    *IncidentFilter
			want []*ent.Incident
		}{
			{"everything, newest first", nil, []*ent.Incident{scan, phish, ransom}},
			{"status", &IncidentFilter{Status: []enum.IncidentStatus{enum.IncidentStatusInProgress, enum.IncidentStatusEscalated}}, []*ent.Incident{scan, ransom}},
			{"severity", &IncidentFilter{Severity: []enum.Severity{enum.SeverityMedium}}, []*ent.Incident{phish}},
			{"assignee or unassigned", &IncidentFilter{AssigneeID: []uuid.UUID{o.bob.ID}, Unassigned: &yes}, []*ent.Incident{phish, ransom}},
			{"tag", &IncidentFilter{Tag: []string{"email", "none"}}, []*ent.Incident{phish}},
			{"text, wildcards literal", &IncidentFilter{Q: ptr("100%_")}, []*ent.Incident{phish}},
			{"text, case-insensitive", &IncidentFilter{Q: ptr("RANSOM")}, []*ent.Incident{ransom}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				page, err := o.svc.List(o.ctx, tc.f, paging.Page{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if page.TotalCount != len(tc.want) || len(page.Edges) != len(tc.want) {
					t.Fatalf("%d incidents, want %d", page.TotalCount, len(tc.want))
				}
				for i, e := range page.Edges {
					if e.Node.ID != tc.want[i].ID {
						t.Fatalf("item %d = %q, want %q", i, e.Node.Title, tc.want[i].Title)
					}
				}
			})
		}
		t.Run("by severity, paged", func(t *testing.T) {
			order := &ent.IncidentOrder{Field: ent.IncidentOrderFieldSeverityRank, Direction: paging.Desc}
			one := 1
			first, err := o.svc.List(o.ctx, nil, paging.Page{First: &one}, order)
			if err != nil {
				t.Fatal(err)
			}
			second, err := o.svc.List(o.ctx, nil, paging.Page{After: first.PageInfo.EndCursor, First: &one}, order)
			if err != nil {
				t.Fatal(err)
			}
			if first.Edges[0].Node.ID != ransom.ID || second.Edges[0].Node.ID != phish.ID {
				t.Fatalf("severity order: %q then %q", first.Edges[0].Node.Title, second.Edges[0].Node.Title)
			}
		})
		t.Run("bad filters", func(t *testing.T) {
			_, err := o.svc.List(o.ctx, &IncidentFilter{Status: []enum.IncidentStatus{"open"}}, paging.Page{}, nil)
			wantInvalid(t, err, "filter.status")
			_, err = o.svc.List(o.ctx, &IncidentFilter{Q: ptr("a\x00")}, paging.Page{}, nil)
			wantInvalid(t, err, "filter.q")
			both := 1
			_, err = o.svc.List(o.ctx, nil, paging.Page{First: &both, Last: &both}, nil)
			wantInvalid(t, err, "last")
		})
	})
}
