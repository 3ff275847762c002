package metadata_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/salesforce-sync/metadata"
	"github.com/sfsync/salesforce-sync/rest"
	"github.com/sfsync/salesforce-sync/sftest"
)

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func TestFakeOrgDescribe(t *testing.T) {
	s := sftest.NewServer(sftest.Options{})
	defer s.Close()
	at, _ := s.NewSession()
	c := &metadata.Client{REST: &rest.Client{InstanceURL: s.URL, HTTPClient: &http.Client{Transport: bearer{at}}}}
	ctx := context.Background()

	g, err := c.DescribeGlobal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Account", "Case", "Contact", "Invoice__c", "Lead", "Opportunity", "Task", "User", "acme__Shipment__c"}
	got := metadata.Selection{}.Select(g)
	if diff := cmp.Diff(want, slices.Sorted(slices.Values(got))); diff != "" {
		t.Errorf("default selection (-want +got):\n%s", diff)
	}

	first, err := c.Describe(ctx, "Invoice__c")
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Describe(ctx, "Invoice__c")
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Error("unchanged describe was decoded again")
	}
	if n := s.Calls()["describe"]; n != 2 {
		t.Errorf("describe calls = %d", n)
	}
	// Every field of the fake org's every-type object maps.
	for _, f := range first.Fields {
		col, ok := metadata.Column(f)
		switch f.Type {
		case "address", "location", "base64":
			if ok {
				t.Errorf("%s (%s) has a column", f.Name, f.Type)
			}
		default:
			if !ok || col.Name != f.Name {
				t.Errorf("%s (%s) has no column", f.Name, f.Type)
			}
		}
	}

	// A schema change a minute later (Last-Modified has 1 s granularity).
	s.Org.Advance(time.Minute)
	if err := s.Org.AddField("Invoice__c", sftest.Field{Name: "Region__c", Label: "Region", Type: "string", Length: 20, Nillable: true}); err != nil {
		t.Fatal(err)
	}
	changed, err := c.Describe(ctx, "Invoice__c")
	if err != nil {
		t.Fatal(err)
	}
	ch := metadata.Compare(first, changed)
	if len(ch.Added) != 1 || ch.Added[0].Name != "Region__c" || len(ch.Removed) != 0 {
		t.Errorf("changes = %+v", ch)
	}
	if !changed.LastModified.After(first.LastModified) {
		t.Errorf("LastModified went back: %v -> %v", first.LastModified, changed.LastModified)
	}
}
