// Command fakeorg serves a seeded fake Salesforce org (package sftest) as a
// standalone process, for tools and demos that cannot embed it:
//
//	go run ./examples/fakeorg -addr 127.0.0.1:8443 -records 1000
//
// On start it prints one JSON line to stdout with login_url, instance_url,
// client_id, client_secret, redirect_uris, username, password and a ready
// access_token and refresh_token, then serves until interrupted. The
// org's clock follows the wall clock. Logs go to stderr.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sfsync/salesforce-sync/sftest"
)

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type config struct {
	opts     sftest.Options
	changes  time.Duration
	outbound []string
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("fakeorg", flag.ContinueOnError)
	fs.StringVar(&c.opts.Addr, "addr", "127.0.0.1:8443", "listen address (host:port); port 0 picks a free port")
	fs.IntVar(&c.opts.Records, "records", 1000, "records generated per object at start")
	fs.Int64Var(&c.opts.Seed, "seed", 1, "seed of the generated data")
	fs.StringVar(&c.opts.ClientID, "client-id", "", `connected app consumer key (default "sftest-client-id")`)
	fs.StringVar(&c.opts.ClientSecret, "client-secret", "", `connected app consumer secret (default "sftest-client-secret")`)
	fs.StringVar(&c.opts.Username, "username", "", `login username (default "admin@sftest.example")`)
	fs.StringVar(&c.opts.Password, "password", "", `login password (default "sftest-password")`)
	var redirects multiFlag
	fs.Var(&redirects, "redirect-uri", "allowed OAuth callback URL (repeatable); none allows any http://127.0.0.1 or localhost URL")
	fs.BoolVar(&c.opts.RotateRefreshTokens, "rotate-refresh-tokens", false, "issue a new refresh token on every refresh and invalidate the old one")
	fs.DurationVar(&c.opts.SessionTimeout, "session-timeout", 2*time.Hour, "access token lifetime")
	fs.IntVar(&c.opts.DailyAPILimit, "daily-api-limit", 1_000_000, "daily API request limit (then 403 REQUEST_LIMIT_EXCEEDED)")
	fs.DurationVar(&c.opts.LocatorTTL, "locator-ttl", 15*time.Minute, "query locator lifetime after last use")
	fs.Float64Var(&c.opts.OutboundTimeScale, "outbound-time-scale", 1, "scale of outbound retry delays (0.001 = 1000x faster)")
	fs.DurationVar(&c.opts.OutboundTimeout, "outbound-timeout", 60*time.Second, "wait for an outbound acknowledgement before the attempt fails and is retried (real time)")
	fs.DurationVar(&c.changes, "changes", 0, "make a random create, update or delete this often (0: never), e.g. 2s")
	var outbound multiFlag
	fs.Var(&outbound, "outbound", "register an outbound message, Object=URL (repeatable), e.g. Account=http://127.0.0.1:8080/webhook")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fakeorg [flags]\n\nServes a fake Salesforce org until interrupted and prints its credentials as one JSON line.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.opts.RedirectURIs = redirects
	if c.opts.RedirectURIs == nil {
		c.opts.RedirectURIs = []string{}
	}
	c.outbound = outbound
	for _, o := range outbound {
		if obj, u, ok := strings.Cut(o, "="); !ok || obj == "" || !strings.HasPrefix(u, "http") {
			return c, fmt.Errorf("-outbound %q: want Object=URL", o)
		}
	}
	return c, nil
}

func main() {
	c, err := parseFlags(os.Args[1:])
	if err == flag.ErrHelp {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeorg:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout, log); err != nil {
		log.Error("fakeorg failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, stdout io.Writer, log *slog.Logger) error {
	c.opts.Start = time.Now()
	s, err := sftest.Start(c.opts)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, o := range c.outbound {
		obj, u, _ := strings.Cut(o, "=")
		id, err := addOutbound(s, obj, u)
		if err != nil {
			return err
		}
		log.Info("outbound message registered", "object", obj, "endpoint", u, "action_id", id)
	}
	access, refresh := s.NewSession()
	line, err := json.Marshal(map[string]any{
		"login_url": s.URL, "instance_url": s.URL, "client_id": s.ClientID(), "client_secret": s.ClientSecret(),
		"redirect_uris": c.opts.RedirectURIs, "username": s.Username(), "password": s.Password(),
		"access_token": access, "refresh_token": refresh, "org_id": s.Org.ID(), "user_id": s.Org.UserID(),
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(line))
	log.Info("fake org serving", "url", s.URL, "records_per_object", c.opts.Records)

	clock := time.NewTicker(100 * time.Millisecond)
	defer clock.Stop()
	var changes <-chan time.Time
	if c.changes > 0 {
		t := time.NewTicker(c.changes)
		defer t.Stop()
		changes = t.C
	}
	rng := rand.New(rand.NewPCG(uint64(c.opts.Seed), 42))
	for {
		select {
		case <-ctx.Done():
			log.Info("fake org stopping")
			return nil
		case now := <-clock.C:
			s.Org.SetNow(now)
		case <-changes:
			s.Org.SetNow(time.Now())
			if msg, err := change(s.Org, rng); err != nil {
				log.Warn("random change failed", "err", err)
			} else {
				log.Debug("random change", "change", msg)
			}
		}
	}
}

// addOutbound registers an outbound message with the object's usual
// fields.
func addOutbound(s *sftest.Server, object, endpoint string) (string, error) {
	fields := map[string][]string{
		"Account":     {"Id", "Name", "Phone", "Industry", "AnnualRevenue", "Tier__c", "LastModifiedDate", "SystemModstamp"},
		"Contact":     {"Id", "FirstName", "LastName", "Email", "AccountId", "LastModifiedDate", "SystemModstamp"},
		"Opportunity": {"Id", "Name", "StageName", "Amount", "CloseDate", "AccountId", "SystemModstamp"},
		"Lead":        {"Id", "FirstName", "LastName", "Company", "Status", "Email", "SystemModstamp"},
		"Case":        {"Id", "CaseNumber", "Status", "Subject", "Priority", "SystemModstamp"},
		"Invoice__c":  {"Id", "Name", "Account__c", "Amount__c", "Status__c", "Due_Date__c", "Paid__c", "SystemModstamp"},
	}[object]
	if fields == nil {
		fields = []string{"Id", "SystemModstamp"}
	}
	var id string
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("-outbound %s: %v", object, r)
			}
		}()
		id = s.AddOutboundMessage(sftest.OutboundMessage{Name: object + "_Sync", Object: object,
			Fields: fields, EndpointURL: endpoint})
	}()
	return id, err
}

var changeObjects = []string{"Account", "Contact", "Opportunity", "Lead", "Case", "Invoice__c"}

// change makes one random create (40%), update (45%) or delete (15%).
func change(o *sftest.Org, rng *rand.Rand) (string, error) {
	object := changeObjects[rng.IntN(len(changeObjects))]
	recs := o.Records(object, false)
	p := rng.IntN(100)
	if p < 40 || len(recs) == 0 {
		ids, err := o.Generate(object, 1)
		if err != nil {
			return "", err
		}
		return "create " + object + " " + ids[0], nil
	}
	id := recs[rng.IntN(len(recs))]["Id"].(string)
	if p < 85 {
		field := map[string]string{"Account": "Description", "Contact": "Title", "Opportunity": "NextStep",
			"Lead": "Title", "Case": "Subject", "Invoice__c": "Summary__c"}[object]
		return "update " + object + " " + id, o.Update(object, id, map[string]any{field: fmt.Sprintf("changed at %s", time.Now().Format(time.RFC3339))})
	}
	return "delete " + object + " " + id, o.Delete(object, id)
}
