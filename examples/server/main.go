// Command server is the sfsync reference server: it connects Salesforce
// orgs over OAuth, syncs them into a SQLite or PostgreSQL database,
// applies Outbound Messages, schedules incremental syncs and shows a
// status page. On PostgreSQL several instances can share one database.
//
//	go run ./examples/server -demo
//
// runs the whole flow against a fake org started in the same process.
// Run with -h for every setting; each flag can also be set by an
// environment variable.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/postgres"
	"github.com/sfsync/salesforce-sync/store/sqlite"
)

// shutdownTimeout bounds the wait for in-flight requests (webhooks) and
// running syncs at shutdown.
const shutdownTimeout = 30 * time.Second

func main() {
	cfg, err := parseConfig(os.Args[1:], osEnv, os.Stderr)
	if errors.Is(err, flagHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(2)
	}
	log := newLogger(cfg, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, a second one ends the process at once
	// rather than waiting for the graceful shutdown.
	go func() { <-ctx.Done(); stop() }()
	if err := run(ctx, cfg, log, nil); err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.logFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(requestIDHandler{h})
}

// requestIDHandler adds the request ID of the context to every record
// logged with one (the engine logs webhook work with the request's
// context), so a request's lines can be found together.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := requestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// app is the running server: its parts and their wiring.
type app struct {
	cfg     *config
	log     *slog.Logger
	st      store.Store
	mgr     *oauth.Manager
	sync    *sfsync.Syncer
	webhook *outbound.Handler
	baseURL string
	demo    *demo
	started time.Time
}

// run serves until ctx is done, then shuts down gracefully: it stops
// accepting, lets in-flight requests (webhooks) finish, stops running
// syncs at a checkpoint and closes the Store. ready, when set, receives
// the app once it serves (tests).
func run(ctx context.Context, cfg *config, log *slog.Logger, ready func(*app)) error {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	a := &app{cfg: cfg, log: log, started: time.Now()}
	scheme := "http"
	if cfg.tlsCert != "" {
		scheme = "https"
	}
	a.baseURL = scheme + "://" + ln.Addr().String()
	if cfg.redirectURL == "" {
		cfg.redirectURL = a.baseURL + "/callback"
	}
	if cfg.demo {
		if a.demo, err = startDemo(cfg, log); err != nil {
			ln.Close()
			return err
		}
		defer a.demo.close()
	}
	if err := a.open(ctx); err != nil {
		ln.Close()
		return err
	}

	srv := &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if err := a.tls(srv); err != nil {
		ln.Close()
		return err
	}
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	sched, stopSched := context.WithCancel(context.Background())
	schedDone := make(chan struct{})
	go func() { defer close(schedDone); _ = a.sync.Run(sched) }()

	log.Info("listening", "url", a.baseURL, "db", redactDB(cfg.dbPath), "callback", cfg.redirectURL)
	if a.demo != nil {
		if err := a.demo.wire(ctx, a); err != nil {
			log.Error("demo setup", "err", err)
		}
	}
	if ready != nil {
		ready(a)
	}

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if a.demo != nil {
		a.demo.stopChanges()
	}
	// Running syncs stop at once (each commits the batches it fetched and
	// saves its checkpoint) while in-flight requests, webhooks above all,
	// finish: they are applied through the engine, which still serves them.
	stopSched()
	<-schedDone
	syncsClosed := make(chan struct{})
	go func() { defer close(syncsClosed); _ = a.sync.Close() }()
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn("http shutdown", "err", serr)
	}
	<-syncsClosed
	if cerr := a.st.Close(); cerr != nil {
		log.Warn("close store", "err", cerr)
	}
	log.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// open builds the Store, the OAuth manager and the engine.
func (a *app) open(ctx context.Context) error {
	cfg := a.cfg
	keys, err := parseKeys(cfg)
	if err != nil {
		return err
	}
	sealer, err := oauth.NewSealer(keys[0], keys[1:]...)
	if err != nil {
		return fmt.Errorf("sealer: %w", err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open database %s: %w", redactDB(cfg.dbPath), err)
	}
	a.st = st
	a.mgr = oauth.NewManager(oauth.Config{
		ClientID:     cfg.clientID,
		ClientSecret: cfg.clientSecret,
		RedirectURL:  cfg.redirectURL,
		LoginURL:     cfg.loginURL,
	}, st, sealer)

	actions, byObject, err := loadOutbound(cfg)
	if err != nil {
		st.Close()
		return err
	}
	var objects []string
	for o := range strings.SplitSeq(cfg.objects, ",") {
		if o = strings.TrimSpace(o); o != "" {
			objects = append(objects, o)
		}
	}
	a.sync, err = sfsync.New(sfsync.Config{
		Store:              st,
		Connections:        a.mgr,
		Logger:             a.log.With("component", "sync"),
		Concurrency:        cfg.concurrency,
		Objects:            objects,
		BulkThreshold:      cfg.bulkThreshold,
		LimitReserve:       cfg.limitReserve,
		Outbound:           actions,
		OutboundObjects:    byObject,
		RequireKnownAction: cfg.requireAction,
		Interval:           cfg.interval,
		CalculatedInterval: cfg.calcInterval,
		ReconcileInterval:  cfg.reconcileEvery,
	})
	if err != nil {
		st.Close()
		return err
	}
	a.mgr.OnConnect(func(ctx context.Context, c *oauth.Connection) {
		a.log.Info("org connected", "org", c.OrgID, "user", c.Username, "instance", c.InstanceURL)
		// The first sync of an org is a full one: the engine extracts in
		// full every object without a watermark, and an org never synced
		// gets a job that says so. A reconnected org (a new login after
		// login_required) goes on incrementally where it stood.
		mode := sfsync.ModeIncremental
		if jobs, err := a.st.Jobs(ctx, store.JobFilter{OrgID: c.OrgID, Limit: 1}); err == nil && len(jobs) == 0 {
			mode = sfsync.ModeFull
		}
		job, err := a.sync.Start(context.WithoutCancel(ctx), sfsync.Request{OrgID: c.OrgID, Mode: mode})
		if err != nil {
			a.log.Warn("first sync", "org", c.OrgID, "err", err)
			return
		}
		a.log.Info("first sync started", "org", c.OrgID, "job", job.ID, "mode", mode)
	})
	a.webhook = a.sync.OutboundHandler()
	a.webhook.PathToken = cfg.webhookToken
	return nil
}

// openStore opens -db: PostgreSQL for a postgres:// URL (in -db-schema),
// else a SQLite file.
func openStore(ctx context.Context, cfg *config) (store.Store, error) {
	if isPostgres(cfg.dbPath) {
		return postgres.Open(ctx, cfg.dbPath, postgres.WithSchema(cfg.dbSchema))
	}
	return sqlite.Open(ctx, cfg.dbPath)
}

// parseKeys returns the current sealing key first, then the old ones.
func parseKeys(cfg *config) ([]oauth.Key, error) {
	cur, err := oauth.ParseKey(cfg.keyID, cfg.key)
	if err != nil {
		return nil, fmt.Errorf("-key: %w", err)
	}
	keys := []oauth.Key{cur}
	for i, pair := range strings.Split(cfg.oldKeys, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		id, b64, ok := strings.Cut(pair, "=")
		if !ok {
			// The value is not quoted back: it may be a bare key.
			return nil, fmt.Errorf("-old-keys: entry %d is not id=base64", i+1)
		}
		k, err := oauth.ParseKey(id, b64)
		if err != nil {
			// Neither id nor err is quoted back: with "=" padding, a bare
			// key splits into an "id" that is most of the key.
			return nil, fmt.Errorf("-old-keys: entry %d is not id=base64 of a valid key", i+1)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// tls configures HTTPS and, with -client-ca, mutual TLS: a client
// certificate is verified when presented, and /webhook requires one.
func (a *app) tls(srv *http.Server) error {
	if a.cfg.tlsCert == "" {
		return nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.cfg.clientCA != "" {
		pem, err := os.ReadFile(a.cfg.clientCA)
		if err != nil {
			return fmt.Errorf("-client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("-client-ca: no PEM certificate in %s", a.cfg.clientCA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	}
	srv.TLSConfig = tc
	return nil
}
