package fakeoutbound

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/fixtures/salesforce/outbound/"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ptr(s string) *string { return &s }

func TestWithChecksum(t *testing.T) {
	// The real pairs of SALESFORCE.md 6.
	for in, want := range map[string]string{
		"00De0000000pmu1": "00De0000000pmu1EAA",
		"00D8c000002JHMD": "00D8c000002JHMDEA4",
		"00DD0000000muCU": "00DD0000000muCUMAY",
		"04le0000004lnFF": "04le0000004lnFFAAY",
		"a29e0000000K4P0": "a29e0000000K4P0AAK",
	} {
		if got := WithChecksum(in); got != want {
			t.Errorf("WithChecksum(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestEnvelopeMatchesFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		env     envelope
		trim    bool // the fixture was re-indented by its authors
	}{
		{
			fixture: "om_State_Province__c_perl.xml",
			env: envelope{
				OrgID: "00De0000000pmu1EAA", ActionID: "04ke0000000Cb2DAAS", Object: "State_Province__c",
				Session:     "00De0000000pmu1!AQsAQJ6TzpySaKROMNTwKzcOluY5SsZ0rFz9nhA3ktEIly2om86AQtWIbEaakQ9x1lTKNohBaUhDaz2ZD3RSUDCWAGuvJbS0",
				Enterprise:  "https://cs15.salesforce.com/services/Soap/c/29.0/00De0000000pmu1",
				Partner:     "https://cs15.salesforce.com/services/Soap/u/29.0/00De0000000pmu1",
				Declaration: true,
				Notes: []envNotification{{ID: "04le0000004lnFFAAY", RecordID: "a29e0000000K4P0AAK",
					Fields: orderFields([]string{"Abbrev__c", "Country__c", "Name"}, []FieldValue{
						{"Name", ptr("Arkansas")}, {"Country__c", ptr("a28e00000002hMtAAI")},
						{"Abbrev__c", ptr("AR")}, {"Population__c", nil},
					})}},
			},
		},
		{
			fixture: "om_contact_2notifications_aspnetcore.xml",
			env: envelope{
				OrgID: "012345678901234", ActionID: "04k1I000000bmsHQAQ", Object: "Contact",
				Session:    "00D1I000003qqqE!AQsAQOjGFnFJzGPA12yhUGL9Aii0N6lADjH2bNUBHRer5QjjTq3_RbIzlAqHBkfjp3vlHhlwByFY9MJQJlgz_7YaGJZzRF3t",
				Enterprise: "https://na73.salesforce.com/services/Soap/c/41.0/00D1I000003qqqE",
				Partner:    "https://na73.salesforce.com/services/Soap/u/41.0/00D1I000003qqqE",
				Notes: []envNotification{
					{ID: "04l1I000000fztEQAQ", RecordID: "0031I0000081tbPQAQ", Fields: orderFields(
						[]string{"CreatedDate", "Email", "FirstName", "LastName", "Title"}, []FieldValue{
							{"CreatedDate", ptr("2017-12-11T21:49:24.000Z")}, {"Email", nil},
							{"FirstName", ptr("Jeraldine")}, {"LastName", ptr("Black")}, {"Title", ptr("White")}})},
					{ID: "04l1I000000fzt9QAA", RecordID: "0031I0000081tb0QAA", Fields: orderFields(
						[]string{"CreatedDate", "Email", "FirstName", "LastName", "Title"}, []FieldValue{
							{"CreatedDate", ptr("2017-12-11T21:44:55.000Z")}, {"Email", ptr("drb24@cornell.edu")},
							{"FirstName", ptr("Doug")}, {"LastName", ptr("Bunting")}, {"Title", ptr("Supreme Being")}})},
				},
			},
		},
		{
			fixture: "om_DiscountRule__c_sessionid_nil_comsave.xml",
			trim:    true,
			env: envelope{
				OrgID: "00DD0000000muCUMAY", ActionID: "04k57000000TOUIAA4", Object: "DiscountRule__c",
				NilSession:  true,
				Enterprise:  "https://eu4.salesforce.com/services/Soap/c/42.0/00DD0000000muCU",
				Partner:     "https://eu4.salesforce.com/services/Soap/u/42.0/00DD0000000muCU",
				Declaration: true,
				Notes: []envNotification{{ID: "04l570000176YSmAAM", RecordID: "a025700000OPgOjAAL", Fields: orderFields(
					[]string{"ContractTerm__c", "CreatedDate", "Discount__c", "IsDeleted", "LastModifiedDate", "Name", "Price__c", "Product__c", "Type__c"},
					[]FieldValue{{"ContractTerm__c", ptr("24")}, {"CreatedDate", ptr("2017-05-02T11:53:53.000Z")},
						{"Discount__c", ptr("0.0")}, {"IsDeleted", ptr("false")}, {"LastModifiedDate", ptr("2018-05-04T11:35:40.000Z")},
						{"Name", ptr("244 Months")}, {"Price__c", ptr("419.0")}, {"Product__c", ptr("01t57000006qVLRAA2")},
						{"Type__c", ptr("Wholesale")}})}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			want := string(readFixture(t, tt.fixture))
			got := string(tt.env.bytes())
			if tt.trim {
				want = trimLines(want)
				got = trimLines(got)
			}
			if diff := cmp.Diff(strings.TrimRight(want, "\n"), strings.TrimRight(got, "\n")); diff != "" {
				t.Errorf("envelope (-fixture +got):\n%s", diff)
			}
		})
	}
}

func trimLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestEscape(t *testing.T) {
	var b bytes.Buffer
	escape(&b, "a<b>&c\"d'\r\n\te\x00\xff✓", false)
	if got, want := b.String(), "a&lt;b&gt;&amp;c\"d'&#13;\n\te\uFFFD\uFFFD✓"; got != want {
		t.Errorf("escape = %q, want %q", got, want)
	}
	// Round trip through a parser, with the characters XML can carry.
	in := "line1\r\nline2 <b>\"x\" & 'y'</b>"
	b.Reset()
	b.WriteString("<v>")
	escape(&b, in, false)
	b.WriteString("</v>")
	var v string
	if err := xml.Unmarshal(b.Bytes(), &v); err != nil || v != in {
		t.Errorf("round trip = %q, %v", v, err)
	}
}

// xmlTokens is a document as a list of tokens, without comments,
// white space between elements and the XML declaration: the structure a
// WSDL consumer sees.
func xmlTokens(t *testing.T, b []byte) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var out []string
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			s := "<" + x.Name.Space + ":" + x.Name.Local
			for _, a := range x.Attr {
				s += " " + a.Name.Space + ":" + a.Name.Local + "=" + a.Value
			}
			out = append(out, s+">")
		case xml.EndElement:
			out = append(out, "</"+x.Name.Local+">")
		case xml.CharData:
			if s := strings.TrimSpace(string(x)); s != "" {
				out = append(out, s)
			}
		}
	}
}

var elementRE = regexp.MustCompile(`<element name="([^"]+)"\s+nillable="true" minOccurs="0" type="([^"]+)"\s*/>`)
var locationRE = regexp.MustCompile(`<soap:address location="([^"]+)"/>`)
var objectRE = regexp.MustCompile(`type="ens:([^"]+)"`)

func TestWSDLMatchesFixtures(t *testing.T) {
	for _, name := range []string{"wsdl_DiscountRule__c.wsdl", "wsdl_ObjectToBeRemoved__c.wsdl",
		"wsdl_gwestr__Shipment__c.wsdl", "wsdl_Contact_guardian.wsdl"} {
		t.Run(name, func(t *testing.T) {
			fx := readFixture(t, name)
			d := Definition{Object: objectRE.FindStringSubmatch(string(fx))[1], FieldSoapTypes: map[string]string{}}
			for _, m := range elementRE.FindAllStringSubmatch(string(fx), -1) {
				d.Fields = append(d.Fields, m[1])
				d.FieldSoapTypes[m[1]] = m[2]
			}
			if m := locationRE.FindStringSubmatch(string(fx)); m != nil {
				d.EndpointURL = m[1]
			}
			// Shuffle the field order: the WSDL must list them in
			// Salesforce's order whatever the definition says.
			for i, j := 0, len(d.Fields)-1; i < j; i, j = i+1, j-1 {
				d.Fields[i], d.Fields[j] = d.Fields[j], d.Fields[i]
			}
			q := New(Config{})
			defer q.Close()
			id := q.Define(d)
			got, err := q.WSDL(id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(xmlTokens(t, fx), xmlTokens(t, got)); diff != "" {
				t.Errorf("wsdl structure (-fixture +got):\n%s", diff)
			}
		})
	}
	t.Run("exact bytes", func(t *testing.T) {
		fx := readFixture(t, "wsdl_DiscountRule__c.wsdl")
		d := Definition{Object: "DiscountRule__c", EndpointURL: "http://blabla",
			FieldSoapTypes: map[string]string{"CreatedDate": "xsd:dateTime", "Discount__c": "xsd:double",
				"IsDeleted": "xsd:boolean", "LastModifiedDate": "xsd:dateTime", "Price__c": "xsd:double", "Product__c": "ent:ID"}}
		fields := []string{"ContractTerm__c", "CreatedDate", "Discount__c", "IsDeleted", "LastModifiedDate", "Name", "Price__c", "Product__c", "Type__c"}
		got := wsdl(d, fields, time.Date(2017, 3, 21, 15, 2, 2, 0, time.UTC))
		if diff := cmp.Diff(string(fx), string(got)); diff != "" {
			t.Errorf("(-fixture +got):\n%s", diff)
		}
	})
	t.Run("unknown action", func(t *testing.T) {
		q := New(Config{})
		defer q.Close()
		if _, err := q.WSDL("04k000000000000AAA"); !errors.Is(err, ErrUnknownAction) {
			t.Errorf("err = %v", err)
		}
	})
}

const okAck = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
   <Ack>true</Ack>
  </notificationsResponse>
 </soapenv:Body>
</soapenv:Envelope>`

func TestCheckAck(t *testing.T) {
	tests := []struct {
		name   string
		status int
		ct     string
		body   string
		ok     bool
	}{
		{"aspnet fixture with BOM", 200, "text/xml; charset=utf-8", string(readFixture(t, "ack_aspnet_notificationResponse.xml")), true},
		{"aspnetcore fixture", 200, "text/xml", string(readFixture(t, "ack_aspnetcore_expected.xml")), true},
		{"minimal", 200, "text/xml", okAck, true},
		{"prefixed", 200, "application/soap+xml", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` +
			`<out:notificationsResponse xmlns:out="http://soap.sforce.com/2005/09/outbound"><out:Ack> true </out:Ack>` +
			`</out:notificationsResponse></s:Body></s:Envelope>`, true},
		{"ack 1", 200, "text/xml", strings.Replace(okAck, ">true<", ">1<", 1), true},
		{"soap fault fixture", 200, "text/xml", string(readFixture(t, "fault_aspnet_soap_fault.xml")), false},
		{"fault with 500", 500, "text/xml", string(readFixture(t, "fault_aspnet_soap_fault.xml")), false},
		{"ack false", 200, "text/xml", strings.Replace(okAck, ">true<", ">false<", 1), false},
		{"ack empty", 200, "text/xml", strings.Replace(okAck, ">true<", "><", 1), false},
		{"ack missing", 200, "text/xml", strings.Replace(okAck, "<Ack>true</Ack>", "", 1), false},
		{"wrong element", 200, "text/xml", strings.ReplaceAll(okAck, "notificationsResponse", "notifications"), false},
		{"no namespace", 200, "text/xml", strings.Replace(okAck, ` xmlns="http://soap.sforce.com/2005/09/outbound"`, "", 1), false},
		{"wrong namespace", 200, "text/xml", strings.Replace(okAck, "2005/09/outbound", "2005/09/inbound", 1), false},
		{"ack in other namespace", 200, "text/xml", strings.Replace(okAck, "<Ack>true</Ack>", `<Ack xmlns="urn:x">true</Ack>`, 1), false},
		{"soap 1.2 envelope", 200, "text/xml", strings.Replace(okAck, "http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope", 1), false},
		{"status 500", 500, "text/xml", okAck, false},
		{"status 204", 204, "text/xml", "", false},
		{"status 302", 302, "text/xml", okAck, false},
		{"html", 200, "text/html", "<html><body>OK</body></html>", false},
		{"json", 200, "application/json", `{"Ack":true}`, false},
		{"xml body with json type", 200, "application/json", okAck, false},
		{"empty", 200, "text/xml", "", false},
		{"truncated", 200, "text/xml", okAck[:len(okAck)/2], false},
		{"text before envelope", 200, "text/xml", "OK" + okAck, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAck(tt.status, tt.ct, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Errorf("CheckAck = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrNotAcked) {
				t.Errorf("error %v does not wrap ErrNotAcked", err)
			}
		})
	}
}

func FuzzCheckAck(f *testing.F) {
	for _, name := range []string{"ack_aspnet_notificationResponse.xml", "ack_aspnetcore_expected.xml", "fault_aspnet_soap_fault.xml"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(okAck))
	f.Add([]byte(strings.ReplaceAll(okAck, "notificationsResponse", "notifications")))
	f.Fuzz(func(t *testing.T, body []byte) {
		err := CheckAck(200, "text/xml", body)
		if err == nil && !bytes.Contains(body, []byte("Ack")) {
			t.Fatalf("acknowledged a body without Ack: %q", body)
		}
		if err != nil && !errors.Is(err, ErrNotAcked) {
			t.Fatalf("error does not wrap ErrNotAcked: %v", err)
		}
	})
}

// FuzzEnvelope checks that any field value gives a well-formed envelope
// from which the value reads back (characters XML cannot carry become
// U+FFFD).
func FuzzEnvelope(f *testing.F) {
	f.Add("Acme <b>&amp;</b>", "Name__c")
	f.Add("line\r\nbreak\t\"'", "Description")
	f.Add("\x00\x1f\xff\ufffe", "X")
	f.Fuzz(func(t *testing.T, value, field string) {
		if !regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`).MatchString(field) {
			return // field names are API names
		}
		e := envelope{OrgID: "00D8c000002JHMDEA4", ActionID: "04k8c0000000001AAA", Object: "Account", NilSession: true,
			Notes: []envNotification{{ID: "04l8c0000000001AAA", RecordID: "001000000000001AAA",
				Fields: []FieldValue{{Name: field, Value: &value}}}}}
		var env gotEnvelope
		if err := xml.Unmarshal(e.bytes(), &env); err != nil {
			t.Fatalf("envelope does not parse: %v", err)
		}
		fs := env.Body.N.Notes[0].SObject.Fields
		var b bytes.Buffer
		escape(&b, value, false)
		var want string
		if err := xml.Unmarshal([]byte("<v>"+b.String()+"</v>"), &want); err != nil {
			t.Fatal(err)
		}
		if len(fs) != 2 || fs[1].XMLName.Local != field || fs[1].Value != want {
			t.Fatalf("fields %+v, want %s=%q", fs, field, want)
		}
		if strings.ContainsRune(value, '\r') || !utf8.ValidString(value) {
			return
		}
		clean := strings.Map(func(r rune) rune {
			if !xmlChar(r) {
				return utf8.RuneError
			}
			return r
		}, value)
		if want != clean {
			t.Fatalf("value %q read back as %q", value, want)
		}
	})
}
