package main

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/sftest"
)

// TestBrowserConnect drives a real headless Chromium through /connect,
// the fake org's login and consent pages and /callback, then reads the
// status page, which shows the connected org and its synced objects.
func TestBrowserConnect(t *testing.T) {
	bin := chromiumPath()
	if bin == "" {
		t.Skip("skipping the browser test: no Chromium found (install chromium, or set SFSYNC_CHROMIUM to its path); .ci/run installs it")
	}
	sf := sftest.NewServer(sftest.Options{Records: 10, Start: time.Now().UTC()})
	defer sf.Close()
	ts := startServer(t, sf)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "sfsync-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	b, err := startBrowser(ctx, bin, dir)
	if err != nil {
		os.RemoveAll(dir)
		t.Skipf("skipping the browser test: chromium at %s did not start: %v", bin, err)
	}
	defer b.close()

	if err := b.navigate(ts.base + "/"); err != nil {
		t.Fatal(err)
	}
	if err := b.waitFor(`document.getElementById('no-orgs') !== null`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	// Follow the page's own link, as a user would.
	if err := b.do(`document.querySelector('a[href="/connect"]').click()`); err != nil {
		t.Fatal(err)
	}
	if err := b.waitFor(`document.getElementById('username') !== null`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	login := `document.getElementById('username').value = ` + strconv.Quote(sf.Username()) + `;` +
		`document.getElementById('password').value = ` + strconv.Quote(sf.Password()) + `;` +
		`document.querySelector('button[type=submit]').click(); true`
	if err := b.do(login); err != nil {
		t.Fatal(err)
	}
	if err := b.waitFor(`document.querySelector('button[value=Allow]') !== null`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.do(`document.querySelector('button[value=Allow]').click(); true`); err != nil {
		t.Fatal(err)
	}
	if err := b.waitFor(`location.href.startsWith(`+strconv.Quote(ts.base)+`)`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	ts.waitIdle(1)

	if err := b.navigate(ts.base + "/"); err != nil {
		t.Fatal(err)
	}
	orgSection := `document.getElementById(` + strconv.Quote("org-"+sf.Org.ID()) + `)`
	if err := b.waitFor(orgSection+` !== null`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	text, err := b.eval(orgSection + `.innerText`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{sf.Username(), "active", "Account", "Invoice__c", strconv.Itoa(sf.Org.Count("Account", false))} {
		if !strings.Contains(text, want) {
			t.Errorf("status page org section lacks %q:\n%s", want, text)
		}
	}

	// The status page's button starts a sync without JavaScript of its own.
	if err := b.do(orgSection + `.querySelector('button[value=incremental]').click(); true`); err != nil {
		t.Fatal(err)
	}
	s := ts.waitIdle(2)
	if len(s.Recent) < 2 {
		t.Fatalf("the Sync now button started no job: %+v", s.Recent)
	}
	resp, err := http.Get(ts.base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}
