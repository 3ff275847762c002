package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/sftest"
)

// demoMessages are the Outbound Messages the demo org sends to /webhook.
var demoMessages = []sftest.OutboundMessage{
	{Name: "sfsync_demo_account", Object: "Account", Fields: []string{"Id", "Name", "Type", "Industry", "Phone",
		"AnnualRevenue", "Rating", "Tier__c", "LastModifiedDate", "SystemModstamp"}},
	{Name: "sfsync_demo_contact", Object: "Contact", Fields: []string{"Id", "FirstName", "LastName", "Email",
		"Phone", "AccountId", "Title", "LastModifiedDate", "SystemModstamp"}},
	{Name: "sfsync_demo_invoice", Object: "Invoice__c", Fields: []string{"Id", "Name", "Status__c", "Amount__c",
		"Paid__c", "Due_Date__c", "Account__c", "LastModifiedDate", "SystemModstamp"}},
}

// demo is the fake org of -demo and what drives it.
type demo struct {
	org  *sftest.Server
	dir  string
	log  *slog.Logger
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// startDemo starts the fake org and points the configuration at it: its
// OAuth client, a fresh SQLite file and a generated sealing key.
func startDemo(cfg *config, log *slog.Logger) (*demo, error) {
	dir, err := os.MkdirTemp("", "sfsync-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	s := sftest.NewServer(sftest.Options{Records: cfg.demoRecords, OutboundTimeScale: 0.05, Start: time.Now().UTC()})
	cfg.clientID, cfg.clientSecret, cfg.loginURL = s.ClientID(), s.ClientSecret(), s.URL
	cfg.dbPath = filepath.Join(dir, "demo.db")
	key, err := oauth.GenerateKey("demo")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("demo key: %w", err)
	}
	cfg.keyID, cfg.key, cfg.oldKeys = key.ID, base64.StdEncoding.EncodeToString(key.Secret), ""
	if cfg.interval == 15*time.Minute {
		cfg.interval = time.Minute // deletes show up within a minute
	}
	log.Info("demo: fake Salesforce org started", "url", s.URL, "org", s.Org.ID(),
		"username", s.Username(), "records_per_object", cfg.demoRecords)
	log.Info("demo: fresh database and a generated key; both are thrown away on exit",
		"db", cfg.dbPath, "key_id", key.ID)
	return &demo{org: s, dir: dir, log: log, stop: func() {}}, nil
}

// wire registers the outbound messages to the server's /webhook (their
// field lists read back from each message's WSDL, as a user would
// download it), starts the periodic changes and, with -demo-auto, logs in.
func (d *demo) wire(ctx context.Context, a *app) error {
	endpoint := a.baseURL + "/webhook"
	if a.cfg.webhookToken != "" {
		endpoint += "/" + a.cfg.webhookToken
	}
	for _, m := range demoMessages {
		m.EndpointURL = endpoint
		id := d.org.AddOutboundMessage(m)
		wsdl, err := d.org.OutboundWSDL(id)
		if err != nil {
			return fmt.Errorf("wsdl of %s: %w", m.Name, err)
		}
		act, err := outbound.ParseWSDL(bytes.NewReader(wsdl))
		if err != nil {
			return fmt.Errorf("parse wsdl of %s: %w", m.Name, err)
		}
		a.sync.SetAction(id, *act)
		d.log.Info("demo: outbound message registered", "action", id, "object", act.Object, "fields", len(act.Fields))
	}
	cctx, cancel := context.WithCancel(context.Background())
	d.stop = cancel
	d.wg.Go(func() { d.changes(cctx, a.cfg.demoEvery) })

	fmt.Fprintf(os.Stderr, "\n  sfsync demo: open %s/ and click \"Connect an org\"\n", a.baseURL)
	fmt.Fprintf(os.Stderr, "  (fake org login: %s / %s)\n\n", d.org.Username(), d.org.Password())
	if a.cfg.demoAuto {
		if err := autoLogin(ctx, a.baseURL, d.org); err != nil {
			return fmt.Errorf("demo auto login: %w", err)
		}
		d.log.Info("demo: logged in to the fake org; the first full sync is running")
	}
	return nil
}

// changes keeps the fake org's clock on real time and, every period,
// updates a record (sometimes creating or deleting one), so the status
// page shows webhooks and incremental syncs at work.
func (d *demo) changes(ctx context.Context, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	o := d.org.Org
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if now := time.Now().UTC(); now.After(o.Now()) {
			o.SetNow(now)
		}
		if err := d.change(o); err != nil {
			d.log.Debug("demo: change", "err", err)
		}
	}
}

func (d *demo) change(o *sftest.Org) error {
	objects := []string{"Account", "Contact", "Invoice__c"}
	object := objects[rand.IntN(len(objects))]
	recs := o.Records(object, false)
	switch n := rand.IntN(10); {
	case n == 0 || len(recs) == 0:
		ids, err := o.Generate(object, 1)
		if err == nil {
			d.log.Info("demo: record created", "object", object, "id", ids[0])
		}
		return err
	case n == 1 && len(recs) > 1:
		id, _ := recs[rand.IntN(len(recs))]["Id"].(string)
		d.log.Info("demo: record deleted (seen by the next incremental sync)", "object", object, "id", id)
		return o.Delete(object, id)
	}
	id, _ := recs[rand.IntN(len(recs))]["Id"].(string)
	var fields map[string]any
	switch object {
	case "Account":
		fields = map[string]any{"Phone": fmt.Sprintf("+1 555 %04d", rand.IntN(10000)),
			"Tier__c": []string{"Platinum", "Gold", "Silver", "Bronze"}[rand.IntN(4)]}
	case "Contact":
		// A nil title shows a field set to null becoming NULL locally.
		fields = map[string]any{"Title": []any{"CEO", "CFO", "VP Sales", "Engineer", nil}[rand.IntN(5)]}
	default:
		fields = map[string]any{"Amount__c": float64(rand.IntN(1000000)) / 100,
			"Status__c": []string{"Draft", "Sent", "Paid", "Overdue"}[rand.IntN(4)]}
	}
	d.log.Info("demo: record updated", "object", object, "id", id)
	return o.Update(object, id, fields)
}

func (d *demo) stopChanges() {
	d.stop()
	d.wg.Wait()
}

func (d *demo) close() {
	d.stopChanges()
	d.org.Close()
	_ = os.RemoveAll(d.dir)
}

// autoLogin does what a browser would: GET /connect, approve at the
// fake org, and follow the redirect back to /callback.
func autoLogin(ctx context.Context, base string, org *sftest.Server) error {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		return resp, nil
	}
	resp, err := get(base + "/connect")
	if err != nil {
		return err
	}
	authorize := resp.Header.Get("Location")
	if authorize == "" {
		return fmt.Errorf("/connect answered %s without a redirect", resp.Status)
	}
	callback, err := org.Authorize(authorize)
	if err != nil {
		return err
	}
	resp, err = get(callback)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		return errors.New("/callback answered " + resp.Status)
	}
	return nil
}
