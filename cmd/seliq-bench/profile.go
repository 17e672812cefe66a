package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// profiled runs fn while the server records a CPU profile of up to
// seconds, written to dir/name.pprof (`go tool pprof -top FILE`). Without
// a profiler (no -profile) it only runs fn. The profile covers the phase's
// first seconds: CPU profiles are fixed-length.
func (b *bench) profiled(ctx context.Context, srv *serverProc, name string, seconds int, fn func() error) error {
	if srv.pprofBase == "" {
		return fn()
	}
	path := b.profilePath(name)
	done := make(chan error, 1)
	go func() { done <- fetch(ctx, srv.pprofBase+"/debug/pprof/profile?seconds="+strconv.Itoa(seconds), path) }()
	// The profiler needs a moment to start sampling.
	time.Sleep(100 * time.Millisecond)
	err := fn()
	if perr := <-done; perr != nil {
		b.notes = append(b.notes, fmt.Sprintf("%s: %s profile not written: %v", b.dialect, name, perr))
	} else {
		b.progress("profile %s", path)
	}
	return err
}

// snapshot writes the server's heap and goroutine profiles as they are
// now, when profiling: what each idle subscriber holds.
func (b *bench) snapshot(ctx context.Context, srv *serverProc, name string) {
	if srv.pprofBase == "" {
		return
	}
	for _, kind := range []string{"heap", "goroutine"} {
		path := b.profilePath(name + "-" + kind)
		if err := fetch(ctx, srv.pprofBase+"/debug/pprof/"+kind, path); err != nil {
			b.notes = append(b.notes, fmt.Sprintf("%s: %s profile not written: %v", b.dialect, kind, err))
			continue
		}
		b.progress("profile %s", path)
	}
}

func (b *bench) profilePath(name string) string {
	return filepath.Join(b.opt.profileDir, fmt.Sprintf("%s-%s-%s-run%d.pprof", b.opt.scale, b.dialect, name, b.runNo))
}

func fetch(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("status %d: %s", res.StatusCode, body)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
