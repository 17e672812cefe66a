// Package eval measures the built-in analyst against an expert: a set of
// alerts in their vendors' own formats (cases/*.json), each labelled with a
// verdict, ATT&CK techniques and IOCs, is ingested the way the ingest
// pipeline does it (catalogue mapping, then entity extraction) and
// analysed; Run compares each analysis with its label.
//
// A quarter of the cases are marked held_out: they were set aside before
// the analyst's rules were written and are reported separately, so the
// figures on them say how well the rules generalise.
package eval

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/seliq/seliq/ai/builtin"
	"github.com/seliq/seliq/ingest/catalogue"
	"github.com/seliq/seliq/ingest/entities"
)

//go:embed cases/*.json profile.json
var files embed.FS

// Verdicts an expert gives; the analyst's four map onto them (needs_review
// counts as suspicious).
const (
	Malicious  = "malicious"
	Suspicious = "suspicious"
	Benign     = "benign"
)

// Label is what the expert decided about one alert.
type Label struct {
	Verdict    string   `json:"verdict"`
	Techniques []string `json:"techniques"`
	IOCs       []string `json:"iocs"`
}

// Case is one alert of the set.
type Case struct {
	ID        string          `json:"id"`
	Vendor    string          `json:"vendor"`    // the product that raised it
	Connector string          `json:"connector"` // the catalogue type it arrives through
	Source    string          `json:"source"`    // the public detection content it is built from
	Label     Label           `json:"label"`
	Note      string          `json:"note,omitempty"`
	HeldOut   bool            `json:"held_out"`
	Payload   json.RawMessage `json:"payload"`
}

// Cases returns the evaluation set in a stable order (vendor files by
// name, cases in file order).
func Cases() ([]Case, error) {
	names, err := fs.Glob(files, "cases/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Case
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var cs []Case
		if err := json.Unmarshal(b, &cs); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Base(n), err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

// Profile is the asset profile of the organisation the set's alerts come
// from (example.com).
func Profile() (builtin.AssetProfile, error) {
	var p builtin.AssetProfile
	b, err := files.ReadFile("profile.json")
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("profile.json: %w", err)
	}
	return p, nil
}

// Ingest maps the case's payload with its connector type and extracts the
// entities as the ingest pipeline does; a case must map to one alert.
func Ingest(c Case) (builtin.Alert, error) {
	mapped, err := catalogue.Map(c.Connector, c.Payload)
	if err != nil {
		return builtin.Alert{}, fmt.Errorf("%s: %w", c.ID, err)
	}
	if len(mapped) != 1 {
		return builtin.Alert{}, fmt.Errorf("%s: mapped to %d alerts, want 1", c.ID, len(mapped))
	}
	a := mapped[0]
	out := builtin.Alert{
		ID: c.ID, Title: a.Title, Description: a.Description, Source: builtin.SourceName(a.Source),
		Severity: string(a.Severity), Status: "new", Tags: a.Tags, Raw: a.Raw, Occurrences: 1,
		Entities:         entities.ExtractAlert(a.Attributes, a.Raw, a.Title, a.Description),
		VendorTechniques: a.Mitre,
	}
	if a.EventTime != nil {
		out.FirstSeenAt, out.LastSeenAt = *a.EventTime, *a.EventTime
	}
	return out, nil
}
