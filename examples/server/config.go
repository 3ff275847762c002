package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is the server's configuration: each setting is a flag whose
// default comes from an environment variable when it is set.
type config struct {
	addr         string
	clientID     string
	clientSecret string
	redirectURL  string
	loginURL     string
	dbPath       string // a SQLite file, or a postgres:// URL
	dbSchema     string // PostgreSQL schema
	keyID        string
	key          string
	oldKeys      string

	objects        string
	interval       time.Duration
	calcInterval   time.Duration
	reconcileEvery time.Duration
	concurrency    int
	bulkThreshold  int
	limitReserve   float64

	outboundFields listFlag
	outboundWSDL   listFlag
	requireAction  bool
	webhookToken   string

	tlsCert  string
	tlsKey   string
	clientCA string

	logFormat string
	logLevel  string

	demo        bool
	demoAuto    bool
	demoRecords int
	demoEvery   time.Duration
}

// listFlag is a repeatable flag; the environment form separates values
// with ";".
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ";") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// parseConfig reads flags from args with environment defaults from env.
func parseConfig(args []string, env func(string) string, out io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(out)
	str := func(p *string, name, envName, def, usage string) {
		if v := env(envName); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" (env "+envName+")")
	}
	// secret flags take their environment value after parsing, so that
	// -h does not print it as a default.
	secrets := map[string]func(){}
	secret := func(p *string, name, envName, def, usage string) {
		fs.StringVar(p, name, def, usage+" (env "+envName+")")
		secrets[name] = func() {
			if v := env(envName); v != "" {
				*p = v
			}
		}
	}
	var errs []error
	dur := func(p *time.Duration, name, envName string, def time.Duration, usage string) {
		if v := env(envName); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName, err))
			}
			def = d
		}
		fs.DurationVar(p, name, def, usage+" (env "+envName+")")
	}
	num := func(p *int, name, envName string, def int, usage string) {
		if v := env(envName); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName, err))
			}
			def = n
		}
		fs.IntVar(p, name, def, usage+" (env "+envName+")")
	}
	boolean := func(p *bool, name, envName, usage string) {
		var def bool
		if v := env(envName); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: want true or false, got %q", envName, v))
			}
			def = b
		}
		fs.BoolVar(p, name, def, usage+" (env "+envName+")")
	}

	str(&c.addr, "addr", "SFSYNC_ADDR", "127.0.0.1:8080", "listen address")
	str(&c.clientID, "client-id", "SFSYNC_CLIENT_ID", "", "Connected App consumer key")
	secret(&c.clientSecret, "client-secret", "SFSYNC_CLIENT_SECRET", "", "Connected App consumer secret; prefer the environment variable, flags show in ps")
	str(&c.redirectURL, "redirect-url", "SFSYNC_REDIRECT_URL", "", "OAuth callback URL registered in the Connected App (default http://ADDR/callback)")
	str(&c.loginURL, "login-url", "SFSYNC_LOGIN_URL", "https://login.salesforce.com", "login host: https://login.salesforce.com, https://test.salesforce.com or a My Domain")
	secret(&c.dbPath, "db", "SFSYNC_DB", "sfsync.db", "database: a SQLite file, or a postgres:// (postgresql://) URL for PostgreSQL, "+
		"which several instances behind a load balancer can share; prefer the environment variable when the URL has a password")
	str(&c.dbSchema, "db-schema", "SFSYNC_DB_SCHEMA", "salesforce", "PostgreSQL schema of the tables (created when missing); instances that share data use the same one")
	str(&c.keyID, "key-id", "SFSYNC_KEY_ID", "k1", "ID of the token-sealing key")
	secret(&c.key, "key", "SFSYNC_KEY", "", "token-sealing key: 32 bytes, base64 (openssl rand -base64 32); prefer the environment variable")
	secret(&c.oldKeys, "old-keys", "SFSYNC_OLD_KEYS", "", "retired keys still accepted for reading, as id=base64,id=base64 (key rotation)")
	str(&c.objects, "objects", "SFSYNC_OBJECTS", "", "comma-separated objects to sync (default: every syncable object)")
	dur(&c.interval, "interval", "SFSYNC_INTERVAL", 15*time.Minute, "period of the incremental sync of every connected org")
	dur(&c.calcInterval, "calculated-interval", "SFSYNC_CALCULATED_INTERVAL", 0, "period of the re-read of formula and roll-up fields (0 disables)")
	dur(&c.reconcileEvery, "reconcile-interval", "SFSYNC_RECONCILE_INTERVAL", 24*time.Hour, "period of the Id-set comparison that finds purged deletes (0: only when a watermark passes the 15-day recycle-bin horizon)")
	num(&c.concurrency, "concurrency", "SFSYNC_CONCURRENCY", 4, "objects synced in parallel per org")
	num(&c.bulkThreshold, "bulk-threshold", "SFSYNC_BULK_THRESHOLD", 50000, "record count from which a full extract uses Bulk API 2.0 (negative: never)")
	str(new(string), "limit-reserve", "SFSYNC_LIMIT_RESERVE", "0.9", "share of the daily API limit at which syncs pause (0 disables)")
	fs.Var(&c.outboundFields, "outbound-fields", "an Outbound Message field list, repeatable: ACTIONID=Object:Field,Field,... or Object:Field,... (env SFSYNC_OUTBOUND_FIELDS, ';'-separated)")
	fs.Var(&c.outboundWSDL, "outbound-wsdl", "an Outbound Message WSDL from Setup, repeatable: ACTIONID=file.wsdl, or file.wsdl to use its field list for its object (env SFSYNC_OUTBOUND_WSDL, ';'-separated)")
	boolean(&c.requireAction, "require-known-action", "SFSYNC_REQUIRE_KNOWN_ACTION", "reject Outbound Messages whose ActionId is not configured")
	secret(&c.webhookToken, "webhook-token", "SFSYNC_WEBHOOK_TOKEN", "", "secret path token: the endpoint becomes /webhook/TOKEN")
	str(&c.tlsCert, "tls-cert", "SFSYNC_TLS_CERT", "", "serve HTTPS with this certificate file")
	str(&c.tlsKey, "tls-key", "SFSYNC_TLS_KEY", "", "private key of -tls-cert")
	str(&c.clientCA, "client-ca", "SFSYNC_CLIENT_CA", "", "mutual TLS: PEM file with Salesforce's client certificate (Setup > API); /webhook then requires it")
	str(&c.logFormat, "log-format", "SFSYNC_LOG_FORMAT", "text", "log format: text or json")
	str(&c.logLevel, "log-level", "SFSYNC_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	boolean(&c.demo, "demo", "SFSYNC_DEMO", "run against a fake org started in this process, with a fresh database and a generated key")
	boolean(&c.demoAuto, "demo-auto", "SFSYNC_DEMO_AUTO", "with -demo, also complete the login to the fake org")
	num(&c.demoRecords, "demo-records", "SFSYNC_DEMO_RECORDS", 200, "records per object in the demo org")
	dur(&c.demoEvery, "demo-change-every", "SFSYNC_DEMO_CHANGE_EVERY", 3*time.Second, "how often the demo org changes a record")

	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: server [flags]\n\n"+
			"The sfsync reference server: connects Salesforce orgs (GET /connect),\n"+
			"syncs them into SQLite or PostgreSQL, applies Outbound Messages\n"+
			"(POST /webhook) and shows a status page (GET /). Every flag can also\n"+
			"be set by the environment variable named after it.\n\n"+
			"With -db postgres://..., several instances can share one database:\n"+
			"a sync of an org runs on one instance at a time (a lease in the\n"+
			"database; a second request gets 409 with the running job), jobs,\n"+
			"tokens and webhook receipts are shared, so any instance answers\n"+
			"GET /salesforce-sync/{id} and takes webhooks, and scheduled syncs\n"+
			"are not repeated by the other instances.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	fs.Visit(func(f *flag.Flag) { delete(secrets, f.Name) }) // set on the command line
	for _, fromEnv := range secrets {
		fromEnv()
	}
	lr, err := strconv.ParseFloat(fs.Lookup("limit-reserve").Value.String(), 64)
	if err != nil || lr < 0 || lr > 1 {
		return nil, fmt.Errorf("-limit-reserve: want a share between 0 and 1, got %q", fs.Lookup("limit-reserve").Value.String())
	}
	c.limitReserve = lr
	for _, pair := range []struct {
		l   *listFlag
		env string
	}{{&c.outboundFields, "SFSYNC_OUTBOUND_FIELDS"}, {&c.outboundWSDL, "SFSYNC_OUTBOUND_WSDL"}} {
		if len(*pair.l) == 0 {
			for v := range strings.SplitSeq(env(pair.env), ";") {
				if v = strings.TrimSpace(v); v != "" {
					*pair.l = append(*pair.l, v)
				}
			}
		}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.demoAuto {
		c.demo = true
	}
	return c, c.check()
}

func (c *config) check() error {
	if c.logFormat != "text" && c.logFormat != "json" {
		return fmt.Errorf("-log-format: want text or json, got %q", c.logFormat)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("-log-level: want debug, info, warn or error, got %q", c.logLevel)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	if c.clientCA != "" && c.tlsCert == "" {
		return errors.New("-client-ca needs -tls-cert and -tls-key")
	}
	if isPostgres(c.dbPath) && c.dbSchema == "" {
		return errors.New("-db-schema: empty")
	}
	if c.demo {
		return nil
	}
	var missing []string
	if c.clientID == "" {
		missing = append(missing, "-client-id")
	}
	if c.clientSecret == "" {
		missing = append(missing, "-client-secret")
	}
	if c.key == "" {
		missing = append(missing, "-key")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s (or run with -demo)", strings.Join(missing, ", "))
	}
	return nil
}

func osEnv(name string) string { return os.Getenv(name) }

// isPostgres reports whether -db names a PostgreSQL database (a URL)
// rather than a SQLite file.
func isPostgres(db string) bool {
	l := strings.ToLower(db)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// redactDB returns -db fit for a log line: a URL without its password.
func redactDB(db string) string {
	if !isPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://[unparsable URL]"
	}
	return u.Redacted()
}

// flagHelp is what parseConfig returns for -h.
var flagHelp = flag.ErrHelp
