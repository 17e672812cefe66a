// Package browser drives a real headless Chromium from tests through a
// minimal DevTools-protocol (CDP) client: navigate, evaluate JavaScript, wait
// for conditions, and observe every network request and console error.
//
// Chromium's --remote-debugging-pipe speaks CDP as NUL-terminated JSON over
// file descriptors 3 (in) and 4 (out), which needs no WebSocket client and so
// only the standard library. Tests skip when chromium is not on PATH (Debian
// package "chromium").
package browser

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timeout bounds every CDP call and every wait.
const Timeout = 30 * time.Second

// Request is a request the page sent.
type Request struct {
	Method   string
	URL      string
	Headers  map[string]string
	PostData string
}

// Browser is one headless Chromium with one page (tab) attached.
type Browser struct {
	t       testing.TB
	w       io.Writer
	session string

	mu       sync.Mutex
	nextID   int
	pending  map[int]chan cdpMsg
	requests []Request
	problems []string // console errors, exceptions, CSP violations
}

type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct{ Message string }
	SessionID string `json:"sessionId,omitempty"`
}

// Start launches Chromium for the duration of the test, or skips the test if
// chromium is not installed.
func Start(t testing.TB) *Browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not on PATH; install Debian package 'chromium' to run the browser tests")
	}
	toChrome, ourEnd, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromChrome, chromeEnd, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(),
		"--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, chromeEnd} // fds 3 and 4
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toChrome.Close()
	chromeEnd.Close()

	b := &Browser{t: t, w: ourEnd, pending: make(map[int]chan cdpMsg)}
	go b.readLoop(fromChrome)
	t.Cleanup(func() {
		// Browser.close lets chromium shut its child processes down; kill
		// only if it does not exit in time.
		b.send("", "Browser.close", nil)
		ourEnd.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("chromium stderr (tail):\n%s", tail(stderr.String(), 3000))
		}
	})

	var target struct{ TargetID string }
	b.decode(b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}), &target)
	var attach struct{ SessionID string }
	b.decode(b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}), &attach)
	b.session = attach.SessionID
	for _, domain := range []string{"Page", "Runtime", "Log", "Network"} {
		b.call(b.session, domain+".enable", nil)
	}
	return b
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (b *Browser) readLoop(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			for id, ch := range b.pending { // unblock callers: chromium is gone
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m cdpMsg
		if json.Unmarshal(line[:len(line)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if ch := b.pending[m.ID]; m.ID != 0 && ch != nil {
			delete(b.pending, m.ID)
			ch <- m
		} else {
			b.event(m)
		}
		b.mu.Unlock()
	}
}

// event records what the page did; called with b.mu held.
func (b *Browser) event(m cdpMsg) {
	switch m.Method {
	case "Network.requestWillBeSent":
		var p struct{ Request Request }
		json.Unmarshal(m.Params, &p)
		b.requests = append(b.requests, p.Request)
	case "Log.entryAdded":
		var p struct {
			Entry struct{ Level, Source, Text, URL string }
		}
		json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" || strings.Contains(p.Entry.Text, "Content Security Policy") {
			b.problems = append(b.problems, fmt.Sprintf("log %s/%s: %s %s", p.Entry.Source, p.Entry.Level, p.Entry.Text, p.Entry.URL))
		}
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string
			Args []struct {
				Value       any
				Description string
			}
		}
		json.Unmarshal(m.Params, &p)
		if p.Type == "error" {
			b.problems = append(b.problems, fmt.Sprintf("console.error: %v", p.Args))
		}
	case "Runtime.exceptionThrown":
		b.problems = append(b.problems, "exception: "+string(m.Params))
	}
}

func (b *Browser) send(session, method string, params any) chan cdpMsg {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMsg, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params, "sessionId": session})
	if _, err := b.w.Write(append(msg, 0)); err != nil {
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		close(ch)
	}
	return ch
}

func (b *Browser) call(session, method string, params any) json.RawMessage {
	b.t.Helper()
	select {
	case m, ok := <-b.send(session, method, params):
		if !ok {
			b.t.Fatalf("%s: chromium connection closed", method)
		}
		if m.Error != nil {
			b.t.Fatalf("%s: %s", method, m.Error.Message)
		}
		return m.Result
	case <-time.After(Timeout):
		b.t.Fatalf("%s: no answer from chromium", method)
		return nil
	}
}

// Call sends a CDP command to the page and returns its result.
func (b *Browser) Call(method string, params any) json.RawMessage {
	b.t.Helper()
	return b.call(b.session, method, params)
}

func (b *Browser) decode(raw json.RawMessage, v any) {
	b.t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		b.t.Fatalf("decoding %s: %v", raw, err)
	}
}

// Navigate loads u in the page. It returns once navigation has started; use
// WaitFor to wait for content.
func (b *Browser) Navigate(u string) {
	b.t.Helper()
	b.call(b.session, "Page.navigate", map[string]any{"url": u})
}

// Eval runs a JS expression in the page, awaiting a promise result, and
// returns its JSON value. An exception fails the test.
func (b *Browser) Eval(expr string) json.RawMessage {
	b.t.Helper()
	var res struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct {
			Text      string
			Exception struct{ Description string }
		}
	}
	b.decode(b.call(b.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true}), &res)
	if res.ExceptionDetails != nil {
		b.t.Fatalf("eval %s: %s %s", expr, res.ExceptionDetails.Text, res.ExceptionDetails.Exception.Description)
	}
	return res.Result.Value
}

// WaitFor polls a JS boolean expression until it is true; exceptions count
// as false since the page may still be loading.
func (b *Browser) WaitFor(what, expr string) {
	b.t.Helper()
	WaitUntil(b.t, what, func() bool {
		v := b.Eval(`(() => { try { return !!(` + expr + `) } catch (e) { return false } })()`)
		return string(v) == "true"
	})
}

// WaitUntil polls cond every 100ms and fails the test after Timeout.
func WaitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Requests returns every request the page has sent so far.
func (b *Browser) Requests() []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Request(nil), b.requests...)
}

// CheckClean asserts that the page only talked to origin (e.g. the test
// server's URL) and logged no errors, which includes CSP violations.
func (b *Browser) CheckClean(origin string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) == 0 {
		b.t.Error("no network requests recorded")
	}
	for _, r := range b.requests {
		if !strings.HasPrefix(r.URL, origin+"/") && !strings.HasPrefix(r.URL, "data:") {
			b.t.Errorf("request left the test server: %s", r.URL)
		}
	}
	for _, p := range b.problems {
		b.t.Errorf("browser reported: %s", p)
	}
	b.t.Logf("%d requests, all to the test server", len(b.requests))
}
