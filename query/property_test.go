package query_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// TestSQLAgreesWithMemory is the property the language rests on: random
// well-typed expressions select the same alerts through SQL (on both
// databases) as through in-memory evaluation, including missing values,
// ranked severities, case and non-ASCII text and regular expressions.
func TestSQLAgreesWithMemory(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		w := buildWorld(t, db)
		rng := rand.New(rand.NewPCG(42, uint64(len(db.Dialect))))
		n := 400
		if testing.Short() {
			n = 100
		}
		for range n {
			text := randomExpr(rng, 3)
			q := compile(t, text)
			sqlSet, memSet := w.viaSQL(t, q), w.inMemory(t, q)
			if !slices.Equal(sqlSet, memSet) {
				t.Errorf("%s:\n  SQL       %q\n  in memory %q", text, sqlSet, memSet)
			}
		}
	})
}

var (
	enumFields = []string{"status", "disposition", "incident.status"}
	strFields  = []string{"source", "title", "description", "external_id", "connector.name", "connector.type", "assignee.email", "assignee.handle", "attributes.rule", "attributes.host", `attributes["signature_id"]`}
	listFields = []string{"tags", "techniques", "entities.ip", "entities.host", "entities.user", "entities.domain", "entities.url", "entities.email", "entities.hash", "entities.cve"}
	intFields  = []string{"occurrences", "incident.number"}
	timeFields = []string{"created_at", "first_seen_at", "last_seen_at"}
	strValues  = []string{"", "new", "closed", "false_positive", "benign", "crowdstrike", "suricata", "EDR prod", "ana@soc.test", "ana",
		"in_progress", "NodeDown", "Credential Dumping", "ws-01", "prod", "edr", "infra", "203.0.113.7", "2001:db8::1", "alice",
		"Port scan", "Ünïcode Título", "Case TEST", "crowd", "P", "N", "a", "ü", "Ü", "T1003.001", "2000537", "evil.example"}
	patterns   = []string{"^P", "(?i)port", "scan$", "^$", "[0-9]+", "Ü", "(?i)ü", `\d{3}\.`, "a|e", "^.{5,10}$", "ws-0[1-9]", `^\w+$`, `[^a-z]`}
	severities = []string{"critical", "high", "medium", "low", "info"}
	orderings  = []string{"==", "!=", "<", "<=", ">", ">="}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func quote(s string) string { return fmt.Sprintf("%q", s) }

func randomExpr(r *rand.Rand, depth int) string {
	if depth > 0 && r.IntN(3) > 0 {
		switch r.IntN(3) {
		case 0:
			return "(" + randomExpr(r, depth-1) + " && " + randomExpr(r, depth-1) + ")"
		case 1:
			return "(" + randomExpr(r, depth-1) + " || " + randomExpr(r, depth-1) + ")"
		default:
			return "!(" + randomExpr(r, depth-1) + ")"
		}
	}
	return randomAtom(r)
}

func randomAtom(r *rand.Rand) string {
	switch r.IntN(12) {
	case 0:
		return "severity " + pick(r, orderings) + " " + quote(pick(r, severities))
	case 1:
		return "severity in [" + quote(pick(r, severities)) + ", " + quote(pick(r, severities)) + "]"
	case 2:
		if r.IntN(2) == 0 {
			f := pick(r, enumFields)
			vals := map[string][]string{"status": {"new", "acknowledged", "in_progress", "resolved", "closed"},
				"disposition": {"", "true_positive", "false_positive", "benign", "duplicate"}, "incident.status": {"", "new", "in_progress", "closed"}}[f]
			return f + " " + pick(r, []string{"==", "!="}) + " " + quote(pick(r, vals))
		}
		return pick(r, strFields) + " " + pick(r, orderings) + " " + quote(pick(r, strValues))
	case 3:
		f := pick(r, append(slices.Clone(strFields), enumFields...))
		fn := pick(r, []string{"contains", "startsWith", "endsWith"})
		return f + "." + fn + "(" + quote(pick(r, strValues)) + ")"
	case 4:
		return pick(r, strFields) + ".matches(" + quote(pick(r, patterns)) + ")"
	case 5:
		return quote(pick(r, strValues)) + " in " + pick(r, listFields)
	case 6:
		l := pick(r, listFields)
		fn := pick(r, []string{"exists", "all"})
		inner := pick(r, []string{
			"x == " + quote(pick(r, strValues)),
			"x.startsWith(" + quote(pick(r, strValues)) + ")",
			"x.matches(" + quote(pick(r, patterns)) + ")",
			"x > " + quote(pick(r, strValues)),
			"!(x.endsWith(" + quote(pick(r, strValues)) + ")) || x == " + quote(pick(r, strValues)),
		})
		return l + "." + fn + "(x, " + inner + ")"
	case 7:
		return "size(" + pick(r, listFields) + ") " + pick(r, orderings) + " " + fmt.Sprint(r.IntN(4))
	case 8:
		if r.IntN(4) == 0 {
			return pick(r, intFields) + " " + pick(r, orderings[2:]) + " 2.5"
		}
		return pick(r, intFields) + " " + pick(r, orderings) + " " + pick(r, []string{"0", "1", "3", "7", "12", "40"})
	case 9:
		return pick(r, timeFields) + " " + pick(r, orderings[2:]) + " now - duration(" + quote(pick(r, []string{"10m", "1h", "3h", "24h", "240h"})) + ")"
	case 10:
		return pick(r, []string{"assignee", "connector", "incident"}) + " " + pick(r, []string{"==", "!="}) + " null"
	default:
		return pick(r, strFields) + " in [" + quote(pick(r, strValues)) + ", " + quote(pick(r, strValues)) + "]"
	}
}
