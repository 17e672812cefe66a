package report

import (
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/enum"
	"github.com/seliq/seliq/internal/apperr"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

// bomb doubles a string in a variable without printing it: it reached
// 1.4 GB before the step limit stopped it.
const bomb = `{{$s := "0123456789abcdef"}}{{range 40}}{{$s = printf "%s%s" $s $s}}{{end}}`

// A template bomb is refused at upload when the samples reach it; behind a
// guard only a real incident meets, it is accepted, and the render job
// fails the report at once with the reason and is cancelled, not retried.
func TestTemplateBombFailsPermanently(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, enum.RoleAdmin)
		svc := New(db.Client, nil, nil)
		runner(t, db, svc)

		_, err := svc.UploadTemplate(f.ctx, []byte(`{{if gt (len .Alerts) 100}}`+bomb+`{{end}}# {{md .Incident.Title}}`))
		wantCode(t, err, apperr.BadInput)
		if !strings.Contains(err.Error(), "larger than 8 MiB") {
			t.Fatalf("refusal of the alert-count guard does not say why: %v", err)
		}

		guarded := `{{if eq .Incident.Title "` + f.incident.Title + `"}}` + bomb + `{{end}}# {{md .Incident.Title}}`
		if _, err := svc.UploadTemplate(f.ctx, []byte(guarded)); err != nil {
			t.Fatalf("a bomb no sample reaches passes upload, yet was refused: %v", err)
		}
		rep, err := svc.Create(f.ctx, f.incident.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		done := await(t, f, rep.ID)
		if done.Status != enum.JobStatusFailed || done.Attempts != 1 || !strings.Contains(done.Error, "larger than 8 MiB") {
			t.Fatalf("report %s after %d attempts (%q), want failed after 1 with the limit named", done.Status, done.Attempts, done.Error)
		}
		state, attempt := renderJob(t, db)
		if state != "cancelled" || attempt != 1 {
			t.Fatalf("render job %s after %d attempts, want cancelled after 1 (never retried)", state, attempt)
		}
	})
}

// renderJob waits for the one render job to be finalised and returns its
// state and attempt count.
func renderJob(t *testing.T, db *storage.DB) (state string, attempt int) {
	t.Helper()
	if !testenv.Poll(30*time.Second, func() bool {
		err := db.SQL.QueryRow(`SELECT state, attempt FROM river_job WHERE kind = 'report.render'`).Scan(&state, &attempt)
		if err != nil {
			t.Fatal(err)
		}
		return state != "running" && state != "available"
	}) {
		t.Fatalf("render job still %s", state)
	}
	return state, attempt
}
