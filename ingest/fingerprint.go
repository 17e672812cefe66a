package ingest

import (
	"encoding/binary"

	farm "github.com/dgryski/go-farm"

	"encoding/hex"

	"github.com/google/uuid"

	"github.com/seliq/seliq/ingest/catalogue"
)

// fingerprint identifies "the same alert" for deduplication: a hash of the
// connector and of each dedup field's name and value. Every name and value
// is length-prefixed, so no choice of values can make two different tuples
// encode alike ("a|b","c" versus "a","b|c"), and naming the fields keeps a
// change of a connector's dedup fields from merging unrelated alerts.
func fingerprint(connectorID uuid.UUID, fields []string, a *catalogue.Alert) string {
	buf := make([]byte, 0, 256)
	buf = append(buf, connectorID[:]...)
	for _, f := range fields {
		buf = appendField(buf, f)
		buf = appendField(buf, dedupValue(f, a))
	}
	var out [8]byte
	binary.BigEndian.PutUint64(out[:], hash64(buf))
	return hex.EncodeToString(out[:])
}

func appendField(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// dedupValue is the value of a dedup field: a normalised field or an
// attribute ("" when the alert has none).
func dedupValue(field string, a *catalogue.Alert) string {
	switch field {
	case "source":
		return a.Source
	case "title":
		return a.Title
	case "external_id":
		return a.ExternalID
	case "severity":
		return string(a.Severity)
	}
	return a.Attributes[field]
}

// hash64 is the fingerprint's hash: FarmHash's Fingerprint64, stable
// across processes, platforms and releases. It is not built to resist
// crafted collisions, but the connector id heads its input, so only a
// connector could collide with its own alerts.
func hash64(b []byte) uint64 { return farm.Fingerprint64(b) }
