// Package nodeclient_test runs the graphql-ws npm package, the client most
// JavaScript applications use, against a real Seliq server: our own Go
// clients in gqlserver/stream speak the protocol as we read it, this one as its
// authors do.
package nodeclient_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seliq/seliq/internal/apitest"
	"github.com/seliq/seliq/internal/testenv"
	"github.com/seliq/seliq/storage"
)

const (
	// installTimeout bounds `npm ci` on a cold cache.
	installTimeout = 5 * time.Minute
	// readyTimeout bounds Node's start-up, the handshake and the subscribe.
	readyTimeout = 10 * time.Second
	// exitTimeout bounds the wait for the client's verdict; subscribe.mjs
	// gives up by itself after 15 s.
	exitTimeout = 20 * time.Second
)

func TestGraphQLWSNodeClient(t *testing.T) {
	dir := installedClient(t)
	testenv.ForEachDB(t, func(t *testing.T, db *storage.DB) {
		env := apitest.Start(t, db)
		admin := env.Admin()
		url := "ws" + strings.TrimPrefix(env.URL, "http") + "/graphql"

		t.Run("subscribe", func(t *testing.T) {
			key := admin.ConnectorKey(t, "graphql-ws client test")
			title := fmt.Sprintf("graphql-ws client on %s at %d", db.Dialect, time.Now().UnixNano())
			c := startClient(t, dir, map[string]string{
				"SELIQ_WS_URL":       url,
				"SELIQ_TOKEN":        admin.Authorization,
				"SELIQ_EXPECT_TITLE": title,
				// Resuming from a cursor taken before the ingest delivers the
				// alert however late the server registers the subscription.
				"SELIQ_AFTER": env.EventCursor(t),
			})
			c.waitReady(t)
			id := env.Ingest(t, key, title)
			e := findAlert(t, c.wait(t), title)
			if e.Kind != "CREATED" || e.Alert.ID != id || e.Cursor == "" {
				t.Fatalf("event %+v, want CREATED of %s with a cursor", e, id)
			}
		})

		refusals := []struct {
			name, token string
		}{
			{"bad token", "Bearer not-a-seliq-token"},
			{"no credentials", ""},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				c := startClient(t, dir, map[string]string{
					"SELIQ_WS_URL":       url,
					"SELIQ_TOKEN":        tc.token,
					"SELIQ_EXPECT_CLOSE": "4401",
				})
				if code, reason := closeOf(t, c.wait(t)); code != 4401 {
					t.Fatalf("closed with %d %q, want 4401", code, reason)
				} else {
					t.Logf("refused: %d %q", code, reason)
				}
			})
		}
	})
}

// installedClient skips without Node.js, installs js/'s locked packages
// when they are missing or older than the lock file, and returns js/'s
// absolute path.
func installedClient(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH: this test runs the graphql-ws npm client and needs Node.js 20+ with npm", tool)
		}
	}
	dir, err := filepath.Abs("js")
	if err != nil {
		t.Fatal(err)
	}
	stale, err := needsInstall(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !stale {
		return dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	t.Logf("npm ci took %v", time.Since(start).Round(time.Millisecond))
	return dir
}

// needsInstall reports whether node_modules lacks the hidden lock file
// npm writes when an install completes, or predates package-lock.json.
func needsInstall(dir string) (bool, error) {
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return false, fmt.Errorf("the client's lock file: %w", err)
	}
	installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if os.IsNotExist(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("installed packages: %w", err)
	}
	return installed.ModTime().Before(lock.ModTime()), nil
}

// nodeClient is one run of subscribe.mjs.
type nodeClient struct {
	ready  chan struct{} // closed when the client prints READY
	exited chan struct{} // closed once lines, err and stderr are final
	lines  []string      // stdout, READY excluded
	err    error         // from Wait: non-nil on a non-zero exit
	stderr bytes.Buffer
}

// startClient runs subscribe.mjs with env added to the test's environment;
// the process is killed when the test ends.
func startClient(t *testing.T, dir string, env map[string]string) *nodeClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout+exitTimeout)
	cmd := exec.CommandContext(ctx, "node", "subscribe.mjs")
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	c := &nodeClient{ready: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stderr = &c.stderr
	cmd.WaitDelay = time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start node: %v", err)
	}
	go c.collect(cmd, stdout)
	t.Cleanup(func() {
		cancel()
		<-c.exited
	})
	return c
}

// collect reads stdout to its end, then waits for the process: Wait must
// not run before the pipe's reads are done.
func (c *nodeClient) collect(cmd *exec.Cmd, stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	readied := false
	for sc.Scan() {
		line := sc.Text()
		if line == "READY" && !readied {
			readied = true
			close(c.ready)
			continue
		}
		c.lines = append(c.lines, line)
	}
	c.err = cmd.Wait()
	close(c.exited)
}

func (c *nodeClient) waitReady(t *testing.T) {
	t.Helper()
	select {
	case <-c.ready:
	case <-c.exited:
		t.Fatalf("client exited before READY: %v\nstdout: %q\nstderr: %s", c.err, c.lines, c.stderr.String())
	case <-time.After(readyTimeout):
		t.Fatalf("client not READY after %v", readyTimeout)
	}
}

// wait returns the client's stdout once it has exited 0.
func (c *nodeClient) wait(t *testing.T) []string {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(exitTimeout):
		t.Fatalf("client still running after %v", exitTimeout)
	}
	if c.err != nil {
		t.Fatalf("client: %v\nstdout: %q\nstderr: %s", c.err, c.lines, c.stderr.String())
	}
	return c.lines
}

type alertEvent struct {
	Kind   string
	Cursor string
	Alert  struct{ ID, Title string }
}

// findAlert returns the event of the alert titled title among the
// client's JSON lines, each one execution result.
func findAlert(t *testing.T, lines []string, title string) alertEvent {
	t.Helper()
	for _, line := range lines {
		var res struct {
			Data struct{ AlertEvents alertEvent } `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			t.Fatalf("client line %q: %v", line, err)
		}
		if res.Data.AlertEvents.Alert.Title == title {
			return res.Data.AlertEvents
		}
	}
	t.Fatalf("no event of %q in %q", title, lines)
	return alertEvent{}
}

// closeOf returns the close event the client reported last.
func closeOf(t *testing.T, lines []string) (int, string) {
	t.Helper()
	if len(lines) == 0 {
		t.Fatal("client reported no close event")
	}
	var e struct {
		Closed int
		Reason string
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &e); err != nil {
		t.Fatalf("client line %q: %v", lines[len(lines)-1], err)
	}
	return e.Closed, e.Reason
}
