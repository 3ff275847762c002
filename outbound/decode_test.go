package outbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const fixtures = "../testdata/fixtures/salesforce/outbound"

// goldenInputs lists the recorded fixtures and this package's own
// realistic messages.
func goldenInputs(t *testing.T) []string {
	t.Helper()
	a, err := filepath.Glob(filepath.Join(fixtures, "om_*.xml"))
	if err != nil || len(a) == 0 {
		t.Fatalf("no fixtures in %s: %v", fixtures, err)
	}
	b, _ := filepath.Glob("testdata/messages/*.xml")
	if len(b) < 4 {
		t.Fatalf("testdata/messages has %d files", len(b))
	}
	return append(a, b...)
}

// TestDecodeGolden decodes every fixture and realistic message and
// compares its JSON form with testdata/golden/<name>.json (go test
// -update rewrites them).
func TestDecodeGolden(t *testing.T) {
	for _, path := range goldenInputs(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".xml")
		t.Run(name, func(t *testing.T) {
			m := mustDecodeFile(t, path)
			got, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
				t.Errorf("JSON form differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func mustDecodeFile(t *testing.T, path string) *Message {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return m
}

func str(s string) *string { return &s }

func secret(s string) *Secret { v := Secret(s); return &v }

// TestDecodeFixtureDetails checks the recorded fixtures field by field
// where the golden files would not make a rule obvious.
func TestDecodeFixtureDetails(t *testing.T) {
	m := mustDecodeFile(t, filepath.Join(fixtures, "om_State_Province__c_perl.xml"))
	want := &Message{
		OrganizationID: "00De0000000pmu1EAA",
		ActionID:       "04ke0000000Cb2DAAS",
		SessionID:      secret("00De0000000pmu1!AQsAQJ6TzpySaKROMNTwKzcOluY5SsZ0rFz9nhA3ktEIly2om86AQtWIbEaakQ9x1lTKNohBaUhDaz2ZD3RSUDCWAGuvJbS0"),
		EnterpriseURL:  "https://cs15.salesforce.com/services/Soap/c/29.0/00De0000000pmu1",
		PartnerURL:     "https://cs15.salesforce.com/services/Soap/u/29.0/00De0000000pmu1",
		Notifications: []Notification{{
			ID: "04le0000004lnFFAAY",
			SObject: SObject{Type: "State_Province__c", Fields: []Field{
				{"Id", str("a29e0000000K4P0AAK")},
				{"Abbrev__c", str("AR")},
				{"Country__c", str("a28e00000002hMtAAI")},
				{"Name", str("Arkansas")},
			}},
		}},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	m = mustDecodeFile(t, filepath.Join(fixtures, "om_contact_2notifications_aspnetcore.xml"))
	if _, present, _ := m.Notifications[0].SObject.Get("Email"); present {
		t.Error("first Contact has no Email element, but Get reports it present")
	}
	if v, present, null := m.Notifications[1].SObject.Get("Email"); !present || null || v != "drb24@cornell.edu" {
		t.Errorf("second Contact Email = %q, %v, %v", v, present, null)
	}
	m = mustDecodeFile(t, filepath.Join(fixtures, "om_DiscountRule__c_sessionid_nil_comsave.xml"))
	if m.SessionID != nil {
		t.Errorf("SessionId xsi:nil decoded as %v", m.SessionID)
	}
}

const (
	envOpen = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>`
	envEnd  = `</soapenv:Body></soapenv:Envelope>`
	nsOpen  = `<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00De0000000pmu1EAA</OrganizationId><ActionId>04ke0000000Cb2DAAS</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>e</EnterpriseUrl><PartnerUrl>p</PartnerUrl>`
	nsEnd   = `</notifications>`
	sfNS    = `xmlns:sf="urn:sobject.enterprise.soap.sforce.com"`
)

// msg wraps notifications in the standard envelope.
func msg(notifications string) string {
	return envOpen + nsOpen + notifications + nsEnd + envEnd
}

// notif is one notification with an Account sObject holding fields.
func notif(id, fields string) string {
	return `<Notification><Id>` + id + `</Id><sObject xsi:type="sf:Account" ` + sfNS + `>` + fields + `</sObject></Notification>`
}

// TestDecodeRules checks each decoding rule on a small message.
func TestDecodeRules(t *testing.T) {
	acct := func(fields ...Field) *Message {
		return &Message{
			OrganizationID: "00De0000000pmu1EAA", ActionID: "04ke0000000Cb2DAAS",
			EnterpriseURL: "e", PartnerURL: "p",
			Notifications: []Notification{{ID: "04l1", SObject: SObject{Type: "Account", Fields: fields}}},
		}
	}
	id := Field{"Id", str("001A")}
	tests := []struct {
		name string
		in   string
		want *Message
	}{
		{"plain", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Name>Acme</sf:Name>`)),
			acct(id, Field{"Name", str("Acme")})},
		{"xsi nil is null", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Tier__c xsi:nil="true"/>`)),
			acct(id, Field{"Tier__c", nil})},
		{"xsi nil 1 is null", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Tier__c xsi:nil="1">x</sf:Tier__c>`)),
			acct(id, Field{"Tier__c", nil})},
		{"xsi nil false keeps value", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Tier__c xsi:nil="false">Gold</sf:Tier__c>`)),
			acct(id, Field{"Tier__c", str("Gold")})},
		{"empty element is null", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Name></sf:Name><sf:Site/>`)),
			acct(id, Field{"Name", nil}, Field{"Site", nil})},
		{"whitespace is a value", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Name> </sf:Name>`)),
			acct(id, Field{"Name", str(" ")})},
		{"absent stays absent", msg(notif("04l1", `<sf:Id>001A</sf:Id>`)), acct(id)},
		{"document order kept", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Zeta>z</sf:Zeta><sf:Alpha>a</sf:Alpha>`)),
			acct(id, Field{"Zeta", str("z")}, Field{"Alpha", str("a")})},
		{"entities and char refs", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Name>&lt;b&gt; &amp; &#233;&#x263A;</sf:Name>`)),
			acct(id, Field{"Name", str("<b> & é☺")})},
		{"comment inside a value is skipped", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Name>Ac<!-- x -->me</sf:Name>`)),
			acct(id, Field{"Name", str("Acme")})},
		{"cdata", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Name><![CDATA[a<b]]></sf:Name>`)),
			acct(id, Field{"Name", str("a<b")})},
		{"CRLF in a value", msg(notif("04l1", "<sf:Id>001A</sf:Id><sf:Description>a\r\nb</sf:Description>")),
			acct(id, Field{"Description", str("a\nb")})},
		{"fieldsToNull", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:fieldsToNull>Phone</sf:fieldsToNull><sf:Name>n</sf:Name>`)),
			acct(id, Field{"Name", str("n")}, Field{"Phone", nil})},
		{"fieldsToNull for a present field ignored", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:fieldsToNull>Name</sf:fieldsToNull><sf:Name>n</sf:Name>`)),
			acct(id, Field{"Name", str("n")})},
		{"xml declaration, BOM, comments, whitespace",
			"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n" + msg(notif("04l1", "\n  <sf:Id>001A</sf:Id>\n  ")) + "\n<!-- end -->\n",
			acct(id)},
		{"prefix declared on the Envelope",
			`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:z="urn:sobject.enterprise.soap.sforce.com" xmlns:q="http://www.w3.org/2001/XMLSchema-instance"><e:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00De0000000pmu1EAA</OrganizationId><ActionId>04ke0000000Cb2DAAS</ActionId><EnterpriseUrl>e</EnterpriseUrl><PartnerUrl>p</PartnerUrl><Notification><Id>04l1</Id><sObject q:type="z:Account"><z:Id>001A</z:Id></sObject></Notification></notifications></e:Body></e:Envelope>`,
			acct(id)},
		{"same prefix rebound on an inner element",
			`<sf:Envelope xmlns:sf="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><sf:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00De0000000pmu1EAA</OrganizationId><ActionId>04ke0000000Cb2DAAS</ActionId><EnterpriseUrl>e</EnterpriseUrl><PartnerUrl>p</PartnerUrl><Notification><Id>04l1</Id><sObject xsi:type="sf:Account" ` + sfNS + `><sf:Id>001A</sf:Id></sObject></Notification></notifications></sf:Body></sf:Envelope>`,
			acct(id)},
		{"unknown elements in notifications and Notification ignored",
			envOpen + `<notifications xmlns="http://soap.sforce.com/2005/09/outbound" xmlns:x="urn:x"><x:Extra>1</x:Extra><OrganizationId>00De0000000pmu1EAA</OrganizationId><ActionId>04ke0000000Cb2DAAS</ActionId><EnterpriseUrl>e</EnterpriseUrl><PartnerUrl>p</PartnerUrl><Future>f</Future><Notification><Id>04l1</Id><Extra/><sObject xsi:type="sf:Account" ` + sfNS + `><sf:Id>001A</sf:Id></sObject></Notification></notifications>` + envEnd,
			acct(id)},
		{"SOAP header", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Header><h>1</h></soapenv:Header><soapenv:Body>` + nsOpen + notif("04l1", `<sf:Id>001A</sf:Id>`) + nsEnd + envEnd,
			acct(id)},
		{"custom and namespaced types", msg(`<Notification><Id>04l1</Id><sObject xsi:type="sf:acme__Shipment__c" ` + sfNS + `><sf:Id>001A</sf:Id></sObject></Notification>`),
			func() *Message { m := acct(id); m.Notifications[0].SObject.Type = "acme__Shipment__c"; return m }()},
		{"no notifications", msg(""),
			func() *Message { m := acct(); m.Notifications = nil; return m }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeSessionID(t *testing.T) {
	in := strings.Replace(msg(notif("04l1", `<sf:Id>001A</sf:Id>`)), `<SessionId xsi:nil="true"/>`, `<SessionId>00D!secret.value</SessionId>`, 1)
	m, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.SessionID == nil || m.SessionID.Reveal() != "00D!secret.value" {
		t.Fatalf("SessionID = %v", m.SessionID)
	}
	in = strings.Replace(in, `<SessionId>00D!secret.value</SessionId>`, ``, 1)
	if m, err = Decode(strings.NewReader(in)); err != nil || m.SessionID != nil {
		t.Fatalf("absent SessionId: %v, %v", m, err)
	}
}

// TestDecodeErrors checks that each kind of bad input gives its own
// error, found with errors.Is.
func TestDecodeErrors(t *testing.T) {
	many := strings.Repeat(notif("04l1", `<sf:Id>001A</sf:Id>`), 101)
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrNotXML},
		{"text", "hello", ErrNotXML},
		{"json", `{"organizationId":"x"}`, ErrNotXML},
		{"truncated", msg(notif("04l1", `<sf:Id>001A</sf:Id>`))[:200], ErrNotXML},
		{"mismatched tags", `<a><b></a></b>`, ErrNotXML},
		{"undefined entity", msg(notif("04l1", `<sf:Id>&bogus;</sf:Id>`)), ErrNotXML},
		{"two roots", envOpen + envEnd + envOpen + envEnd, ErrNotXML},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?>` + msg(""), ErrNotXML},
		{"doctype", `<!DOCTYPE x [<!ENTITY a "b">]>` + msg(""), ErrDoctype},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>`, ErrDoctype},
		{"not soap", `<notifications xmlns="http://soap.sforce.com/2005/09/outbound"/>`, ErrNotEnvelope},
		{"soap 1.2", `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>`, ErrNotEnvelope},
		{"envelope by prefix only", `<soapenv:Envelope xmlns:soapenv="urn:other"><soapenv:Body/></soapenv:Envelope>`, ErrNotEnvelope},
		{"undeclared prefix", `<soapenv:Envelope><soapenv:Body/></soapenv:Envelope>`, ErrNotEnvelope},
		{"no body", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"/>`, ErrNotEnvelope},
		{"empty body", envOpen + envEnd, ErrNotNotifications},
		{"ack in body", envOpen + `<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>` + envEnd, ErrNotNotifications},
		{"notifications in no namespace", envOpen + `<notifications><OrganizationId>x</OrganizationId></notifications>` + envEnd, ErrNotNotifications},
		{"fault in body", envOpen + `<soapenv:Fault/>` + envEnd, ErrNotNotifications},
		{"no OrganizationId", strings.Replace(msg(""), "<OrganizationId>00De0000000pmu1EAA</OrganizationId>", "", 1), ErrMalformed},
		{"no ActionId", strings.Replace(msg(""), "<ActionId>04ke0000000Cb2DAAS</ActionId>", "", 1), ErrMalformed},
		{"two ActionIds", strings.Replace(msg(""), "<ActionId>", "<ActionId>a</ActionId><ActionId>", 1), ErrMalformed},
		{"101 notifications", msg(many), ErrTooManyNotifications},
		{"notification without Id", msg(`<Notification><sObject xsi:type="sf:Account" ` + sfNS + `><sf:Id>001A</sf:Id></sObject></Notification>`), ErrBadNotification},
		{"notification with empty Id", msg(`<Notification><Id/><sObject xsi:type="sf:Account" ` + sfNS + `><sf:Id>001A</sf:Id></sObject></Notification>`), ErrBadNotification},
		{"notification without sObject", msg(`<Notification><Id>04l1</Id></Notification>`), ErrBadNotification},
		{"notification with two sObjects", msg(`<Notification><Id>04l1</Id><sObject xsi:type="sf:Account" ` + sfNS + `><sf:Id>001A</sf:Id></sObject><sObject xsi:type="sf:Account" ` + sfNS + `><sf:Id>001B</sf:Id></sObject></Notification>`), ErrBadNotification},
		{"sObject without xsi:type", msg(`<Notification><Id>04l1</Id><sObject ` + sfNS + `><sf:Id>001A</sf:Id></sObject></Notification>`), ErrBadSObject},
		{"type attribute not in xsi", msg(`<Notification><Id>04l1</Id><sObject type="sf:Account" ` + sfNS + `><sf:Id>001A</sf:Id></sObject></Notification>`), ErrBadSObject},
		{"type prefix undeclared", msg(`<Notification><Id>04l1</Id><sObject xsi:type="zz:Account" ` + sfNS + `><sf:Id>001A</sf:Id></sObject></Notification>`), ErrBadSObject},
		{"type in another namespace", msg(`<Notification><Id>04l1</Id><sObject xsi:type="xsi:Account" ` + sfNS + `><sf:Id>001A</sf:Id></sObject></Notification>`), ErrBadSObject},
		{"type not a name", msg(`<Notification><Id>04l1</Id><sObject xsi:type="sf:Acc-ount" ` + sfNS + `><sf:Id>001A</sf:Id></sObject></Notification>`), ErrBadSObject},
		{"sObject without Id", msg(notif("04l1", `<sf:Name>Acme</sf:Name>`)), ErrBadSObject},
		{"sObject with nil Id", msg(notif("04l1", `<sf:Id xsi:nil="true"/>`)), ErrBadSObject},
		{"field in another namespace", msg(notif("04l1", `<sf:Id>001A</sf:Id><Name>x</Name>`)), ErrBadSObject},
		{"field with child elements", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Name><sf:X>1</sf:X></sf:Name>`)), ErrBadSObject},
		{"repeated field", msg(notif("04l1", `<sf:Id>001A</sf:Id><sf:Name>a</sf:Name><sf:Name>b</sf:Name>`)), ErrBadSObject},
		{"deep nesting", strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100), ErrLimit},
		{"many elements", "<a>" + strings.Repeat("<b/>", DefaultMaxElements) + "</a>", ErrLimit},
		{"huge tag", `<a ` + strings.Repeat(`x="1" `, 5000) + `/>`, ErrLimit},
		{"many attributes", `<a ` + strings.Repeat(`x="1" `, 65) + `/>`, ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(strings.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v (message %v), want %v", err, m != nil, tt.want)
			}
			if m != nil {
				t.Error("a message came back with the error")
			}
		})
	}
}

func TestDecodeTooLarge(t *testing.T) {
	in := msg(notif("04l1", `<sf:Id>001A</sf:Id>`))
	_, err := Decoder{MaxBytes: int64(len(in) - 1)}.Decode(strings.NewReader(in))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := (Decoder{MaxBytes: int64(len(in))}).Decode(strings.NewReader(in)); err != nil {
		t.Fatalf("exactly MaxBytes: %v", err)
	}
}

// TestDecodeErrorsHideValues checks that an error never quotes a field
// value or the session id, including the parser's own syntax errors
// (encoding/xml names a bad entity reference, which is part of a value).
func TestDecodeErrorsHideValues(t *testing.T) {
	withSession := func(session, fields string) string {
		return strings.Replace(msg(notif("04l1", fields)), `<SessionId xsi:nil="true"/>`, "<SessionId>"+session+"</SessionId>", 1)
	}
	tests := map[string]string{
		"no Id":                    withSession("SessionSecretXYZ", `<sf:Name>TopSecretValue</sf:Name>`),
		"bad entity in a value":    withSession("SessionSecretXYZ", `<sf:Id>001A</sf:Id><sf:Name>AT&TopSecretValue</sf:Name>`),
		"bad entity in session id": withSession("00D!&SessionSecretXYZ", `<sf:Id>001A</sf:Id><sf:Name>TopSecretValue</sf:Name>`),
		"named entity in a value":  withSession("SessionSecretXYZ", `<sf:Id>001A</sf:Id><sf:Name>&TopSecretValue;</sf:Name>`),
		"value with a child":       withSession("SessionSecretXYZ", `<sf:Id>001A</sf:Id><sf:Name>TopSecretValue<sf:x/></sf:Name>`),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			for _, slow := range []bool{false, true} {
				old := disableFastPath
				disableFastPath = slow
				_, err := Decode(strings.NewReader(in))
				disableFastPath = old
				if err == nil {
					t.Fatal("no error")
				}
				for _, s := range []string{"TopSecretValue", "SessionSecretXYZ"} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q contains %q", err, s)
					}
				}
			}
		})
	}
}

func TestSObjectGet(t *testing.T) {
	o := SObject{Type: "Account", Fields: []Field{{"Id", str("001A")}, {"Tier__c", nil}, {"Name", str("")}}}
	tests := []struct {
		field         string
		value         string
		present, null bool
	}{
		{"Id", "001A", true, false},
		{"Tier__c", "", true, true},
		{"Name", "", true, false},
		{"Phone", "", false, false},
		{"id", "", false, false},
	}
	for _, tt := range tests {
		v, p, n := o.Get(tt.field)
		if v != tt.value || p != tt.present || n != tt.null {
			t.Errorf("Get(%q) = %q, %v, %v; want %q, %v, %v", tt.field, v, p, n, tt.value, tt.present, tt.null)
		}
	}
	if o.ID() != "001A" {
		t.Errorf("ID() = %q", o.ID())
	}
}
