package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The queue page under concurrency: concClients clients each ask for the
// same filtered and sorted page (the list measurement's) back to back for
// concDuration, over GraphQL, over REST, and by hand-written SQL through
// pgx (the page and the capped count, the API's rule for the total).
const (
	concClients  = 16
	concDuration = 5 * time.Second
	// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's times.
	clockTicks = 100
)

// concResult is one surface's run.
type concResult struct {
	requests int64
	elapsed  time.Duration
	cpu      time.Duration // the serving process's CPU time over the run
}

func (r concResult) perSecond() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// cpuPerRequestMs is the CPU milliseconds per request.
func (r concResult) cpuPerRequestMs() float64 {
	if r.requests == 0 {
		return 0
	}
	return float64(r.cpu) / float64(time.Millisecond) / float64(r.requests)
}

// runConcurrent calls fn from concClients goroutines until concDuration
// has passed, after one warm-up call per client, and measures cpu (the
// serving process's CPU time) around the run.
func runConcurrent(ctx context.Context, cpu func() (time.Duration, error), fn func(ctx context.Context) error) (concResult, error) {
	for range concClients {
		if err := fn(ctx); err != nil {
			return concResult{}, err
		}
	}
	cpu0, err := cpu()
	if err != nil {
		return concResult{}, err
	}
	var (
		n     atomic.Int64
		wg    sync.WaitGroup
		first error
		once  sync.Once
	)
	start := time.Now()
	deadline := start.Add(concDuration)
	for range concClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := fn(ctx); err != nil {
					once.Do(func() { first = err })
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return concResult{}, first
	}
	cpu1, err := cpu()
	if err != nil {
		return concResult{}, err
	}
	return concResult{requests: n.Load(), elapsed: elapsed, cpu: cpu1 - cpu0}, nil
}

// processCPU is the CPU time (user and system) process pid has used.
func processCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read server CPU time: %w", err)
	}
	return parseProcStatCPU(string(raw))
}

// parseProcStatCPU reads utime and stime from a /proc/<pid>/stat line: the
// fields after the command name, which is in parentheses and may hold
// spaces, start with the state (field 3); utime and stime are 14 and 15.
func parseProcStatCPU(line string) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, errors.New("proc stat: no command name")
	}
	f := strings.Fields(line[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields", len(f))
	}
	var ticks uint64
	for _, s := range f[11:13] {
		// Bounded so that the sum in nanoseconds cannot overflow.
		n, err := strconv.ParseUint(s, 10, 40)
		if err != nil {
			return 0, fmt.Errorf("proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / clockTicks), nil
}

// selfCPU is this process's CPU time: the raw SQL client's, the part that
// stands where the server stands for the other surfaces.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// rawPageOnce reads the page and its total by hand-written SQL.
func rawPageOnce(ctx context.Context, pool *pgxpool.Pool, org uuid.UUID) error {
	tags := `["` + listTag + `"]`
	rows, err := pool.Query(ctx, rawPage, org, listStatuses, listSeverities, tags)
	if err != nil {
		return err
	}
	for rows.Next() {
		if _, err := rows.Values(); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_, err = rawTotal(ctx, pool, org, listStatuses, listSeverities, tags)
	return err
}

// measureConcurrent sets list_conc_rps_{graphql,rest,raw}, their CPU
// milliseconds per request (the server process's; the pgx client's for
// raw; PostgreSQL's own is in none of them) and the ratios to raw SQL.
// profiled runs each server surface's run under a CPU profile named after
// it (list-conc-graphql, list-conc-rest).
func measureConcurrent(ctx context.Context, serverPID int, a *api, pool *pgxpool.Pool, org uuid.UUID, f figures, profiled func(name string, run func() error) error) error {
	server := func() (time.Duration, error) { return processCPU(serverPID) }
	surfaces := []struct {
		name string
		cpu  func() (time.Duration, error)
		fn   func(ctx context.Context) error
	}{
		{"graphql", server, func(ctx context.Context) error {
			var out struct {
				Alerts struct {
					TotalCount int `json:"totalCount"`
				} `json:"alerts"`
			}
			return a.graphql(ctx, graphqlList, graphqlListVars, &out)
		}},
		{"rest", server, func(ctx context.Context) error {
			return a.expect(ctx, http.StatusOK, http.MethodGet, restListPath, nil, nil)
		}},
		{"raw", selfCPU, func(ctx context.Context) error { return rawPageOnce(ctx, pool, org) }},
	}
	for _, s := range surfaces {
		var r concResult
		run := func() (err error) {
			r, err = runConcurrent(ctx, s.cpu, s.fn)
			return err
		}
		var err error
		if s.name == "raw" { // the client's CPU, not the server's
			err = run()
		} else {
			err = profiled("list-conc-"+s.name, run)
		}
		if err != nil {
			return fmt.Errorf("concurrent list over %s: %w", s.name, err)
		}
		f["list_conc_rps_"+s.name] = r.perSecond()
		f["list_conc_cpu_ms_"+s.name] = r.cpuPerRequestMs()
	}
	for _, s := range []string{"graphql", "rest"} {
		f["list_conc_"+s+"_vs_raw"] = f["list_conc_rps_"+s] / f["list_conc_rps_raw"]
		if raw := f["list_conc_cpu_ms_raw"]; raw > 0 {
			f["list_conc_cpu_"+s+"_vs_raw"] = f["list_conc_cpu_ms_"+s] / raw
		}
	}
	return nil
}
