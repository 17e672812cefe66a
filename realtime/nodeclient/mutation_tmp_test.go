package nodeclient_test

import (
	"testing"
	"time"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"strings"
)

func TestTmpMutations(t *testing.T) {
	dir := installedClient(t)
	db := testenv.Open(t, testenv.SQLite)
	env := apitest.Start(t, db)
	admin := env.Admin()
	url := "ws" + strings.TrimPrefix(env.URL, "http") + "/graphql"
	for _, m := range []map[string]string{
		{"SELIQ_WS_URL": url, "SELIQ_TOKEN": "Bearer bad", "SELIQ_EXPECT_CLOSE": "4403"},
		{"SELIQ_WS_URL": url, "SELIQ_TOKEN": admin.Authorization, "SELIQ_EXPECT_CLOSE": "4401"},
		{"SELIQ_WS_URL": url, "SELIQ_TOKEN": admin.Authorization, "SELIQ_EXPECT_TITLE": "never"},
	} {
		start := time.Now()
		c := startClient(t, dir, m)
		<-c.exited
		t.Logf("%v: err=%v after %v lines=%q stderr=%s", m, c.err, time.Since(start).Round(time.Millisecond), c.lines, c.stderr.String())
	}
}
