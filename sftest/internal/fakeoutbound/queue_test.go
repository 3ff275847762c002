package fakeoutbound

import (
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testOrg = "00D8c000002JHMDEA4"

// received is one request as the receiver saw it.
type received struct {
	header http.Header
	env    gotEnvelope
}

type gotField struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

type gotEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		N struct {
			OrgID     string `xml:"http://soap.sforce.com/2005/09/outbound OrganizationId"`
			ActionID  string `xml:"http://soap.sforce.com/2005/09/outbound ActionId"`
			SessionID struct {
				Nil   string `xml:"http://www.w3.org/2001/XMLSchema-instance nil,attr"`
				Value string `xml:",chardata"`
			} `xml:"http://soap.sforce.com/2005/09/outbound SessionId"`
			EnterpriseURL string `xml:"http://soap.sforce.com/2005/09/outbound EnterpriseUrl"`
			Notes         []struct {
				ID      string `xml:"http://soap.sforce.com/2005/09/outbound Id"`
				SObject struct {
					Type   string     `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
					Fields []gotField `xml:",any"`
				} `xml:"http://soap.sforce.com/2005/09/outbound sObject"`
			} `xml:"http://soap.sforce.com/2005/09/outbound Notification"`
		} `xml:"http://soap.sforce.com/2005/09/outbound notifications"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// receiver is a real HTTP endpoint; respond decides each answer (nil:
// acknowledge).
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []received
	respond func(n int, w http.ResponseWriter, r *http.Request) // n counts from 1
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var env gotEnvelope
		if err := xml.Unmarshal(body, &env); err != nil {
			t.Errorf("receiver: bad envelope: %v\n%s", err, body)
		}
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), env: env})
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w, r)
			return
		}
		ack(w)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func ack(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	io.WriteString(w, okAck)
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func newQueue(t *testing.T, cfg Config) *Queue {
	t.Helper()
	if cfg.OrgID == "" {
		cfg.OrgID = testOrg
	}
	if cfg.TimeScale == 0 {
		cfg.TimeScale = 1e-5 // 15 s -> 150 µs, 2 h -> 72 ms, 24 h -> 864 ms
	}
	q := New(cfg)
	t.Cleanup(q.Close)
	return q
}

func wait(t *testing.T, q *Queue) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return q.Wait(ctx)
}

func TestDeliverAndAck(t *testing.T) {
	rc := newReceiver(t, nil)
	var mu sync.Mutex
	values := map[string][]FieldValue{
		"001000000000001AAA": {{"Name", ptr("Acme <\"Q\"> & Co\nline 2")}, {"Phone", nil}, {"AnnualRevenue", ptr("45000.0")}, {"Id", ptr("ignored")}},
		"001000000000002AAA": {{"Name", ptr("Beta")}, {"Phone", ptr("555")}, {"Secret__c", ptr("not selected")}},
	}
	q := newQueue(t, Config{
		EnterpriseURL: func() string { return "https://x/services/Soap/c/62.0/00D8c000002JHMD" },
		PartnerURL:    func() string { return "https://x/services/Soap/u/62.0/00D8c000002JHMD" },
		SessionID:     func() string { return "00D8c000002JHMD!AQsession" },
		Snapshot: func(object, id string) ([]FieldValue, bool) {
			if object != "Account" {
				t.Errorf("snapshot of %s", object)
			}
			mu.Lock()
			defer mu.Unlock()
			v, ok := values[id]
			return v, ok
		},
	})
	aid := q.Define(Definition{Name: "AccountSync", Object: "Account", Fields: []string{"Phone", "Name", "Id", "AnnualRevenue"},
		EndpointURL: rc.srv.URL + "/webhook", IncludeSessionID: true})
	if len(aid) != 18 || !strings.HasPrefix(aid, "04k") || WithChecksum(aid[:15]) != aid {
		t.Fatalf("ActionId %q", aid)
	}
	q.Enqueue(aid, "001000000000001AAA")
	q.Enqueue(aid, "001000000000002AAA")
	q.Enqueue(aid, "001000000000003AAA") // deleted before sending
	if err := wait(t, q); err != nil {
		t.Fatal(err)
	}

	var fields [][]string
	var ids []string
	for _, r := range rc.requests() {
		if got := r.header.Get("Content-Type"); got != "text/xml; charset=utf-8" {
			t.Errorf("Content-Type %q", got)
		}
		if got := r.header.Get("SOAPAction"); got != `""` {
			t.Errorf("SOAPAction %q", got)
		}
		n := r.env.Body.N
		if n.OrgID != testOrg || n.ActionID != aid || n.SessionID.Value != "00D8c000002JHMD!AQsession" ||
			!strings.HasSuffix(n.EnterpriseURL, "/c/62.0/00D8c000002JHMD") {
			t.Errorf("header fields: %+v", n)
		}
		for _, note := range n.Notes {
			if len(note.ID) != 18 || !strings.HasPrefix(note.ID, "04l") || WithChecksum(note.ID[:15]) != note.ID {
				t.Errorf("notification id %q", note.ID)
			}
			if note.SObject.Type != "sf:Account" {
				t.Errorf("xsi:type %q", note.SObject.Type)
			}
			var f []string
			for _, fl := range note.SObject.Fields {
				if fl.XMLName.Space != nsSObject {
					t.Errorf("field %s in namespace %q", fl.XMLName.Local, fl.XMLName.Space)
				}
				f = append(f, fl.XMLName.Local+"="+fl.Value)
			}
			fields = append(fields, f)
			ids = append(ids, note.ID)
		}
	}
	want := [][]string{
		{"Id=001000000000001AAA", "AnnualRevenue=45000.0", "Name=Acme <\"Q\"> & Co\nline 2"},
		{"Id=001000000000002AAA", "Name=Beta", "Phone=555"},
	}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("sObjects (-want +got):\n%s", diff)
	}
	var logged []string
	for _, d := range q.Deliveries() {
		if !d.Acked || d.Status != 200 || d.Err != "" || d.Attempt != 1 || d.ActionID != aid || d.At.IsZero() {
			t.Errorf("delivery %+v", d)
		}
		logged = append(logged, d.NotificationIDs...)
	}
	if diff := cmp.Diff(ids, logged); diff != "" {
		t.Errorf("log ids (-sent +logged):\n%s", diff)
	}
}

func TestSessionIDNil(t *testing.T) {
	rc := newReceiver(t, nil)
	q := newQueue(t, Config{SessionID: func() string { return "secret" }})
	aid := q.Define(Definition{Object: "Contact", EndpointURL: rc.srv.URL})
	q.Enqueue(aid, "003000000000001AAA")
	if err := wait(t, q); err != nil {
		t.Fatal(err)
	}
	s := rc.requests()[0].env.Body.N.SessionID
	if s.Nil != "true" || s.Value != "" {
		t.Errorf("SessionId = %+v, want xsi:nil", s)
	}
}

// failing answers with a failure for the first n requests, then acks.
func failing(n int, fail func(w http.ResponseWriter)) func(int, http.ResponseWriter, *http.Request) {
	return func(i int, w http.ResponseWriter, r *http.Request) {
		if i <= n {
			fail(w)
			return
		}
		ack(w)
	}
}

func xmlReply(status int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestRetryUntilAck(t *testing.T) {
	fault := string(readFixture(t, "fault_aspnet_soap_fault.xml"))
	tests := []struct {
		name string
		fail func(w http.ResponseWriter)
		err  string // in Delivery.Err
	}{
		{"http 500", xmlReply(500, okAck), "status 500"},
		{"http 503 empty", xmlReply(503, ""), "status 503"},
		{"soap fault", xmlReply(500, fault), "status 500"},
		{"soap fault 200", xmlReply(200, fault), "soap fault"},
		{"ack false", xmlReply(200, strings.Replace(okAck, ">true<", ">false<", 1)), "Ack is"},
		{"wrong element", xmlReply(200, strings.ReplaceAll(okAck, "notificationsResponse", "notifications")), "want {"},
		{"wrong namespace", xmlReply(200, strings.Replace(okAck, "2005/09/outbound", "2005/09/other", 1)), "want {"},
		{"html 200", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>thanks</html>")
		}, "not xml"},
		{"redirect", func(w http.ResponseWriter) {
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(302)
		}, "status 302"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, failing(2, tt.fail))
			q := newQueue(t, Config{})
			aid := q.Define(Definition{Object: "Contact", EndpointURL: rc.srv.URL})
			q.Enqueue(aid, "003000000000001AAA")
			if err := wait(t, q); err != nil {
				t.Fatal(err)
			}
			log := q.Deliveries()
			if len(log) != 3 {
				t.Fatalf("%d attempts, want 3: %+v", len(log), log)
			}
			for i, d := range log {
				if d.Attempt != i+1 || d.Acked != (i == 2) || cmp.Diff(log[0].NotificationIDs, d.NotificationIDs) != "" {
					t.Errorf("attempt %d: %+v", i+1, d)
				}
				if i < 2 && !strings.Contains(d.Err, tt.err) {
					t.Errorf("attempt %d: Err %q, want it to mention %q", i+1, d.Err, tt.err)
				}
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			select { // hold the first answer past the timeout
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		ack(w)
	})
	q := newQueue(t, Config{Timeout: 100 * time.Millisecond})
	aid := q.Define(Definition{Object: "Contact", EndpointURL: rc.srv.URL})
	q.Enqueue(aid, "003000000000001AAA")
	if err := wait(t, q); err != nil {
		t.Fatal(err)
	}
	log := q.Deliveries()
	if len(log) != 2 || log[0].Acked || log[0].Status != 0 || !strings.Contains(log[0].Err, "no acknowledgement within 100ms") || !log[1].Acked {
		t.Errorf("log %+v", log)
	}
}

func TestRetryInterval(t *testing.T) {
	want := map[int]time.Duration{
		1: 15 * time.Second, 2: 30 * time.Second, 3: time.Minute, 5: 4 * time.Minute,
		9: 64 * time.Minute, 10: 2 * time.Hour, 11: 2 * time.Hour, 100: 2 * time.Hour,
	}
	for n, w := range want {
		if got := RetryInterval(n); got != w {
			t.Errorf("RetryInterval(%d) = %s, want %s", n, got, w)
		}
	}
}

// TestBackoffSchedule runs a message that is never acknowledged through
// the whole 24-hour schedule, scaled down to under a second.
func TestBackoffSchedule(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { xmlReply(500, "")(w) })
	q := newQueue(t, Config{})
	aid := q.Define(Definition{Object: "Contact", EndpointURL: rc.srv.URL})
	start := time.Now()
	q.Enqueue(aid, "003000000000001AAA")
	err := wait(t, q)
	if !errors.Is(err, ErrDropped) {
		t.Fatalf("Wait = %v, want ErrDropped", err)
	}

	// The most attempts a 24-hour life allows.
	maxAttempts, at := 1, time.Duration(0)
	for {
		at += RetryInterval(maxAttempts)
		if at > MaxAge {
			break
		}
		maxAttempts++
	}
	log := q.Deliveries()
	if len(log) > maxAttempts || len(log) < 10 {
		t.Errorf("%d attempts, want at most %d and at least 10", len(log), maxAttempts)
	}
	scale := 1e-5
	for i := 1; i < len(log); i++ {
		if log[i].Attempt != i+1 || log[i].Acked {
			t.Errorf("entry %d: %+v", i, log[i])
		}
		// Timers never fire early: each gap is at least the scaled interval.
		minGap := time.Duration(float64(RetryInterval(i)) * scale)
		if gap := log[i].At.Sub(log[i-1].At); gap < minGap {
			t.Errorf("gap before attempt %d = %s, want >= %s", i+1, gap, minGap)
		}
	}
	if last := log[len(log)-1].At.Sub(start); last > time.Duration(float64(MaxAge)*scale) {
		t.Errorf("last attempt %s after enqueue, past the scaled 24 hours", last)
	}
}

func TestBatching(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			<-release
		}
		ack(w)
	})
	q := newQueue(t, Config{})
	aid := q.Define(Definition{Object: "Contact", EndpointURL: rc.srv.URL})
	const total = 250
	for i := range total {
		q.Enqueue(aid, WithChecksum("003000000"+strings.Repeat("0", 6-len(itoa(i)))+itoa(i)))
	}
	close(release)
	if err := wait(t, q); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	largest := 0
	for _, r := range rc.requests() {
		n := len(r.env.Body.N.Notes)
		if n < 1 || n > MaxNotifications {
			t.Errorf("request with %d notifications", n)
		}
		largest = max(largest, n)
		for _, note := range r.env.Body.N.Notes {
			seen[note.ID] = true
		}
	}
	if len(seen) != total || largest != MaxNotifications {
		t.Errorf("%d distinct notifications, largest request %d", len(seen), largest)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDuplicates(t *testing.T) {
	rc := newReceiver(t, nil)
	q := newQueue(t, Config{})
	q.SetChaos(1, 0)
	aid := q.Define(Definition{Object: "Contact", EndpointURL: rc.srv.URL})
	for i := range 5 {
		q.Enqueue(aid, WithChecksum("00300000000000"+itoa(i)))
	}
	if err := wait(t, q); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, d := range q.Deliveries() {
		for _, id := range d.NotificationIDs {
			count[id]++
		}
	}
	if len(count) != 5 {
		t.Fatalf("%d distinct notifications", len(count))
	}
	for id, n := range count {
		if n != 2 {
			t.Errorf("%s delivered %d times, want 2", id, n)
		}
	}
}

func TestReorder(t *testing.T) {
	rc := newReceiver(t, nil)
	q := newQueue(t, Config{TimeScale: 1e-3})
	q.SetChaos(0, 1)
	aid := q.Define(Definition{Object: "Contact", EndpointURL: rc.srv.URL})
	var want []string
	for i := range 30 {
		id := WithChecksum("0030000000000" + strings.Repeat("0", 2-len(itoa(i))) + itoa(i))
		want = append(want, id)
		q.Enqueue(aid, id)
	}
	if err := wait(t, q); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range q.Deliveries() {
		got = append(got, d.RecordIDs...)
	}
	if len(got) != 30 {
		t.Fatalf("%d delivered", len(got))
	}
	if cmp.Diff(want, got) == "" {
		t.Error("delivered in queue order despite reorderProb 1")
	}
}

func TestWaitContext(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { xmlReply(500, "")(w) })
	q := newQueue(t, Config{TimeScale: 1})
	aid := q.Define(Definition{Object: "Contact", EndpointURL: rc.srv.URL})
	q.Enqueue(aid, "003000000000001AAA")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := q.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v", err)
	}
	q.Close()
	if err := q.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait after Close = %v", err)
	}
	q.Enqueue(aid, "003000000000002AAA") // ignored, no panic
}

func TestCloseLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		block := make(chan struct{})
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "slow") {
				select {
				case <-block:
				case <-r.Context().Done():
				}
				return
			}
			ack(w)
		}))
		defer rc.Close()
		defer close(block)
		q := New(Config{OrgID: testOrg, TimeScale: 1e-5})
		fast := q.Define(Definition{Object: "Contact", EndpointURL: rc.URL + "/fast"})
		slow := q.Define(Definition{Object: "Contact", EndpointURL: rc.URL + "/slow"})
		q.Define(Definition{Object: "Lead", EndpointURL: rc.URL + "/idle"})
		q.Enqueue(fast, "003000000000001AAA")
		q.Enqueue(slow, "003000000000002AAA") // in flight at Close
		for len(q.Deliveries()) == 0 {
			time.Sleep(time.Millisecond)
		}
		q.Close()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestValuesAtSendTime(t *testing.T) {
	var mu sync.Mutex
	name := "before"
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			mu.Lock()
			name = "after" // the record changes while the message waits for its retry
			mu.Unlock()
			xmlReply(500, "")(w)
			return
		}
		ack(w)
	})
	q := newQueue(t, Config{Snapshot: func(_, _ string) ([]FieldValue, bool) {
		mu.Lock()
		defer mu.Unlock()
		v := name
		return []FieldValue{{"Name", &v}}, true
	}})
	aid := q.Define(Definition{Object: "Account", Fields: []string{"Name"}, EndpointURL: rc.srv.URL})
	q.Enqueue(aid, "001000000000001AAA")
	if err := wait(t, q); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rc.requests() {
		got = append(got, r.env.Body.N.Notes[0].SObject.Fields[1].Value)
	}
	if diff := cmp.Diff([]string{"before", "after"}, got); diff != "" {
		t.Errorf("Name per attempt (-want +got):\n%s", diff)
	}
}

func TestGzipAck(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding %q", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, okAck)
		zw.Close()
	})
	q := newQueue(t, Config{})
	aid := q.Define(Definition{Object: "Account", EndpointURL: rc.srv.URL})
	q.Enqueue(aid, "001000000000001AAA")
	if err := wait(t, q); err != nil {
		t.Fatal(err)
	}
	if log := q.Deliveries(); len(log) != 1 || !log[0].Acked {
		t.Errorf("log %+v", log)
	}
}
