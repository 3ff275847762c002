package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	testOrg    = "00De0000000pmu1EAA"
	testAction = "04ke0000000Cb2DAAS"
)

// recorder is a fake engine: it records applied notifications as
// receipts, the way a Store does in the transaction of the rows.
type recorder struct {
	mu       sync.Mutex
	applied  map[string]bool
	calls    [][]string // notification ids per Apply call
	applyErr error
	panicMsg string
	wait     bool // block until ctx is done
	orgSeen  []string
}

func newRecorder() *recorder { return &recorder{applied: map[string]bool{}} }

func (r *recorder) Apply(ctx context.Context, m *Message) error {
	if r.panicMsg != "" {
		panic(r.panicMsg)
	}
	if r.wait {
		<-ctx.Done()
		return ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.applyErr != nil {
		return r.applyErr
	}
	var ids []string
	for _, n := range m.Notifications {
		r.applied[n.ID] = true
		ids = append(ids, n.ID)
	}
	r.calls = append(r.calls, ids)
	return nil
}

func (r *recorder) Applied(_ context.Context, org string, ids []string) (map[string]bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.orgSeen = append(r.orgSeen, org)
	out := map[string]bool{}
	for _, id := range ids {
		if r.applied[id] {
			out[id] = true
		}
	}
	return out, nil
}

func (r *recorder) Calls() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]string(nil), r.calls...)
}

func newHandler(rec *recorder) *Handler {
	acts := Actions{}
	acts.Add(testAction, Action{Object: "Account", Fields: []string{"Id", "Name"}})
	return &Handler{
		Verify:  StaticVerify([]string{testOrg}, acts),
		Apply:   rec.Apply,
		Applied: rec.Applied,
	}
}

// testMessage is a message of the test org with notifications ids.
func testMessage(org string, ids ...string) string {
	var ns strings.Builder
	for _, id := range ids {
		ns.WriteString(notif(id, `<sf:Id>001e000000AbCdEAAV</sf:Id><sf:Name>Acme</sf:Name>`))
	}
	return strings.Replace(msg(ns.String()), "00De0000000pmu1EAA", org, 1)
}

type response struct {
	status int
	ctype  string
	body   string
}

func post(t *testing.T, url, ctype, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

// assertAck fails unless r is the section 5.4 acknowledgement.
func assertAck(t *testing.T, r response) {
	t.Helper()
	if r.status != 200 || r.ctype != "text/xml; charset=utf-8" || r.body != section54 {
		t.Fatalf("want ack, got %d %q %q", r.status, r.ctype, r.body)
	}
}

// assertFault fails unless r is a SOAP fault with the given status.
func assertFault(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status || r.ctype != "text/xml; charset=utf-8" || !strings.Contains(r.body, "<soapenv:Fault>") {
		t.Fatalf("want %d fault, got %d %q %q", status, r.status, r.ctype, r.body)
	}
}

func TestHandlerAck(t *testing.T) {
	rec := newRecorder()
	srv := httptest.NewServer(newHandler(rec))
	defer srv.Close()

	r := post(t, srv.URL+"/webhook", "text/xml; charset=utf-8", testMessage(testOrg, "04l1", "04l2"), "SOAPAction", `""`)
	assertAck(t, r)
	if diff := cmp.Diff([][]string{{"04l1", "04l2"}}, rec.Calls()); diff != "" {
		t.Errorf("Apply calls (-want +got):\n%s", diff)
	}

	// A redelivery with one new notification applies only the new one.
	assertAck(t, post(t, srv.URL+"/webhook", "text/xml", testMessage(testOrg, "04l2", "04l3")))
	// A full duplicate is acknowledged without Apply.
	assertAck(t, post(t, srv.URL+"/webhook", "text/xml", testMessage(testOrg, "04l1", "04l3")))
	// A repeated Id inside one message is applied once.
	assertAck(t, post(t, srv.URL+"/webhook", "application/soap+xml", testMessage(testOrg, "04l4", "04l4", "04l5")))
	want := [][]string{{"04l1", "04l2"}, {"04l3"}, {"04l4", "04l5"}}
	if diff := cmp.Diff(want, rec.Calls()); diff != "" {
		t.Errorf("Apply calls (-want +got):\n%s", diff)
	}
}

func TestHandlerNormalizesOrgID(t *testing.T) {
	rec := newRecorder()
	srv := httptest.NewServer(newHandler(rec))
	defer srv.Close()
	assertAck(t, post(t, srv.URL, "text/xml", testMessage("00De0000000pmu1", "04l1")))
	if diff := cmp.Diff([]string{testOrg}, rec.orgSeen); diff != "" {
		t.Errorf("Applied org (-want +got):\n%s", diff)
	}
}

func TestHandlerStatuses(t *testing.T) {
	good := testMessage(testOrg, "04l1")
	tests := []struct {
		name   string
		setup  func(h *Handler, rec *recorder)
		method string
		ctype  string
		body   string
		header []string
		status int
	}{
		{name: "GET", method: "GET", ctype: "text/xml", status: 405},
		{name: "PUT", method: "PUT", ctype: "text/xml", body: good, status: 405},
		{name: "no content type", ctype: "", body: good, status: 415},
		{name: "json without secret", ctype: "application/json", body: "{}", status: 415},
		{name: "html", ctype: "text/html", body: good, status: 415},
		{name: "latin1 charset", ctype: "text/xml; charset=iso-8859-1", body: good, status: 415},
		{name: "gzip encoding", ctype: "text/xml", body: good, header: []string{"Content-Encoding", "gzip"}, status: 415},
		{name: "too large", setup: func(h *Handler, _ *recorder) { h.MaxBodyBytes = 100 }, ctype: "text/xml", body: good, status: 413},
		{name: "not xml", ctype: "text/xml", body: "hello", status: 400},
		{name: "doctype", ctype: "text/xml", body: `<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`, status: 400},
		{name: "101 notifications", ctype: "text/xml", body: testMessage(testOrg, strings.Split(strings.Repeat("04l,", 101), ",")[:101]...), status: 400},
		{name: "unknown org", ctype: "text/xml", body: testMessage("00DD0000000muCUMAY", "04l1"), status: 403},
		{name: "unknown action", ctype: "text/xml", body: strings.Replace(good, testAction, "04k57000000TOUIAA4", 1), status: 403},
		{name: "verify fails", setup: func(h *Handler, _ *recorder) {
			h.Verify = func(context.Context, *Message) error { return errors.New("store down") }
		}, ctype: "text/xml", body: good, status: 500},
		{name: "applied fails", setup: func(h *Handler, _ *recorder) {
			h.Applied = func(context.Context, string, []string) (map[string]bool, error) { return nil, errors.New("store down") }
		}, ctype: "text/xml", body: good, status: 500},
		{name: "apply fails", setup: func(_ *Handler, rec *recorder) { rec.applyErr = errors.New("disk full") }, ctype: "text/xml", body: good, status: 500},
		{name: "apply panics", setup: func(_ *Handler, rec *recorder) { rec.panicMsg = "boom" }, ctype: "text/xml", body: good, status: 500},
		{name: "apply past the deadline", setup: func(h *Handler, rec *recorder) { h.Timeout = 50 * time.Millisecond; rec.wait = true }, ctype: "text/xml", body: good, status: 500},
		{name: "no verify", setup: func(h *Handler, _ *recorder) { h.Verify = nil }, ctype: "text/xml", body: good, status: 500},
		{name: "no apply", setup: func(h *Handler, _ *recorder) { h.Apply = nil }, ctype: "text/xml", body: good, status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			h := newHandler(rec)
			var reported []int
			h.OnError = func(_ context.Context, status int, err error) {
				if err == nil {
					t.Error("OnError without an error")
				}
				reported = append(reported, status)
			}
			if tt.setup != nil {
				tt.setup(h, rec)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, _ := http.NewRequest(method, srv.URL+"/webhook", strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Set(tt.header[i], tt.header[i+1])
			}
			assertFault(t, do(t, req), tt.status)
			if len(rec.Calls()) != 0 {
				t.Errorf("applied %v despite the fault", rec.Calls())
			}
			if diff := cmp.Diff([]int{tt.status}, reported); diff != "" {
				t.Errorf("OnError statuses (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHandlerChunkedTooLarge sends a body without Content-Length.
func TestHandlerChunkedTooLarge(t *testing.T) {
	rec := newRecorder()
	h := newHandler(rec)
	h.MaxBodyBytes = 1 << 10
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := io.MultiReader(strings.NewReader(testMessage(testOrg, "04l1")), strings.NewReader(strings.Repeat(" ", 2<<10)))
	req, _ := http.NewRequest(http.MethodPost, srv.URL, io.NopCloser(body))
	req.Header.Set("Content-Type", "text/xml")
	assertFault(t, do(t, req), 413)
}

func TestHandlerPanicKeepsServing(t *testing.T) {
	rec := newRecorder()
	rec.panicMsg = "boom"
	var got error
	h := newHandler(rec)
	h.OnError = func(_ context.Context, _ int, err error) { got = err }
	srv := httptest.NewServer(h)
	defer srv.Close()
	assertFault(t, post(t, srv.URL, "text/xml", testMessage(testOrg, "04l1")), 500)
	var pe *PanicError
	if !errors.As(got, &pe) || pe.Value != "boom" || len(pe.Stack) == 0 {
		t.Errorf("OnError got %v", got)
	}
	rec.panicMsg = ""
	assertAck(t, post(t, srv.URL, "text/xml", testMessage(testOrg, "04l1")))
}

func TestHandlerPathToken(t *testing.T) {
	rec := newRecorder()
	h := newHandler(rec)
	h.PathToken = "s3cr3t-t0ken"
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := testMessage(testOrg, "04l1")
	for _, path := range []string{"/webhook", "/webhook/wrong", "/webhook/s3cr3t-t0ke", "/s3cr3t-t0ken/x"} {
		r := post(t, srv.URL+path, "text/xml", body)
		if r.status != 404 || strings.Contains(r.body, "Fault") {
			t.Errorf("%s: %d %q", path, r.status, r.body)
		}
	}
	if len(rec.Calls()) != 0 {
		t.Fatal("applied without the token")
	}
	assertAck(t, post(t, srv.URL+"/webhook/s3cr3t-t0ken", "text/xml", body))
	assertAck(t, post(t, srv.URL+"/webhook/s3cr3t-t0ken/", "text/xml", testMessage(testOrg, "04l2")))
}

// TestHandlerFixtures feeds every recorded message to the handler.
func TestHandlerFixtures(t *testing.T) {
	var got []string
	h := &Handler{
		Verify: func(context.Context, *Message) error { return nil },
		Apply: func(_ context.Context, m *Message) error {
			got = append(got, m.Notifications[0].ID)
			return nil
		},
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	paths, _ := filepath.Glob(filepath.Join(fixtures, "om_*.xml"))
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		assertAck(t, post(t, srv.URL, "text/xml; charset=utf-8", string(b)))
	}
	if len(got) != len(paths) {
		t.Errorf("applied %d of %d", len(got), len(paths))
	}
}

func TestHandlerJSON(t *testing.T) {
	secretKey := []byte("webhook-signing-secret")
	rec := newRecorder()
	h := newHandler(rec)
	h.SigningSecret = secretKey
	srv := httptest.NewServer(h)
	defer srv.Close()

	m := exampleMessage()
	body, _ := m.JSON(true)
	jsonPost := func(body []byte, sig string) response {
		return post(t, srv.URL, "application/json; charset=utf-8", string(body), SignatureHeader, sig)
	}
	r := jsonPost(body, Sign(secretKey, body))
	if r.status != 200 || r.ctype != "application/json" || r.body != `{"ack":true}` {
		t.Fatalf("got %+v", r)
	}
	if diff := cmp.Diff([][]string{{"04le0000004lnFFAAY"}}, rec.Calls()); diff != "" {
		t.Errorf("Apply calls (-want +got):\n%s", diff)
	}
	// The duplicate is acknowledged, not applied.
	if r := jsonPost(body, Sign(secretKey, body)); r.status != 200 {
		t.Errorf("duplicate: %+v", r)
	}
	if len(rec.Calls()) != 1 {
		t.Errorf("duplicate applied: %v", rec.Calls())
	}

	other := exampleMessage()
	other.OrganizationID = "00DD0000000muCUMAY"
	otherBody, _ := other.JSON(false)
	bad := []byte(`{"organizationId":"x"`)
	tests := []struct {
		name   string
		body   []byte
		sig    string
		status int
	}{
		{"no signature", body, "", 401},
		{"wrong signature", body, Sign([]byte("guess"), body), 401},
		{"signature of another body", body, Sign(secretKey, otherBody), 401},
		{"bad json", bad, Sign(secretKey, bad), 400},
		{"unknown org", otherBody, Sign(secretKey, otherBody), 403},
	}
	for _, tt := range tests {
		r := jsonPost(tt.body, tt.sig)
		if r.status != tt.status || r.ctype != "application/json" || !strings.HasPrefix(r.body, `{"ack":false,"error":"outbound: `) {
			t.Errorf("%s: got %+v", tt.name, r)
		}
	}
	if len(rec.Calls()) != 1 {
		t.Errorf("applied despite errors: %v", rec.Calls())
	}
	// XML still works on the same handler.
	assertAck(t, post(t, srv.URL, "text/xml", testMessage(testOrg, "04l9")))
}

// TestHandlerSessionIDNotLeaked checks that the session id reaches Apply
// but no response and no OnError report.
func TestHandlerSessionIDNotLeaked(t *testing.T) {
	const sid = "00De0000000pmu1!LeakCanary"
	var reports bytes.Buffer
	var got string
	h := &Handler{
		Verify: func(context.Context, *Message) error { return nil },
		Apply: func(_ context.Context, m *Message) error {
			got = m.SessionID.Reveal()
			return fmt.Errorf("apply with session %v failed", m.SessionID)
		},
		OnError: func(_ context.Context, _ int, err error) { reports.WriteString(err.Error()) },
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := strings.Replace(testMessage(testOrg, "04l1"), `<SessionId xsi:nil="true"/>`, "<SessionId>"+sid+"</SessionId>", 1)
	r := post(t, srv.URL, "text/xml", body)
	assertFault(t, r, 500)
	if got != sid {
		t.Errorf("Apply saw session %q", got)
	}
	if strings.Contains(r.body, "LeakCanary") || strings.Contains(reports.String(), "LeakCanary") {
		t.Errorf("session id leaked: %q / %q", r.body, reports.String())
	}
}
