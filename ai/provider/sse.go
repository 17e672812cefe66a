package provider

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// maxSSELine bounds one line of an event stream; provider chunks are small,
// so anything larger is a broken or hostile server.
const maxSSELine = 4 << 20

// sseEvent is one dispatched server-sent event.
type sseEvent struct {
	Event string // the "event:" field, empty when absent
	Data  string // "data:" lines joined with "\n"
}

// sseReader parses the text/event-stream format as the HTML standard
// defines it: lines end in CRLF, LF or CR; a blank line dispatches; lines
// starting with ':' are comments; an event without data is not dispatched;
// a trailing event without its blank line is discarded at EOF.
type sseReader struct {
	sc      *bufio.Scanner
	started bool
}

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4<<10), maxSSELine)
	sc.Split((&lineSplitter{}).split)
	return &sseReader{sc: sc}
}

// Next returns the next event, or io.EOF when the stream ends cleanly.
func (r *sseReader) Next() (sseEvent, error) {
	var ev sseEvent
	var data strings.Builder
	hasData := false
	for r.sc.Scan() {
		line := r.sc.Bytes()
		if !r.started {
			r.started = true
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		if len(line) == 0 {
			if hasData {
				ev.Data = data.String()
				return ev, nil
			}
			ev = sseEvent{}
			continue
		}
		field, value := splitSSEField(line)
		switch field {
		case "event":
			ev.Event = value
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		}
	}
	if err := r.sc.Err(); err != nil {
		return sseEvent{}, err
	}
	return sseEvent{}, io.EOF
}

// splitSSEField splits "field: value", dropping one space after the colon.
// Comment lines yield an empty field, which the caller ignores.
func splitSSEField(line []byte) (field, value string) {
	name, val, found := bytes.Cut(line, []byte(":"))
	if !found {
		return string(line), ""
	}
	return string(name), string(bytes.TrimPrefix(val, []byte(" ")))
}

// lineSplitter is a bufio.SplitFunc accepting CRLF, LF and lone CR
// endings. It remembers how much of the pending line it already searched, so
// a long line arriving in many small reads costs linear, not quadratic, time.
type lineSplitter struct{ scanned int }

func (s *lineSplitter) split(data []byte, atEOF bool) (int, []byte, error) {
	i := bytes.IndexAny(data[s.scanned:], "\r\n")
	if i >= 0 {
		i += s.scanned
	}
	switch {
	case i < 0 && atEOF && len(data) > 0:
		return s.token(len(data), data)
	case i < 0:
		s.scanned = len(data)
		return 0, nil, nil
	case data[i] == '\n':
		return s.token(i+1, data[:i])
	case i+1 < len(data):
		if data[i+1] == '\n' {
			return s.token(i+2, data[:i])
		}
		return s.token(i+1, data[:i])
	case atEOF:
		return s.token(i+1, data[:i])
	}
	// A CR at the end of the buffer may be the first half of CRLF.
	s.scanned = i
	return 0, nil, nil
}

func (s *lineSplitter) token(advance int, line []byte) (int, []byte, error) {
	s.scanned = 0
	return advance, line, nil
}
