package sftest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/salesforce-sync/sftest/internal/fakeoutbound"
)

// OutboundMessage defines a workflow outbound message: when a record of
// Object is created or updated and Criteria (nil: always) holds for its
// values (as Org.Get returns them), a notification with Fields is queued
// for EndpointURL. A compound field in Fields sends its components.
type OutboundMessage struct {
	// Name is the definition's name (as in Setup); it is informational.
	Name string
	// Object is the object whose creates and updates trigger the message.
	Object string
	// Fields are the fields sent with each notification (Id always is);
	// a compound field sends its components.
	Fields []string
	// EndpointURL is where the SOAP messages are POSTed.
	EndpointURL string
	// IncludeSessionID sends a live access token as SessionId; false
	// sends <SessionId xsi:nil="true"/> (SALESFORCE.md 5.2).
	IncludeSessionID bool
	// Criteria, if not nil, must hold for the record's values (as
	// Org.Get returns them) for a notification to be queued.
	Criteria func(rec map[string]any) bool
}

// Delivery is one HTTP attempt in the outbound delivery log.
type Delivery struct {
	// ActionID is the outbound message definition's ActionId (04k...).
	ActionID string
	// NotificationIDs are the Notification/Id values (04l...) of the
	// attempt's message, in message order; RecordIDs are their records.
	NotificationIDs, RecordIDs []string
	// Attempt is 1 for a message's first attempt, 2 for its first retry.
	Attempt int
	// Status is the listener's HTTP status; 0 when no answer came.
	Status int
	// Acked reports a valid acknowledgement (SALESFORCE.md 5.4).
	Acked bool
	// Err says why an attempt failed ("" when Acked).
	Err string
	// At is when the attempt started (real time).
	At time.Time
}

// AddOutboundMessage registers an outbound message and returns its
// ActionId (04k...). It panics on an unknown object or field, as a
// definition in Setup could not be saved with them.
func (s *Server) AddOutboundMessage(m OutboundMessage) (actionID string) {
	o := s.Org
	o.mu.RLock()
	od := o.byName[strings.ToLower(m.Object)]
	if od == nil {
		o.mu.RUnlock()
		panic(fmt.Sprintf("sftest: outbound message %q: unknown object %s", m.Name, m.Object))
	}
	types := map[string]string{}
	var fields []string
	for _, name := range m.Fields {
		f := od.field(name)
		if f == nil {
			o.mu.RUnlock()
			panic(fmt.Sprintf("sftest: outbound message %q: unknown field %s.%s", m.Name, od.Name, name))
		}
		parts := []*fieldDef{f}
		if f.isCompound() {
			parts = parts[:0]
			for _, c := range f.components {
				parts = append(parts, od.field(c.field))
			}
		}
		for _, p := range parts {
			fields = append(fields, p.Name)
			types[p.Name] = outboundSoapType(p)
		}
	}
	m.Object = od.Name
	o.mu.RUnlock()
	id := s.outq.Define(fakeoutbound.Definition{Name: m.Name, Object: od.Name, Fields: fields,
		FieldSoapTypes: types, EndpointURL: m.EndpointURL, IncludeSessionID: m.IncludeSessionID})
	s.mu.Lock()
	s.outbound[id] = m
	s.mu.Unlock()
	return id
}

// outboundSoapType is a field's type in an outbound message's WSDL: its
// describe soapType, with IDs in the enterprise namespace (ent:ID, as
// SALESFORCE.md 5.3 shows) and the types a WSDL field cannot carry
// (compounds, anyType) as plain strings.
func outboundSoapType(f *fieldDef) string {
	switch t := f.soapType(); t {
	case "tns:ID":
		return "ent:ID"
	case "urn:address", "urn:location", "xsd:anyType":
		return "xsd:string"
	default:
		return t
	}
}

// OutboundWSDL returns the generated WSDL of an outbound message (also
// served at /sftest/outbound/{actionID}/wsdl).
func (s *Server) OutboundWSDL(actionID string) ([]byte, error) {
	b, err := s.outq.WSDL(actionID)
	if err != nil {
		return nil, fmt.Errorf("outbound wsdl: %w", err)
	}
	return b, nil
}

func (s *Server) serveWSDL(w http.ResponseWriter, r *http.Request) {
	b, err := s.outq.WSDL(r.PathValue("actionID"))
	if err != nil {
		http.Error(w, "unknown outbound message", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Write(b)
}

// Deliveries returns the outbound delivery log, oldest first.
func (s *Server) Deliveries() []Delivery {
	ds := s.outq.Deliveries()
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		out[i] = Delivery{ActionID: d.ActionID, NotificationIDs: d.NotificationIDs, RecordIDs: d.RecordIDs,
			Attempt: d.Attempt, Status: d.Status, Acked: d.Acked, Err: d.Err, At: d.At}
	}
	return out
}

// WaitOutbound waits until every queued notification is acknowledged (or
// dropped after 24 hours, which it reports as an error), or ctx ends.
func (s *Server) WaitOutbound(ctx context.Context) error { return s.outq.Wait(ctx) }

// SetOutboundChaos makes delivery send duplicates and reorder messages
// with the given probabilities (0..1).
func (s *Server) SetOutboundChaos(duplicateProb, reorderProb float64) {
	s.outq.SetChaos(duplicateProb, reorderProb)
}

// matchOutbound queues a notification for each definition on the
// object whose criterion the record now meets.
func (s *Server) matchOutbound(object, id string) {
	s.mu.Lock()
	var match []string
	var defs []OutboundMessage
	for aid, m := range s.outbound {
		if m.Object == object {
			match = append(match, aid)
			defs = append(defs, m)
		}
	}
	s.mu.Unlock()
	if len(match) == 0 {
		return
	}
	rec, ok := s.Org.Get(object, id)
	if !ok {
		return
	}
	for i, aid := range match {
		if defs[i].Criteria == nil || defs[i].Criteria(rec) {
			s.outq.Enqueue(aid, id)
		}
	}
}

// sessionForOutbound returns a live access token for definitions that
// send the session id.
func (s *Server) sessionForOutbound() string {
	s.mu.Lock()
	tok := s.outSession
	s.mu.Unlock()
	if tok != "" && s.auth.Validate(tok) {
		return tok
	}
	tok, _ = s.auth.NewSession()
	s.mu.Lock()
	s.outSession = tok
	s.mu.Unlock()
	return tok
}

// snapshot gives a record's current values as an Outbound Message writes
// them (SALESFORCE.md 5.2); false when it no longer exists or is deleted.
func (s *Server) snapshot(object, id string) ([]fakeoutbound.FieldValue, bool) {
	o := s.Org
	o.mu.RLock()
	defer o.mu.RUnlock()
	od := o.byName[strings.ToLower(object)]
	if od == nil {
		return nil, false
	}
	r := od.lookup(id)
	if r == nil || r.deleted {
		return nil, false
	}
	out := make([]fakeoutbound.FieldValue, 0, len(od.Fields))
	for _, f := range od.Fields {
		if f.isCompound() {
			continue
		}
		fv := fakeoutbound.FieldValue{Name: f.Name}
		if v, ok := soapValue(r.get(f, od, o.now)); ok {
			fv.Value = &v
		}
		out = append(out, fv)
	}
	return out, true
}

func soapValue(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case float64:
		return string(appendDouble(nil, x)), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case bool:
		return strconv.FormatBool(x), true
	case time.Time:
		return string(appendDateTime(nil, x, true)), true
	case []byte:
		return base64.StdEncoding.EncodeToString(x), true
	}
	return fmt.Sprint(v), true
}
