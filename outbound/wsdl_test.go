package outbound

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseWSDL(t *testing.T) {
	tests := []struct {
		file string
		want Action
	}{
		{"wsdl_Contact_guardian.wsdl", Action{Object: "Contact", Fields: []string{"Id"}}},
		{"wsdl_DiscountRule__c.wsdl", Action{Object: "DiscountRule__c", Fields: []string{
			"Id", "ContractTerm__c", "CreatedDate", "Discount__c", "IsDeleted", "LastModifiedDate",
			"Name", "Price__c", "Product__c", "Type__c"}}},
		{"wsdl_ObjectToBeRemoved__c.wsdl", Action{Object: "ObjectToBeRemoved__c", Fields: []string{"Id", "ObjectClass__c", "ObjectId__c"}}},
		{"wsdl_gwestr__Shipment__c.wsdl", Action{Object: "gwestr__Shipment__c", Fields: []string{
			"Id", "CreatedById", "CreatedDate", "IsDeleted", "LastModifiedById", "LastModifiedDate", "Name",
			"OwnerId", "SystemModstamp", "gwestr__ContactEmail__c", "gwestr__Contact_Phone__c",
			"gwestr__Insurance__c", "gwestr__OverWeight__c", "gwestr__Rush__c", "gwestr__Scheduled_Delivery__c",
			"gwestr__Status__c", "gwestr__TrackingExtId__c", "gwestr__Tracking_URL__c", "gwestr__Warnings__c",
			"gwestr__Weight__c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(fixtures, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := ParseWSDL(f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseWSDLPrefixes renames every prefix of a real WSDL: only the
// namespace URIs count.
func TestParseWSDLPrefixes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtures, "wsdl_DiscountRule__c.wsdl"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(`xmlns:tns=`, `xmlns:t1=`, `"tns:`, `"t1:`, `xmlns:ens=`, `xmlns:o2=`, `"ens:`, `"o2:`).Replace(string(b))
	got, err := ParseWSDL(strings.NewReader("\xEF\xBB\xBF" + strings.ReplaceAll(s, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	if got.Object != "DiscountRule__c" || len(got.Fields) != 10 {
		t.Errorf("got %+v", got)
	}
	// A type prefix bound to the wrong namespace is refused.
	bad := strings.Replace(s, `xmlns:o2="urn:sobject.enterprise.soap.sforce.com"`, `xmlns:o2="urn:other"`, 1)
	if _, err := ParseWSDL(strings.NewReader(bad)); !errors.Is(err, ErrNotWSDL) {
		t.Errorf("wrong namespace: err = %v", err)
	}
}

func TestParseWSDLErrors(t *testing.T) {
	om, _ := os.ReadFile(filepath.Join(fixtures, "om_State_Province__c_perl.xml"))
	tests := []struct {
		name, in string
		want     error
	}{
		{"not xml", "nope", ErrNotXML},
		{"doctype", `<!DOCTYPE definitions SYSTEM "http://x/y.dtd"><definitions/>`, ErrDoctype},
		{"a message, not a WSDL", string(om), ErrNotWSDL},
		{"empty definitions", `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"/>`, ErrNotWSDL},
	}
	for _, tt := range tests {
		if _, err := ParseWSDL(strings.NewReader(tt.in)); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestActions(t *testing.T) {
	acts := Actions{}
	acts.Add("04ke0000000Cb2D", Action{Object: "Account", Fields: []string{"Name"}})
	f, err := os.Open(filepath.Join(fixtures, "wsdl_DiscountRule__c.wsdl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := acts.AddWSDL("04k57000000TOUIAA4", f); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"04k57000000TOUIAA4", "04ke0000000Cb2DAAS"}, acts.IDs()); diff != "" {
		t.Errorf("IDs (-want +got):\n%s", diff)
	}
	a, ok := acts.Lookup("04ke0000000Cb2DAAS")
	if !ok || a.Object != "Account" || !a.Has("Id") || !a.Has("Name") || a.Has("Phone") {
		t.Errorf("Lookup 18 = %+v, %v", a, ok)
	}
	for _, id := range []string{"04ke0000000Cb2D", "04KE0000000CB2DAAS", "04k57000000TOUI"} {
		if _, ok := acts.Lookup(id); !ok {
			t.Errorf("Lookup(%q) failed", id)
		}
	}
	if _, ok := acts.Lookup("04kE0000000Cb2D"); ok {
		t.Error("a 15-character ID in another case matched")
	}
}

func TestStaticVerify(t *testing.T) {
	acts := Actions{}
	acts.Add("04ke0000000Cb2DAAS", Action{Object: "Account"})
	verify := StaticVerify([]string{"00De0000000pmu1"}, acts)
	ctx := context.Background()
	tests := []struct {
		name string
		edit func(m *Message)
		want error
	}{
		{"accepted", func(m *Message) {}, nil},
		{"15-character org", func(m *Message) { m.OrganizationID = "00De0000000pmu1" }, nil},
		{"other org", func(m *Message) { m.OrganizationID = "00DD0000000muCUMAY" }, ErrUnknownOrg},
		{"unknown action", func(m *Message) { m.ActionID = "04k57000000TOUIAA4" }, ErrUnknownAction},
		{"wrong object", func(m *Message) { m.Notifications[0].SObject.Type = "Contact" }, ErrUnknownAction},
	}
	for _, tt := range tests {
		m := exampleMessage()
		tt.edit(m)
		if err := verify(ctx, m); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if err := StaticVerify([]string{"00De0000000pmu1EAA"}, nil)(ctx, exampleMessage()); err != nil {
		t.Errorf("nil actions accept any action: %v", err)
	}
}
