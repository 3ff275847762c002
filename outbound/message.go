package outbound

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
)

// MaxNotifications is the most notifications one Outbound Message may carry
// (the WSDL's maxOccurs="100", SALESFORCE.md 5.2).
const MaxNotifications = 100

// Message is one decoded Outbound Message: the envelope's header fields and
// its notifications, in message order.
//
// json.Marshal of a Message gives its JSON form (see MarshalJSON); the
// session id is redacted there unless the caller uses JSON(true).
type Message struct {
	OrganizationID string  // as sent: 18 characters, rarely 15
	ActionID       string  // the outbound message definition (04k...)
	SessionID      *Secret // nil when "Send Session ID" is off (xsi:nil)
	EnterpriseURL  string
	PartnerURL     string
	Notifications  []Notification
}

// Notification is one record change inside a Message. ID (04l...) is the
// key to deduplicate on: Salesforce delivers at least once.
type Notification struct {
	ID      string
	SObject SObject
}

// SObject is the record a notification carries: its object type
// ("Account", "Invoice__c", "acme__Shipment__c") and the fields the
// outbound action selected, in message order. Salesforce leaves out a
// selected field whose value is null, so an absent field is either not
// selected or null; the action's field list (ParseWSDL, Actions) tells
// which.
type SObject struct {
	Type   string
	Fields []Field
}

// Field is one field of an SObject. A nil Value is null: the element was
// empty or carried xsi:nil="true". Values stay strings; typing them needs
// the object's describe, which is the engine's job.
type Field struct {
	Name  string
	Value *string
}

// ID returns the record Id (the Id field), or "" if there is none. Decode
// guarantees it is set.
func (o SObject) ID() string {
	v, _, _ := o.Get("Id")
	return v
}

// Get returns the value of the named field (case-sensitive API name),
// whether the field is present in the message, and whether it is null.
func (o SObject) Get(name string) (value string, present, null bool) {
	for _, f := range o.Fields {
		if f.Name == name {
			if f.Value == nil {
				return "", true, true
			}
			return *f.Value, true, false
		}
	}
	return "", false, false
}

// Secret holds a credential, here the Outbound Message's session id. It
// prints, logs and marshals as "[redacted]"; Reveal gives the value.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]", so %#v does not leak the value either.
func (s Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue makes log/slog print "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON gives the JSON string "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText gives "[redacted]".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON gives the JSON form of the message, with the session id
// redacted:
//
//	{"organizationId":"00D...","actionId":"04k...","sessionId":null,
//	 "enterpriseUrl":"...","partnerUrl":"...",
//	 "notifications":[{"id":"04l...","sObject":{"type":"Account",
//	 "fields":{"Id":"001...","Name":"Acme","Tier__c":null}}}]}
//
// sessionId is null when the message has none and "[redacted]" otherwise;
// fields keep message order; values are strings or null.
func (m Message) MarshalJSON() ([]byte, error) {
	return m.JSON(false)
}

// JSON gives the JSON form of the message (see MarshalJSON); with
// revealSession the session id appears in clear text.
func (m *Message) JSON(revealSession bool) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(256 + 64*len(m.Notifications))
	b.WriteString(`{"organizationId":`)
	writeJSONString(&b, m.OrganizationID)
	b.WriteString(`,"actionId":`)
	writeJSONString(&b, m.ActionID)
	b.WriteString(`,"sessionId":`)
	switch {
	case m.SessionID == nil:
		b.WriteString("null")
	case revealSession:
		writeJSONString(&b, m.SessionID.Reveal())
	default:
		writeJSONString(&b, redacted)
	}
	b.WriteString(`,"enterpriseUrl":`)
	writeJSONString(&b, m.EnterpriseURL)
	b.WriteString(`,"partnerUrl":`)
	writeJSONString(&b, m.PartnerURL)
	b.WriteString(`,"notifications":[`)
	for i, n := range m.Notifications {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":`)
		writeJSONString(&b, n.ID)
		b.WriteString(`,"sObject":`)
		n.SObject.writeJSON(&b)
		b.WriteByte('}')
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

// MarshalJSON gives {"type":"Account","fields":{"Id":"001...",...}} with
// the fields in message order.
func (o SObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	o.writeJSON(&b)
	return b.Bytes(), nil
}

func (o SObject) writeJSON(b *bytes.Buffer) {
	b.WriteString(`{"type":`)
	writeJSONString(b, o.Type)
	b.WriteString(`,"fields":{`)
	for i, f := range o.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, f.Name)
		b.WriteByte(':')
		if f.Value == nil {
			b.WriteString("null")
		} else {
			writeJSONString(b, *f.Value)
		}
	}
	b.WriteString("}}")
}

// MarshalJSON gives {"id":"04l...","sObject":{...}}.
func (n Notification) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"id":`)
	writeJSONString(&b, n.ID)
	b.WriteString(`,"sObject":`)
	n.SObject.writeJSON(&b)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeJSONString writes s as a JSON string, escaped as encoding/json
// does (HTML-safe), without its allocation per value.
func writeJSONString(b *bytes.Buffer, s string) {
	simple := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			simple = false
			break
		}
	}
	if simple {
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
		return
	}
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}
