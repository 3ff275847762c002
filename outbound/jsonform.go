package outbound

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SignatureHeader carries the JSON form's signature: "sha256=" and the
// lower-case hex HMAC-SHA256 of the exact body under the shared secret
// (Handler.SigningSecret). In Apex:
//
//	Blob mac = Crypto.generateMac('hmacSHA256', Blob.valueOf(body), Blob.valueOf(secret));
//	req.setHeader('X-Sfsync-Signature', 'sha256=' + EncodingUtil.convertToHex(mac));
const SignatureHeader = "X-Sfsync-Signature"

// ErrBadSignature is returned by CheckSignature; the handler answers 401.
var ErrBadSignature = errors.New("outbound: missing or invalid signature")

// Sign returns the SignatureHeader value for body under secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// CheckSignature verifies a SignatureHeader value against body in
// constant time. An empty secret never verifies.
func CheckSignature(secret, body []byte, header string) error {
	if len(secret) == 0 {
		return fmt.Errorf("no signing secret: %w", ErrBadSignature)
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return fmt.Errorf("no sha256 signature: %w", ErrBadSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("signature is not hex: %w", ErrBadSignature)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// DecodeJSON reads a message in its JSON form (Message.MarshalJSON) with
// the default limits. See Decoder.DecodeJSON.
func DecodeJSON(r io.Reader) (*Message, error) {
	return Decoder{}.DecodeJSON(r)
}

// DecodeJSON reads a message in its JSON form, as a custom webhook (a
// Flow HTTP callout, Apex) posts it, and checks it by the rules of Decode:
// organizationId and actionId set, at most 100 notifications, each with an
// id and an sObject that has a type and a non-null Id field, field names
// that are API names and appear once. Field values may be strings, null,
// numbers or booleans; numbers and booleans are kept as their JSON text
// (12.5, true), an empty string is null, and objects or arrays are an
// error. Unknown keys at the message and notification level are an error.
func (d Decoder) DecodeJSON(r io.Reader) (*Message, error) {
	b, err := readLimited(r, d.maxBytes())
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(trimBOM(b)))
	dec.DisallowUnknownFields()
	var jm jsonMessage
	if err := dec.Decode(&jm); err != nil {
		var se *sobjectError
		if errors.As(err, &se) {
			return nil, se.err
		}
		return nil, fmt.Errorf("%w: %s", ErrNotJSON, strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the message", ErrNotJSON)
	}
	return jm.message()
}

type jsonMessage struct {
	OrganizationID string             `json:"organizationId"`
	ActionID       string             `json:"actionId"`
	SessionID      *string            `json:"sessionId"`
	EnterpriseURL  string             `json:"enterpriseUrl"`
	PartnerURL     string             `json:"partnerUrl"`
	Notifications  []jsonNotification `json:"notifications"`
}

type jsonNotification struct {
	ID      string       `json:"id"`
	SObject *jsonSObject `json:"sObject"`
}

type jsonSObject struct{ SObject }

// sobjectError carries a rule violation out of json.Decoder unchanged.
type sobjectError struct{ err error }

func (e *sobjectError) Error() string { return e.err.Error() }

func (jm *jsonMessage) message() (*Message, error) {
	if jm.OrganizationID == "" {
		return nil, fmt.Errorf("%w: no organizationId", ErrMalformed)
	}
	if jm.ActionID == "" {
		return nil, fmt.Errorf("%w: no actionId", ErrMalformed)
	}
	if len(jm.Notifications) > MaxNotifications {
		return nil, ErrTooManyNotifications
	}
	m := &Message{
		OrganizationID: jm.OrganizationID,
		ActionID:       jm.ActionID,
		EnterpriseURL:  jm.EnterpriseURL,
		PartnerURL:     jm.PartnerURL,
		Notifications:  make([]Notification, 0, len(jm.Notifications)),
	}
	if jm.SessionID != nil && *jm.SessionID != "" {
		s := Secret(*jm.SessionID)
		m.SessionID = &s
	}
	for i, n := range jm.Notifications {
		if n.ID == "" {
			return nil, fmt.Errorf("notification %d: no id: %w", i+1, ErrBadNotification)
		}
		if n.SObject == nil {
			return nil, fmt.Errorf("notification %d: no sObject: %w", i+1, ErrBadNotification)
		}
		if v, present, null := n.SObject.Get("Id"); !present || null || v == "" {
			return nil, fmt.Errorf("notification %d: sObject has no Id: %w", i+1, ErrBadSObject)
		}
		m.Notifications = append(m.Notifications, Notification{ID: n.ID, SObject: n.SObject.SObject})
	}
	return m, nil
}

// UnmarshalJSON reads {"type":"Account","fields":{...}} keeping the
// fields' order.
func (o *jsonSObject) UnmarshalJSON(b []byte) error {
	var raw struct {
		Type   string          `json:"type"`
		Fields json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if !validName(raw.Type) {
		return &sobjectError{fmt.Errorf("type %q is not an object name: %w", clip(raw.Type), ErrBadSObject)}
	}
	o.Type = raw.Type
	fields, err := orderedFields(raw.Fields)
	if err != nil {
		return &sobjectError{err}
	}
	o.Fields = fields
	return nil
}

// orderedFields reads a JSON object of field values in document order.
func orderedFields(b json.RawMessage) ([]Field, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, fmt.Errorf("no fields: %w", ErrBadSObject)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("fields is not an object: %w", ErrBadSObject)
	}
	var fields []Field
	var names nameSet
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotJSON, err)
		}
		name, _ := t.(string)
		if !validName(name) {
			return nil, fmt.Errorf("field name %q is not an API name: %w", clip(name), ErrBadSObject)
		}
		if names.add(name, fields) {
			return nil, fmt.Errorf("field %s appears twice: %w", name, ErrBadSObject)
		}
		t, err = dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotJSON, err)
		}
		f := Field{Name: name}
		switch v := t.(type) {
		case nil:
		case string:
			if v != "" {
				f.Value = &v
			}
		case json.Number:
			s := v.String()
			f.Value = &s
		case bool:
			s := "false"
			if v {
				s = "true"
			}
			f.Value = &s
		default:
			return nil, fmt.Errorf("field %s is not a string, number, boolean or null: %w", name, ErrBadSObject)
		}
		fields = append(fields, f)
	}
	return fields, nil
}
