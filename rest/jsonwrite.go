package rest

import (
	"bytes"
	"encoding/json"

	"github.com/seliq/seliq/internal/jsonscan"
)

// copyValue consumes one value of s and writes it to out as written.
func copyValue(out *bytes.Buffer, s *jsonscan.Scanner) error {
	raw, err := s.Skip()
	out.Write(raw)
	return err
}

// writeString writes v as a JSON string.
func writeString(out *bytes.Buffer, v string) error {
	b, err := json.Marshal(v)
	out.Write(b)
	return err
}
