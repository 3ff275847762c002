package outbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func exampleMessage() *Message {
	return &Message{
		OrganizationID: "00De0000000pmu1EAA",
		ActionID:       "04ke0000000Cb2DAAS",
		SessionID:      secret("00De0000000pmu1!AQsAQsecret"),
		EnterpriseURL:  "https://cs15.salesforce.com/services/Soap/c/61.0/00De0000000pmu1",
		PartnerURL:     "https://cs15.salesforce.com/services/Soap/u/61.0/00De0000000pmu1",
		Notifications: []Notification{{
			ID: "04le0000004lnFFAAY",
			SObject: SObject{Type: "Account", Fields: []Field{
				{"Id", str("001e000000AbCdEAAV")}, {"Name", str("Acme")}, {"Tier__c", nil},
			}},
		}},
	}
}

// TestMarshalJSONShape checks the exact JSON form of the issue, fields in
// message order and the session id redacted.
func TestMarshalJSONShape(t *testing.T) {
	const want = `{"organizationId":"00De0000000pmu1EAA","actionId":"04ke0000000Cb2DAAS","sessionId":"[redacted]",` +
		`"enterpriseUrl":"https://cs15.salesforce.com/services/Soap/c/61.0/00De0000000pmu1",` +
		`"partnerUrl":"https://cs15.salesforce.com/services/Soap/u/61.0/00De0000000pmu1",` +
		`"notifications":[{"id":"04le0000004lnFFAAY","sObject":{"type":"Account","fields":{"Id":"001e000000AbCdEAAV","Name":"Acme","Tier__c":null}}}]}`
	m := exampleMessage()
	for name, marshal := range map[string]func() ([]byte, error){
		"pointer": func() ([]byte, error) { return json.Marshal(m) },
		"value":   func() ([]byte, error) { return json.Marshal(*m) },
		"JSON":    func() ([]byte, error) { return m.JSON(false) },
		"in struct": func() ([]byte, error) {
			b, err := json.Marshal(struct{ M *Message }{m})
			return bytes.TrimSuffix(bytes.TrimPrefix(b, []byte(`{"M":`)), []byte("}")), err
		},
	} {
		got, err := marshal()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}

	revealed, _ := m.JSON(true)
	if !strings.Contains(string(revealed), `"sessionId":"00De0000000pmu1!AQsAQsecret"`) {
		t.Errorf("JSON(true) = %s", revealed)
	}
	m.SessionID = nil
	got, _ := json.Marshal(m)
	if !strings.Contains(string(got), `"sessionId":null`) {
		t.Errorf("nil session: %s", got)
	}
}

func TestMarshalJSONEscaping(t *testing.T) {
	m := exampleMessage()
	m.Notifications[0].SObject.Fields[1].Value = str("a\"b\\c\n<é>\x01")
	got, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeJSON(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("%v\n%s", err, got)
	}
	if v, _, _ := back.Notifications[0].SObject.Get("Name"); v != "a\"b\\c\n<é>\x01" {
		t.Errorf("round trip gave %q", v)
	}
}

// TestSecretNeverPrints checks every way a session id could leak.
func TestSecretNeverPrints(t *testing.T) {
	const value = "00D!SuperSecretSession"
	m := &Message{OrganizationID: "00D", SessionID: secret(value)}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("msg", "session", *m.SessionID, "message", m)
	js, _ := json.Marshal(m)
	outs := []string{
		fmt.Sprint(*m.SessionID), fmt.Sprintf("%v %+v %#v %s %q %x %d", *m.SessionID, *m.SessionID, *m.SessionID, *m.SessionID, *m.SessionID, *m.SessionID, *m.SessionID),
		fmt.Sprintf("%v %+v %#v", m, *m, m.SessionID), logs.String(), string(js),
	}
	for _, s := range outs {
		if strings.Contains(s, value) || strings.Contains(s, "SuperSecret") {
			t.Errorf("secret leaked: %s", s)
		}
	}
	if m.SessionID.Reveal() != value {
		t.Error("Reveal lost the value")
	}
}

func TestDecodeJSON(t *testing.T) {
	in := `{"organizationId":"00De0000000pmu1EAA","actionId":"04ke0000000Cb2DAAS","sessionId":null,"enterpriseUrl":"e","partnerUrl":"p",
	 "notifications":[{"id":"04l1","sObject":{"type":"Invoice__c","fields":{"Id":"a01A","Amount__c":12.50,"Paid__c":true,"Notes__c":"","Tier__c":null,"Name":"x"}}}]}`
	got, err := DecodeJSON(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Message{OrganizationID: "00De0000000pmu1EAA", ActionID: "04ke0000000Cb2DAAS", EnterpriseURL: "e", PartnerURL: "p",
		Notifications: []Notification{{ID: "04l1", SObject: SObject{Type: "Invoice__c", Fields: []Field{
			{"Id", str("a01A")}, {"Amount__c", str("12.50")}, {"Paid__c", str("true")}, {"Notes__c", nil}, {"Tier__c", nil}, {"Name", str("x")},
		}}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// The XML decoder's output survives the JSON form unchanged.
	for _, path := range goldenInputs(t) {
		m := mustDecodeFile(t, path)
		b, _ := m.JSON(true)
		back, err := DecodeJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if diff := cmp.Diff(m, back); diff != "" {
			t.Errorf("%s round trip (-xml +json):\n%s", path, diff)
		}
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	ok := `{"organizationId":"00D","actionId":"04k","notifications":[%s]}`
	n := func(s string) string { return fmt.Sprintf(ok, s) }
	many := strings.TrimSuffix(strings.Repeat(`{"id":"04l","sObject":{"type":"Account","fields":{"Id":"001"}}},`, 101), ",")
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrNotJSON},
		{"xml", "<a/>", ErrNotJSON},
		{"trailing data", n("") + "{}", ErrNotJSON},
		{"unknown key", `{"organizationId":"00D","actionId":"04k","bogus":1}`, ErrNotJSON},
		{"no org", `{"actionId":"04k","notifications":[]}`, ErrMalformed},
		{"no action", `{"organizationId":"00D","notifications":[]}`, ErrMalformed},
		{"101", n(many), ErrTooManyNotifications},
		{"no id", n(`{"sObject":{"type":"Account","fields":{"Id":"001"}}}`), ErrBadNotification},
		{"no sObject", n(`{"id":"04l"}`), ErrBadNotification},
		{"no type", n(`{"id":"04l","sObject":{"fields":{"Id":"001"}}}`), ErrBadSObject},
		{"bad type", n(`{"id":"04l","sObject":{"type":"a b","fields":{"Id":"001"}}}`), ErrBadSObject},
		{"no Id", n(`{"id":"04l","sObject":{"type":"Account","fields":{"Name":"x"}}}`), ErrBadSObject},
		{"null Id", n(`{"id":"04l","sObject":{"type":"Account","fields":{"Id":null}}}`), ErrBadSObject},
		{"no fields", n(`{"id":"04l","sObject":{"type":"Account"}}`), ErrBadSObject},
		{"object value", n(`{"id":"04l","sObject":{"type":"Account","fields":{"Id":"001","A":{}}}}`), ErrBadSObject},
		{"array value", n(`{"id":"04l","sObject":{"type":"Account","fields":{"Id":"001","A":[1]}}}`), ErrBadSObject},
		{"duplicate field", n(`{"id":"04l","sObject":{"type":"Account","fields":{"Id":"001","A":"1","A":"2"}}}`), ErrBadSObject},
		{"bad field name", n(`{"id":"04l","sObject":{"type":"Account","fields":{"Id":"001","a-b":"1"}}}`), ErrBadSObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeJSON(strings.NewReader(tt.in))
			if !errors.Is(err, tt.want) || m != nil {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignature(t *testing.T) {
	secret, body := []byte("k3y"), []byte(`{"a":1}`)
	sig := Sign(secret, body)
	// HMAC-SHA256("k3y", `{"a":1}`), computed independently with openssl.
	if sig != "sha256=32db719f172c48e89dbfa56ed20d9e19cdbfdbe9f652ccdf5fa03494d2444853" {
		t.Fatalf("Sign = %q", sig)
	}
	if err := CheckSignature(secret, body, sig); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		secret []byte
		header string
	}{
		"empty header":   {secret, ""},
		"no prefix":      {secret, strings.TrimPrefix(sig, "sha256=")},
		"not hex":        {secret, "sha256=zz"},
		"other body sig": {secret, Sign(secret, []byte("x"))},
		"other secret":   {[]byte("other"), sig},
		"no secret":      {nil, sig},
		"truncated":      {secret, sig[:len(sig)-2]},
	} {
		if err := CheckSignature(tc.secret, body, tc.header); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
