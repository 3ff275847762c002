package sftest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/sfsync/salesforce-sync/sftest"
)

func ExampleNewServer() {
	s := sftest.NewServer(sftest.Options{RecordsPer: map[string]int{"Account": 3}})
	defer s.Close()
	id, _ := s.Org.Create("Account", map[string]any{"Name": "O'Brien & Co", "Tier__c": "Gold"})
	access, _ := s.NewSession()

	q := `SELECT Id, Name FROM Account WHERE Name = 'O\'Brien & Co'`
	req, _ := http.NewRequest("GET", s.URL+"/services/data/v62.0/query?q="+url.QueryEscape(q), nil)
	req.Header.Set("Authorization", "Bearer "+access)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var page struct {
		TotalSize int
		Records   []struct{ ID, Name string }
	}
	json.NewDecoder(res.Body).Decode(&page)
	fmt.Println(res.StatusCode, res.Header.Get("Sforce-Limit-Info"))
	fmt.Println(page.TotalSize, page.Records[0].ID == id, page.Records[0].Name)
	fmt.Println(s.Org.Count("Account", false), s.Calls()["query"])
	// Output:
	// 200 api-usage=1/1000000
	// 1 true O'Brien & Co
	// 4 1
}

// A listener that acknowledges the second attempt: the first answer is a
// 503, so the fake retries (after a delay shrunk by OutboundTimeScale).
func ExampleServer_AddOutboundMessage() {
	var calls atomic.Int32
	listener := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>
</soapenv:Body></soapenv:Envelope>`)
	}))
	defer listener.Close()

	s := sftest.NewServer(sftest.Options{OutboundTimeScale: 0.0001, OutboundTimeout: 5 * time.Second})
	defer s.Close()
	s.AddOutboundMessage(sftest.OutboundMessage{Name: "AccountSync", Object: "Account",
		Fields: []string{"Name", "Tier__c"}, EndpointURL: listener.URL})
	id, _ := s.Org.Create("Account", map[string]any{"Name": "Acme", "Tier__c": "Gold"})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitOutbound(ctx); err != nil {
		panic(err)
	}
	for _, d := range s.Deliveries() {
		fmt.Println(d.Attempt, d.Status, d.Acked, d.RecordIDs[0] == id)
	}
	// Output:
	// 1 503 false true
	// 2 200 true true
}
