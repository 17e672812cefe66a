// Command seliq is the Seliq server.
//
//	seliq serve          start the API server (default)
//	seliq migrate        bring the database schema up to date and exit
//	seliq admin create   create or reset the first organisation and admin
//	seliq demo           fill the database with realistic demo alerts
//	seliq openapi        print the REST layer's OpenAPI document (make lint-api)
//	seliq version        print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/seliq/seliq/demo"
	"github.com/seliq/seliq/directory"
	"github.com/seliq/seliq/gqlserver"
	"github.com/seliq/seliq/resolvers"
	"github.com/seliq/seliq/rest"
	"github.com/seliq/seliq/server"
	"github.com/seliq/seliq/storage"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "seliq:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args)
	case "migrate":
		return withDB(args, func(context.Context, server.Config, *storage.DB, *slog.Logger) error { return nil })
	case "admin":
		if len(args) == 0 || args[0] != "create" {
			return errors.New("usage: seliq admin create (reads SELIQ_ADMIN_EMAIL and SELIQ_ADMIN_PASSWORD)")
		}
		return withDB(args[1:], func(ctx context.Context, cfg server.Config, db *storage.DB, log *slog.Logger) error {
			return bootstrap(ctx, cfg, db, log)
		})
	case "demo":
		return runDemo(args)
	case "version":
		fmt.Println("seliq", version)
		return nil
	case "openapi":
		// The document served at /api/v1/openapi.json, without a server
		// or a database: it depends on the code alone.
		doc, err := rest.OpenAPI(gqlserver.NewSchema(&resolvers.Resolver{}).Schema(), rest.Routes, rest.ServerOptions())
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(append(doc, '\n'))
		return err
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate, admin create, demo, openapi or version)", cmd)
	}
}

// withDB loads the configuration, opens and migrates the database, and runs fn.
func withDB(args []string, fn func(context.Context, server.Config, *storage.DB, *slog.Logger) error) error {
	cfg, err := server.LoadConfig(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return fn(ctx, cfg, db, log)
}

func bootstrap(ctx context.Context, cfg server.Config, db *storage.DB, log *slog.Logger) error {
	b, err := directory.EnsureBootstrap(ctx, db.Client, cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if !b.Created {
		log.Info("organisation 'default' exists; bootstrap skipped")
		return nil
	}
	log.Info("created organisation 'Default' (slug default) and its admin", "email", b.Email)
	if b.Password != "" {
		// Printed once, to the terminal only: it is stored hashed.
		fmt.Fprintf(os.Stderr, "\n  First admin created. Log in with:\n    email:    %s\n    password: %s\n  (shown once; change it with PATCH /api/v1/users/me)\n\n", b.Email, b.Password)
	}
	return nil
}

// runDemo fills the database serve would use with generated alerts from
// one connector per vendor, sent through the ingest pipeline.
func runDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	alerts := fs.Int("alerts", demo.DefaultAlerts, "distinct alerts to generate (about 15% more deliveries repeat earlier ones)")
	seed := fs.Uint64("seed", 1, "generator seed: the same seed gives the same alerts")
	days := fs.Int("days", demo.DefaultDays, "spread event times over the last N days")
	dbURL := fs.String("database-url", "", "sqlite://PATH or postgres://... (default SELIQ_DATABASE_URL, as serve)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var serveArgs []string
	if *dbURL != "" {
		serveArgs = []string{"-database-url", *dbURL}
	}
	return withDB(serveArgs, func(ctx context.Context, cfg server.Config, db *storage.DB, log *slog.Logger) error {
		if err := bootstrap(ctx, cfg, db, log); err != nil {
			return err
		}
		sum, err := demo.Run(ctx, db, demo.Options{
			Alerts: *alerts, Seed: *seed, Days: *days,
			AdminEmail: cfg.AdminEmail, AdminPassword: cfg.AdminPassword, Progress: os.Stderr,
		})
		if err != nil {
			return err
		}
		sum.Print(os.Stdout)
		fmt.Printf("\n  Log in: start the server (make run, or seliq serve), open http://%s/playground/ and log in as %s.\n", cfg.Addr, sum.AdminEmail)
		return nil
	})
}

func serve(args []string) error {
	return withDB(args, func(ctx context.Context, cfg server.Config, db *storage.DB, log *slog.Logger) error {
		if err := bootstrap(ctx, cfg, db, log); err != nil {
			return err
		}
		if err := cfg.LoadSecretKey(); err != nil {
			return err
		}
		srv, err := server.New(cfg, db, log)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return err
		}
		if err := srv.Start(ctx); err != nil {
			return err
		}
		if err := server.StartPprof(ctx, cfg.PprofAddr, log); err != nil {
			return err
		}
		if _, err := srv.StartMetrics(ctx, cfg.MetricsAddr, cfg.Timeouts); err != nil {
			return err
		}
		hs := &http.Server{Handler: srv.Handler}
		cfg.Timeouts.Apply(hs)
		base := "http://" + ln.Addr().String()
		log.Info("seliq listening", "addr", ln.Addr().String(), "database", db.Dialect, "version", version)
		fmt.Fprintf(os.Stderr, "  Playground: %s/playground/\n  API docs:   %s/docs/\n  Log in:     curl -s -X POST %s/api/v1/auth/login -H 'Content-Type: application/json' -d '{\"email\":\"...\",\"password\":\"...\"}'\n\n", base, base, base)
		errc := make(chan error, 1)
		go func() { errc <- hs.Serve(ln) }()
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
		}
		log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return errors.Join(hs.Shutdown(shutdownCtx), srv.Stop(shutdownCtx))
	})
}
