package demo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// doc is one JSON object as a vendor writes it.
type doc = map[string]any

// vendor is a connector type the demo sends alerts from.
type vendor struct {
	key       string // catalogue key
	connector string // name of the demo connector
	share     int    // relative share of the alerts
	// alert describes one detection at time at, in the vendor's own format.
	alert func(g *gen, at time.Time) doc
	// envelope is the body the vendor posts for a batch of alert documents.
	envelope func(g *gen, docs []json.RawMessage) ([]byte, error)
}

// vendors are in connector order; the shares are a plausible mix for a
// mid-sized company: host and network sensors are the noisiest.
var vendors = []vendor{
	{key: "crowdstrike", connector: "Demo CrowdStrike", share: 10, alert: falconAlert, envelope: falconEnvelope},
	{key: "sentinelone", connector: "Demo SentinelOne", share: 5, alert: s1Threat, envelope: s1Envelope},
	{key: "defender", connector: "Demo Defender", share: 10, alert: defenderAlert, envelope: defenderEnvelope},
	{key: "wazuh", connector: "Demo Wazuh", share: 22, alert: wazuhAlert, envelope: ndjson},
	{key: "suricata", connector: "Demo Suricata", share: 20, alert: suricataAlert, envelope: suricataEnvelope},
	{key: "alertmanager", connector: "Demo Alertmanager", share: 10, alert: alertmanagerAlert, envelope: alertmanagerEnvelope},
	{key: "elastic", connector: "Demo Elastic", share: 11, alert: elasticAlert, envelope: elasticEnvelope},
	{key: "splunk", connector: "Demo Splunk", share: 8, alert: splunkNotable, envelope: jsonArray},
	{key: "email", connector: "Demo Phishing Mailbox", share: 4, alert: emailReport, envelope: jsonArray},
}

// Vendors returns the catalogue keys of the connector types the demo
// generates alerts for, in connector order.
func Vendors() []string {
	keys := make([]string, len(vendors))
	for i, v := range vendors {
		keys[i] = v.key
	}
	return keys
}

// ConnectorName returns the name of the demo connector for a vendor key.
func ConnectorName(key string) (string, bool) {
	v, ok := lookup(key)
	return v.connector, ok
}

func lookup(key string) (vendor, bool) {
	for _, v := range vendors {
		if v.key == key {
			return v, true
		}
	}
	return vendor{}, false
}

func mustLookup(key string) (vendor, error) {
	v, ok := lookup(key)
	if !ok {
		return v, fmt.Errorf("demo: no generator for connector type %q", key)
	}
	return v, nil
}

// Documents returns n alerts of the vendor, each one JSON object as the
// vendor describes one detection, with event times in (now-span, now],
// oldest first. Everything in them comes from r.
func Documents(key string, r *rand.Rand, n int, now time.Time, span time.Duration) ([]json.RawMessage, error) {
	v, err := mustLookup(key)
	if err != nil {
		return nil, err
	}
	g := newGen(r, now)
	out := make([]json.RawMessage, n)
	for i, at := range g.eventTimes(n, span) {
		if out[i], err = v.document(g, at); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// document is one alert of the vendor at time at, as JSON.
func (v vendor) document(g *gen, at time.Time) (json.RawMessage, error) {
	b, err := json.Marshal(v.alert(g, at))
	if err != nil {
		return nil, fmt.Errorf("demo: %s alert: %w", v.key, err)
	}
	return b, nil
}

// Envelope returns the body the vendor posts for docs: its API's list
// envelope, its webhook body, newline-delimited JSON or a plain array.
func Envelope(key string, r *rand.Rand, docs []json.RawMessage) ([]byte, error) {
	v, err := mustLookup(key)
	if err != nil {
		return nil, err
	}
	return v.envelope(newGen(r, time.Time{}), docs)
}

// Payloads returns one body of n new alerts of the vendor, as it would post
// them, with event times in (now-span, now].
func Payloads(key string, r *rand.Rand, n int, now time.Time, span time.Duration) ([]byte, error) {
	docs, err := Documents(key, r, n, now, span)
	if err != nil {
		return nil, err
	}
	return Envelope(key, r, docs)
}

// ---- envelopes shared by several vendors ----

func jsonArray(_ *gen, docs []json.RawMessage) ([]byte, error) { return json.Marshal(docs) }

// ndjson is what log shippers forward from a vendor's alert file.
func ndjson(_ *gen, docs []json.RawMessage) ([]byte, error) {
	var b []byte
	for _, d := range docs {
		b = append(b, d...)
		b = append(b, '\n')
	}
	return b, nil
}

// ---- time formats ----

// isoMillis is the RFC 3339 UTC form most APIs write.
func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// isoOffset is the "+0000" form of Wazuh (millis) and Suricata (micros).
func isoOffset(t time.Time, frac string) string {
	return t.UTC().Format("2006-01-02T15:04:05." + frac + "-0700")
}

// syslogTime is the timestamp of a syslog line.
func syslogTime(t time.Time) string { return t.UTC().Format(time.Stamp) }
