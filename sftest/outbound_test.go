package sftest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const ackBody = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
   <Ack>true</Ack>
  </notificationsResponse>
 </soapenv:Body>
</soapenv:Envelope>`

func TestOutboundDelivery(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	fails := 1
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(b))
		if fails > 0 {
			fails--
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, ackBody)
	}))
	defer recv.Close()
	s, _ := testServer(t, Options{OutboundTimeScale: 0.0001})
	aid := s.AddOutboundMessage(OutboundMessage{Name: "Sync", Object: "Account",
		Fields:      []string{"Name", "AnnualRevenue", "CreatedDate", "BillingAddress", "Tier__c"},
		EndpointURL: recv.URL, Criteria: func(rec map[string]any) bool { return rec["Tier__c"] == "Gold" }})
	if !strings.HasPrefix(aid, "04k") || len(aid) != 18 {
		t.Fatalf("action id %q", aid)
	}
	gold, _ := s.Org.Create("Account", map[string]any{"Name": "O'Gold & <Co>", "Tier__c": "Gold", "AnnualRevenue": 45000.0, "BillingCity": "Oslo"})
	s.Org.Create("Account", map[string]any{"Name": "Silver", "Tier__c": "Silver"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.WaitOutbound(ctx); err != nil {
		t.Fatal(err)
	}
	ds := s.Deliveries()
	if len(ds) != 2 || ds[0].Acked || ds[0].Status != 503 || !ds[1].Acked || ds[1].Attempt != 2 || ds[1].RecordIDs[0] != gold {
		t.Fatalf("deliveries %+v", ds)
	}
	mu.Lock()
	body := bodies[len(bodies)-1]
	mu.Unlock()
	for _, want := range []string{"<sf:Id>" + gold + "</sf:Id>", "<sf:AnnualRevenue>45000.0</sf:AnnualRevenue>",
		"<sf:BillingCity>Oslo</sf:BillingCity>", "<sf:CreatedDate>2026-01-01T00:00:00.000Z</sf:CreatedDate>",
		"O&apos;Gold &amp; &lt;Co&gt;", "<OrganizationId>" + s.Org.ID() + "</OrganizationId>"} {
		if !strings.Contains(body, want) && !strings.Contains(body, strings.ReplaceAll(want, "&apos;", "'")) {
			t.Errorf("message lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "BillingStreet") {
		t.Error("null components must be left out")
	}
	wsdl, err := s.OutboundWSDL(aid)
	if err != nil || !strings.Contains(string(wsdl), "NotificationService") {
		t.Fatalf("wsdl: %v", err)
	}
	r := get(t, s, "", "/sftest/outbound/"+aid+"/wsdl")
	if r.status != 200 || string(r.body) != string(wsdl) {
		t.Errorf("served wsdl: %d", r.status)
	}
	if r := get(t, s, "", "/sftest/outbound/04k000000000000AAA/wsdl"); r.status != 404 {
		t.Errorf("unknown action: %d", r.status)
	}
}

// TestOutboundTimeout checks that Options.OutboundTimeout bounds the wait
// for an acknowledgement: a listener slower than it fails the attempt
// (which is retried), a faster one acks.
func TestOutboundTimeout(t *testing.T) {
	var mu sync.Mutex
	slow := true
	release := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		wasSlow := slow
		slow = false
		mu.Unlock()
		if wasSlow {
			select { // hold the answer well past the timeout
			case <-release:
			case <-time.After(5 * time.Second):
			}
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, ackBody)
	}))
	defer recv.Close()
	defer close(release)
	s, _ := testServer(t, Options{OutboundTimeScale: 0.0001, OutboundTimeout: 150 * time.Millisecond})
	s.AddOutboundMessage(OutboundMessage{Name: "Sync", Object: "Account", Fields: []string{"Name"}, EndpointURL: recv.URL})
	id, _ := s.Org.Create("Account", map[string]any{"Name": "Slow"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.WaitOutbound(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("took %s: the 150ms timeout was not applied", d)
	}
	ds := s.Deliveries()
	if len(ds) != 2 || ds[0].Acked || !strings.Contains(ds[0].Err, "no acknowledgement") ||
		!ds[1].Acked || ds[1].Attempt != 2 || ds[1].RecordIDs[0] != id {
		t.Fatalf("deliveries %+v", ds)
	}
}
