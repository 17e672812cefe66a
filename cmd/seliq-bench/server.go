package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// buildServer compiles ./cmd/seliq of the module the benchmark runs in
// into dir and returns the binary's path.
func buildServer(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run seliq-bench inside the seliq module (go run ./cmd/seliq-bench)")
	}
	bin := filepath.Join(dir, "seliq")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/seliq")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/seliq: %w\n%s", err, out)
	}
	return bin, nil
}

// serverProc is a running `seliq serve`.
type serverProc struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	logPath string
	done    chan struct{}
	// pprofBase is the profiler's address, empty when not profiling.
	pprofBase string
}

// credentials are the first admin's, set through the environment.
// credentials are the bench's administrator and the server's secret key
// (a key per run, so the server writes no key file into the tree).
type credentials struct{ email, password, secretKey string }

func newCredentials() credentials {
	return credentials{email: "bench@seliq.local", password: "bench-" + randomHex(12),
		secretKey: base64.StdEncoding.EncodeToString(randomBytes(32))}
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

// serverEnv is the environment of the server and of `seliq migrate`;
// pprofAddr, when set, turns on the server's profiler there.
func serverEnv(addr, dbURL, pprofAddr string, cred credentials) []string {
	env := os.Environ()
	if pprofAddr != "" {
		env = append(env, "SELIQ_PPROF_ADDR="+pprofAddr)
	}
	return append(env,
		"SELIQ_ADDR="+addr, "SELIQ_DATABASE_URL="+dbURL,
		"SELIQ_ADMIN_EMAIL="+cred.email, "SELIQ_ADMIN_PASSWORD="+cred.password,
		"SELIQ_SECRET_KEY="+cred.secretKey,
		"SELIQ_LOG_LEVEL=warn",
		// The harness opens thousands of sockets with one token.
		"SELIQ_WS_MAX_CONNECTIONS_PER_USER=1000000")
}

// startServer runs `bin serve` on a free port against dbURL, logging to
// dir, and waits until /readyz answers 200. With profile, the server's
// profiler listens on another free loopback port.
func startServer(ctx context.Context, bin, dir, dbURL string, cred credentials, profile bool) (*serverProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	pprofAddr := ""
	if profile {
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	logPath := filepath.Join(dir, "server-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, "serve")
	cmd.Env = serverEnv(addr, dbURL, pprofAddr, cred)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	p := &serverProc{cmd: cmd, base: "http://" + addr, logPath: logPath, done: make(chan struct{})}
	if pprofAddr != "" {
		p.pprofBase = "http://" + pprofAddr
	}
	go func() {
		_ = cmd.Wait() // the exit is observed through done; stop reports it
		close(p.done)
	}()
	if err := p.waitReady(ctx, 90*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("%w\nserver log (%s):\n%s", err, logPath, p.logTail(20))
	}
	return p, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

func (p *serverProc) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return errors.New("server exited during start-up")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/readyz", nil)
		if err != nil {
			return err
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("server not ready after %v", limit)
}

// stop asks the server to shut down (SIGTERM) and kills it if it has not
// within ten seconds.
func (p *serverProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // fails only if it already exited
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// rssKiB is the server process's resident set (VmRSS) in KiB.
func (p *serverProc) rssKiB() (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read server memory: %w", err)
	}
	defer f.Close()
	return parseVmRSS(f)
}

// parseVmRSS reads the VmRSS line of a /proc/<pid>/status file.
func parseVmRSS(r io.Reader) (float64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		return strconv.ParseFloat(fields[0], 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS line")
}

func (p *serverProc) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	return string(bytes.Join(lines[max(0, len(lines)-n):], []byte("\n")))
}

// pgDatabase is a fresh PostgreSQL database, dropped by drop.
type pgDatabase struct {
	adminURL string
	name     string
	url      string
}

// createPGDatabase creates seliq_bench_<random> on the server of adminURL.
func createPGDatabase(ctx context.Context, adminURL string) (*pgDatabase, error) {
	conn, err := connectPG(ctx, adminURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	name := "seliq_bench_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, fmt.Errorf("parse -pg: %w", err)
	}
	u.Path = "/" + name
	return &pgDatabase{adminURL: adminURL, name: name, url: u.String()}, nil
}

// connectPG connects with a short timeout and says plainly when no
// PostgreSQL answers.
func connectPG(ctx context.Context, rawURL string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL unreachable at %s (start one, pass -pg URL, or use -db sqlite): %w", redactURL(rawURL), err)
	}
	return conn, nil
}

func (d *pgDatabase) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connectPG(ctx, d.adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", d.name, err)
	}
	return nil
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	return u.Redacted()
}

// runtimeGauges reads the Go runtime's gauges from the server's /metrics:
// goroutines and the bytes of goroutine stacks, which, unlike RSS, do not
// depend on how much freed memory the process had kept.
func (p *serverProc) runtimeGauges(ctx context.Context) (goroutines, stackBytes float64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET /metrics: status %d", res.StatusCode)
	}
	g, err := parseGauges(res.Body, "go_goroutines", "go_memstats_stack_inuse_bytes")
	if err != nil {
		return 0, 0, err
	}
	return g["go_goroutines"], g["go_memstats_stack_inuse_bytes"], nil
}

// parseGauges picks unlabelled samples out of a Prometheus text exposition.
func parseGauges(r io.Reader, names ...string) (map[string]float64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", name, err)
		}
		out[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("metric %s missing", n)
		}
	}
	return out, nil
}
