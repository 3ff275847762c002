package fakeoutbound

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkDeliver measures notifications delivered and acknowledged per
// second through a real loopback receiver, 100 per request.
func BenchmarkDeliver(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ack(w) }))
	defer srv.Close()
	name, value := "Name", "Acme Corporation"
	q := New(Config{OrgID: testOrg, Snapshot: func(string, string) ([]FieldValue, bool) {
		return []FieldValue{{name, &value}}, true
	}})
	defer q.Close()
	aid := q.Define(Definition{Object: "Account", Fields: []string{"Name"}, EndpointURL: srv.URL})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for range MaxNotifications {
			q.Enqueue(aid, "001000000000001AAA")
		}
		if err := q.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*MaxNotifications)/b.Elapsed().Seconds(), "notifications/s")
}

// BenchmarkCheckAck measures acknowledgement parsing.
func BenchmarkCheckAck(b *testing.B) {
	body := []byte(okAck)
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckAck(200, "text/xml; charset=utf-8", body); err != nil {
			b.Fatal(err)
		}
	}
}
