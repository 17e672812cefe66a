package main

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// The generated queue: what a mid-sized SOC's alert table looks like after
// a month, in the columns ent's migration creates (ent/migrate/schema.go).

// listTag is the tag the measured list filters on; about a third of the
// alerts carry it, as EDR alerts do in a typical queue.
const listTag = "edr"

// bulkTag marks the open alerts the bulk measurement closes: the first
// bulkTarget open alerts generated (all of them when fewer are open).
const (
	bulkTag    = "bulk-close"
	bulkTarget = 10_000
)

// spreadDays is how far back the generated alerts reach.
const spreadDays = 30

// weighted is a value drawn with a relative weight.
type weighted struct {
	value  string
	weight int
}

func pick(r *mrand.Rand, ws []weighted) string {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n < w.weight {
			return w.value
		}
		n -= w.weight
	}
	return ws[len(ws)-1].value
}

var severities = []weighted{{"critical", 5}, {"high", 20}, {"medium", 35}, {"low", 25}, {"info", 15}}

// severityRank is the rank ent's hook keeps in step with severity.
var severityRank = map[string]int{"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1}

var statuses = []weighted{{"new", 40}, {"acknowledged", 10}, {"in_progress", 8}, {"resolved", 17}, {"closed", 25}}

var dispositions = []weighted{{"true_positive", 15}, {"false_positive", 45}, {"benign", 35}, {"duplicate", 5}}

// sources are connector types of the catalogue, weighted by how noisy
// such tools usually are.
var sources = []weighted{
	{"crowdstrike", 20}, {"sentinelone", 10}, {"defender", 15}, {"splunk", 15},
	{"elastic", 10}, {"wazuh", 15}, {"suricata", 10}, {"alertmanager", 5},
}

// sourceTags are the tags an alert of a source may carry besides listTag.
var sourceTags = []string{"network", "identity", "cloud", "malware", "phishing", "lateral-movement", "exfiltration", "prod", "pci", "vip"}

var titleTemplates = []string{
	"Suspicious PowerShell execution on %s",
	"Credential dumping (LSASS access) on %s",
	"Ransomware behaviour detected on %s",
	"Outbound connection to known C2 from %s",
	"Impossible travel for user on %s",
	"Brute-force logins against %s",
	"Malicious macro document opened on %s",
	"Port scan originating from %s",
	"Disk usage critical on %s",
	"New service installed on %s",
	"DNS tunnelling suspected from %s",
	"Privilege escalation via sudo on %s",
}

var mitreTechniques = []string{"T1059.001", "T1003.001", "T1486", "T1071", "T1078", "T1110", "T1204.002", "T1046", "T1543.003", "T1071.004", "T1548.003"}

// entity is one extracted indicator, as ent/schematype.Entity stores it.
type entity struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// alertRow is one row of the alerts table. Nullable columns are pointers;
// JSON columns hold their encoded document, as ent writes them.
type alertRow struct {
	ID             uuid.UUID
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Source         string
	ExternalID     string
	Title          string
	Description    string
	Severity       string
	SeverityRank   int
	Status         string
	Disposition    *string
	Tags           []byte
	Entities       []byte
	Mitre          []byte
	Attributes     []byte
	Raw            []byte
	Fingerprint    string
	DedupKey       *string
	Occurrences    int
	FirstSeenAt    time.Time
	LastSeenAt     time.Time
	EventTime      *time.Time
	IngestedAt     time.Time
	AcknowledgedAt *time.Time
	ResolvedAt     *time.Time
	OrganizationID uuid.UUID
	ConnectorID    *uuid.UUID
	AssigneeID     *uuid.UUID
	IncidentID     *uuid.UUID
}

// alertColumns are the alerts table's columns in alertRow's order.
var alertColumns = []string{
	"id", "created_at", "updated_at", "source", "external_id", "title", "description",
	"severity", "severity_rank", "status", "disposition", "tags", "entities", "mitre", "attributes", "raw",
	"fingerprint", "dedup_key", "occurrences", "first_seen_at", "last_seen_at", "event_time",
	"ingested_at", "acknowledged_at", "resolved_at", "organization_id", "connector_id",
	"assignee_id", "incident_id",
}

// values lists the row's columns in alertColumns' order, as the Go values
// ent itself would bind (nil for SQL NULL).
func (a *alertRow) values() []any {
	return []any{
		a.ID, a.CreatedAt, a.UpdatedAt, a.Source, a.ExternalID, a.Title, a.Description,
		a.Severity, a.SeverityRank, a.Status, nullable(a.Disposition), jsonOrNull(a.Tags), jsonOrNull(a.Entities), jsonOrNull(a.Mitre), jsonOrNull(a.Attributes), jsonOrNull(a.Raw),
		a.Fingerprint, nullable(a.DedupKey), a.Occurrences, a.FirstSeenAt, a.LastSeenAt, nullable(a.EventTime),
		a.IngestedAt, nullable(a.AcknowledgedAt), nullable(a.ResolvedAt), a.OrganizationID, nullable(a.ConnectorID),
		nullable(a.AssigneeID), nullable(a.IncidentID),
	}
}

// jsonOrNull is an encoded JSON column, or SQL NULL when unset.
func jsonOrNull(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// nullable turns a nil pointer into an untyped nil (SQL NULL) and any other
// into its value.
func nullable[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// generator produces the rows of one organisation's queue. It is
// deterministic for a seed and a clock, so every run loads the same data.
type generator struct {
	rng        *mrand.Rand
	now        time.Time
	org        uuid.UUID
	assignee   uuid.UUID
	connectors map[string]uuid.UUID // by source; a missing source gets NULL
	seq        int
	bulkLeft   int
}

func newGenerator(seed uint64, now time.Time, org, assignee uuid.UUID, connectors map[string]uuid.UUID) *generator {
	return &generator{
		rng: mrand.New(mrand.NewPCG(seed, seed^0x5e11c0)), now: now.UTC(),
		org: org, assignee: assignee, connectors: connectors, bulkLeft: bulkTarget,
	}
}

// next returns the next alert.
func (g *generator) next() alertRow {
	r := g.rng
	g.seq++
	source := pick(r, sources)
	host := fmt.Sprintf("%s-%04d", []string{"ws", "srv", "db", "web", "k8s"}[r.IntN(5)], r.IntN(2000))
	created := g.now.Add(-time.Duration(r.Int64N(int64(spreadDays * 24 * time.Hour))))
	severity := pick(r, severities)
	status := pick(r, statuses)

	a := alertRow{
		ID:             timeOrderedID(r, created),
		CreatedAt:      created,
		Source:         source,
		ExternalID:     fmt.Sprintf("%s-%d", source, 1_000_000+g.seq),
		Title:          fmt.Sprintf(titleTemplates[r.IntN(len(titleTemplates))], host),
		Severity:       severity,
		SeverityRank:   severityRank[severity],
		Status:         status,
		Occurrences:    occurrences(r),
		FirstSeenAt:    created,
		IngestedAt:     created,
		OrganizationID: g.org,
	}
	a.Description = "Detected by " + source + " on " + host + ". " + a.Title + "."
	a.LastSeenAt = created.Add(time.Duration(a.Occurrences-1) * time.Duration(1+r.IntN(120)) * time.Second)
	a.UpdatedAt = a.LastSeenAt
	eventTime := created.Add(-time.Duration(r.IntN(30)) * time.Second)
	a.EventTime = &eventTime
	if id, ok := g.connectors[source]; ok {
		a.ConnectorID = &id
	}
	g.triage(&a)
	tags := g.tags(&a)
	a.Tags = mustJSON(tags)
	a.Entities = mustJSON(entities(r, host))
	if r.IntN(3) > 0 {
		a.Mitre = mustJSON([]string{mitreTechniques[r.IntN(len(mitreTechniques))]})
	}
	rule := ruleNames[r.IntN(len(ruleNames))]
	a.Attributes = mustJSON(map[string]string{"rule": rule, "host": host})
	a.Raw = mustJSON(map[string]any{"vendor": source, "id": a.ExternalID, "host": host, "title": a.Title, "severity": severity, "rule": rule})
	// Unique per alert (the real one hashes the dedup fields). dedup_key
	// stays NULL: every window of a month-old queue has lapsed.
	a.Fingerprint = fmt.Sprintf("%016x", r.Uint64())
	return a
}

// ruleNames are the detection rules the generated alerts' connectors map to
// attributes.rule.
var ruleNames = []string{
	"Credential Dumping", "Suspicious PowerShell", "NodeDown", "ET SCAN Nmap", "Brute Force", "Impossible Travel",
	"Malware Detected", "Ransomware Behavior", "C2 Beacon", "Lateral Movement via SMB", "Phishing Link Clicked",
	"Privilege Escalation", "Disk Space Low", "Web Shell", "DNS Tunneling", "Unusual Login Hour",
}

// triage sets what an analyst's work leaves: acknowledgement, assignee,
// resolution and, for closed alerts, a disposition.
func (g *generator) triage(a *alertRow) {
	r := g.rng
	if a.Status == "new" {
		return
	}
	ack := a.CreatedAt.Add(time.Duration(1+r.IntN(240)) * time.Minute)
	a.AcknowledgedAt = &ack
	a.UpdatedAt = later(a.UpdatedAt, ack)
	if a.Status == "in_progress" || r.IntN(2) == 0 {
		a.AssigneeID = &g.assignee
	}
	if a.Status == "resolved" || a.Status == "closed" {
		res := ack.Add(time.Duration(1+r.IntN(48*60)) * time.Minute)
		a.ResolvedAt = &res
		a.UpdatedAt = later(a.UpdatedAt, res)
	}
	if a.Status == "closed" {
		d := pick(r, dispositions)
		a.Disposition = &d
	}
}

// tags draws the alert's tags: listTag for about a third, up to two
// others, and bulkTag while open alerts remain to mark.
func (g *generator) tags(a *alertRow) []string {
	r := g.rng
	tags := make([]string, 0, 4)
	if r.IntN(3) == 0 {
		tags = append(tags, listTag)
	}
	for range r.IntN(3) {
		t := sourceTags[r.IntN(len(sourceTags))]
		if !contains(tags, t) {
			tags = append(tags, t)
		}
	}
	if g.bulkLeft > 0 && isOpen(a.Status) {
		g.bulkLeft--
		tags = append(tags, bulkTag)
	}
	return tags
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// bulkStatuses are the open statuses; closing applies to them.
var bulkStatuses = []string{"new", "acknowledged", "in_progress"}

func isOpen(status string) bool { return contains(bulkStatuses, status) }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// occurrences is mostly 1, with a long tail of noisy repeats.
func occurrences(r *mrand.Rand) int {
	switch n := r.IntN(100); {
	case n < 75:
		return 1
	case n < 95:
		return 2 + r.IntN(5)
	default:
		return 10 + r.IntN(200)
	}
}

func entities(r *mrand.Rand, host string) []entity {
	es := []entity{
		{Type: "hostname", Value: host},
		{Type: "ipv4", Value: fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254))},
	}
	if r.IntN(2) == 0 {
		es = append(es, entity{Type: "user", Value: fmt.Sprintf("user%03d", r.IntN(500))})
	}
	if r.IntN(4) == 0 {
		var h [32]byte
		for i := range 4 {
			binary.BigEndian.PutUint64(h[i*8:], r.Uint64())
		}
		es = append(es, entity{Type: "sha256", Value: hex.EncodeToString(h[:])})
	}
	return es
}

// timeOrderedID is a UUIDv7 whose timestamp is t, so ids sort by creation
// as those the server mints do.
func timeOrderedID(r *mrand.Rand, t time.Time) uuid.UUID {
	var id uuid.UUID
	binary.BigEndian.PutUint64(id[8:], r.Uint64())
	binary.BigEndian.PutUint64(id[:8], uint64(t.UnixMilli())<<16|uint64(r.Uint32()&0x0fff))
	id[6] = id[6]&0x0f | 0x70 // version 7
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err)) // only fixed, marshalable types reach here
	}
	return b
}
