package enum_test

import (
	"bytes"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seliq/seliq/enum"
)

// gqlEnum is what every generated enum type implements on its pointer.
type gqlEnum[T ~string] interface {
	*T
	MarshalGQL(io.Writer)
	UnmarshalGQL(any) error
	Values() []string
	Valid() bool
}

func marshal[T ~string, P gqlEnum[T]](v T) string {
	var b bytes.Buffer
	P(&v).MarshalGQL(&b)
	return b.String()
}

// checkEnum runs the shared contract over one enum type.
func checkEnum[T ~string, P gqlEnum[T]](t *testing.T, want []string) {
	t.Helper()
	var zero T
	got := P(&zero).Values()
	if !slices.Equal(got, want) {
		t.Fatalf("Values() = %v, want %v", got, want)
	}
	for _, stored := range want {
		t.Run(stored, func(t *testing.T) {
			upper := enum.GraphQLName(stored)
			if back := enum.StoredNameIn(reflect.TypeFor[T]().Name(), upper); back != stored {
				t.Errorf("StoredName(%q) = %q, want %q", upper, back, stored)
			}
			if m := marshal[T, P](T(stored)); m != strconv.Quote(upper) {
				t.Errorf("MarshalGQL(%q) = %s, want %q", stored, m, upper)
			}
			if !P(new(T(stored))).Valid() {
				t.Errorf("%q.Valid() = false", stored)
			}
			if P(new(T(upper))).Valid() && upper != stored {
				t.Errorf("%q.Valid() = true; the stored spelling is lower-case", upper)
			}
			for _, in := range []string{stored, upper} {
				var v T
				if err := P(&v).UnmarshalGQL(in); err != nil {
					t.Errorf("UnmarshalGQL(%q): %v", in, err)
				} else if string(v) != stored {
					t.Errorf("UnmarshalGQL(%q) = %q, want %q", in, v, stored)
				}
			}
		})
	}
	for _, bad := range []any{"", "nope", strings.ToUpper(want[0]) + "_X", " " + want[0], want[0] + " ", 1, nil, []byte(want[0]), true} {
		var v T
		if err := P(&v).UnmarshalGQL(bad); err == nil {
			t.Errorf("UnmarshalGQL(%#v) = %q, want an error", bad, v)
		}
	}
}

func TestEnums(t *testing.T) {
	t.Run("Role", func(t *testing.T) { checkEnum[enum.Role](t, []string{"admin", "analyst", "read_only"}) })
	t.Run("Severity", func(t *testing.T) {
		checkEnum[enum.Severity](t, []string{"critical", "high", "medium", "low", "info"})
	})
	t.Run("AlertStatus", func(t *testing.T) {
		checkEnum[enum.AlertStatus](t, []string{"new", "acknowledged", "in_progress", "resolved", "closed"})
	})
	t.Run("IncidentStatus", func(t *testing.T) {
		checkEnum[enum.IncidentStatus](t, []string{"new", "in_progress", "pending", "escalated", "closed"})
	})
	t.Run("Disposition", func(t *testing.T) {
		checkEnum[enum.Disposition](t, []string{"true_positive", "false_positive", "benign", "duplicate"})
	})
	t.Run("ConnectorMode", func(t *testing.T) { checkEnum[enum.ConnectorMode](t, []string{"push", "pull"}) })
	t.Run("TimelineKind", func(t *testing.T) {
		checkEnum[enum.TimelineKind](t, []string{"alert_linked", "alert_unlinked", "status_changed", "severity_changed",
			"assignee_changed", "note_added", "report_generated", "sla_at_risk", "sla_breached", "analyst_action", "manual"})
	})
	t.Run("ChatRole", func(t *testing.T) { checkEnum[enum.ChatRole](t, []string{"user", "assistant", "system", "tool"}) })
	t.Run("ReportKind", func(t *testing.T) { checkEnum[enum.ReportKind](t, []string{"internal", "client"}) })
	t.Run("ReportFormat", func(t *testing.T) { checkEnum[enum.ReportFormat](t, []string{"pdf", "html", "markdown"}) })
	t.Run("JobStatus", func(t *testing.T) {
		checkEnum[enum.JobStatus](t, []string{"pending", "running", "ready", "failed"})
	})
	t.Run("NotificationKind", func(t *testing.T) {
		checkEnum[enum.NotificationKind](t, []string{"assigned", "mentioned", "incident_status", "sla_at_risk",
			"sla_breach", "critical_alert", "connector_failing", "automation_failed", "automation"})
	})
	t.Run("TriggerEvent", func(t *testing.T) {
		checkEnum[enum.TriggerEvent](t, []string{"alert.created", "alert.merged", "alert.updated", "incident.created",
			"incident.updated", "sla.at_risk", "sla.breached"})
		// GraphQL names cannot hold a dot: both directions map.
		for stored, gql := range map[string]string{"alert.created": "ALERT_CREATED", "sla.at_risk": "SLA_AT_RISK"} {
			if g := enum.GraphQLName(stored); g != gql {
				t.Errorf("GraphQLName(%s) = %q, want %s", stored, g, gql)
			}
			if s := enum.StoredNameIn("TriggerEvent", gql); s != stored {
				t.Errorf("StoredName(%s) = %q, want %s", gql, s, stored)
			}
		}
	})
	t.Run("AutomationTarget", func(t *testing.T) { checkEnum[enum.AutomationTarget](t, []string{"alert", "incident"}) })
	t.Run("SLAClockMode", func(t *testing.T) {
		checkEnum[enum.SLAClockMode](t, []string{"24x7", "business_hours"})
		if g := enum.GraphQLName("24x7"); g != "TWENTY_FOUR_SEVEN" {
			t.Errorf("GraphQLName(24x7) = %q; a GraphQL name cannot start with a digit", g)
		}
	})
	t.Run("SLAState", func(t *testing.T) {
		checkEnum[enum.SLAState](t, []string{"ok", "at_risk", "breached", "met", "paused"})
	})
	t.Run("SLATimer", func(t *testing.T) { checkEnum[enum.SLATimer](t, []string{"acknowledge", "resolve"}) })
}

func TestUnmarshalErrorNamesValues(t *testing.T) {
	var r enum.Role
	err := r.UnmarshalGQL("superuser")
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"superuser", "admin", "analyst", "read_only"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := r.UnmarshalGQL(42); err == nil || !strings.Contains(err.Error(), "int") {
		t.Errorf("UnmarshalGQL(42) error = %v, want one naming the type", err)
	}
}

func TestNameMapping(t *testing.T) {
	tests := []struct{ stored, graphql string }{
		{"admin", "ADMIN"},
		{"read_only", "READ_ONLY"},
		{"in_progress", "IN_PROGRESS"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := enum.GraphQLName(tt.stored); got != tt.graphql {
			t.Errorf("GraphQLName(%q) = %q, want %q", tt.stored, got, tt.graphql)
		}
		if got := enum.StoredName(tt.graphql); got != tt.stored {
			t.Errorf("StoredName(%q) = %q, want %q", tt.graphql, got, tt.stored)
		}
	}
}

func TestValid(t *testing.T) {
	vals := enum.Role("").Values()
	tests := []struct {
		in   string
		want bool
	}{
		{"admin", true}, {"read_only", true}, {"ADMIN", false}, {"", false}, {"root", false},
	}
	for _, tt := range tests {
		if got := enum.Valid(tt.in, vals); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
