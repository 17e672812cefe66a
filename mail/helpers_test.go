package mail_test

import (
	"context"
	"encoding/base64"
	"io"
	"mime/multipart"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/riverqueue/river/rivertype"

	"github.com/seliq/seliq/storage"
)

// decode reads a part in its transfer encoding.
func decode(t *testing.T, p *multipart.Part) string {
	t.Helper()
	var r io.Reader = p
	switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(p)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, p)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// emailJob reads the one email job's attempts and state.
func emailJob(t *testing.T, db *storage.DB) (int, rivertype.JobState) {
	t.Helper()
	var n int
	var st rivertype.JobState
	err := db.SQL.QueryRowContext(context.Background(), "SELECT attempt, state FROM river_job WHERE kind = 'email'").Scan(&n, &st)
	if err != nil {
		t.Fatalf("read the email job: %v", err)
	}
	return n, st
}

func attempts(t *testing.T, db *storage.DB) int {
	n, _ := emailJob(t, db)
	return n
}

func state(t *testing.T, db *storage.DB) rivertype.JobState {
	_, st := emailJob(t, db)
	return st
}
