package outbound_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/sftest"
)

// store is a minimal engine: rows by (org, record Id) and receipts by
// notification Id, changed together under one lock as a transaction.
type store struct {
	mu       sync.Mutex
	rows     map[string]map[string]*string
	receipts map[string]bool
	applied  map[string]int // notification id -> times applied
	sessions int
	failNext int // Apply calls to fail before succeeding
}

func newStore() *store {
	return &store{rows: map[string]map[string]*string{}, receipts: map[string]bool{}, applied: map[string]int{}}
}

func (s *store) Apply(_ context.Context, m *outbound.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return errors.New("database is locked")
	}
	if m.SessionID != nil {
		s.sessions++
	}
	for _, n := range m.Notifications {
		row := map[string]*string{}
		for _, f := range n.SObject.Fields {
			row[f.Name] = f.Value
		}
		s.rows[m.OrganizationID+"/"+n.SObject.ID()] = row
		s.receipts[n.ID] = true
		s.applied[n.ID]++
	}
	return nil
}

func (s *store) Applied(_ context.Context, _ string, ids []string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = s.receipts[id]
	}
	return out, nil
}

func (s *store) value(org, id, field string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.rows[org+"/"+id][field]
	if v == nil {
		return "", false
	}
	return *v, true
}

// TestEndToEnd lets the fake org deliver Outbound Messages to the handler
// over HTTP: the action's field list comes from its WSDL, acks reach the
// fake, a failing Apply is retried until it succeeds, and duplicates are
// not applied twice.
func TestEndToEnd(t *testing.T) {
	sf := sftest.NewServer(sftest.Options{OutboundTimeScale: 0.001})
	defer sf.Close()

	st := newStore()
	acts := outbound.Actions{}
	h := &outbound.Handler{
		Verify:    outbound.StaticVerify([]string{sf.Org.ID()}, acts),
		Apply:     st.Apply,
		Applied:   st.Applied,
		PathToken: "e2e-token-0123456789abcdef",
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	actionID := sf.AddOutboundMessage(sftest.OutboundMessage{
		Name: "AccountSync", Object: "Account", Fields: []string{"Id", "Name", "Tier__c", "SystemModstamp"},
		EndpointURL: srv.URL + "/webhook/e2e-token-0123456789abcdef", IncludeSessionID: true,
	})
	wsdl, err := sf.OutboundWSDL(actionID)
	if err != nil {
		t.Fatal(err)
	}
	action, err := acts.AddWSDL(actionID, bytes.NewReader(wsdl))
	if err != nil {
		t.Fatalf("parse the fake's WSDL: %v", err)
	}
	if action.Object != "Account" || !action.Has("Name") || !action.Has("Tier__c") || !action.Has("SystemModstamp") {
		t.Fatalf("action from WSDL = %+v", action)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Phase 1: plain deliveries.
	id1, err := sf.Org.Create("Account", map[string]any{"Name": "Acme", "Tier__c": "Gold"})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := sf.Org.Create("Account", map[string]any{"Name": "Globex"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sf.WaitOutbound(ctx); err != nil {
		t.Fatalf("wait: %v; deliveries %+v", err, sf.Deliveries())
	}
	org, _ := outbound.NormalizeID(sf.Org.ID())
	if v, _ := st.value(org, id1, "Name"); v != "Acme" {
		t.Errorf("Acme stored as %q", v)
	}
	if v, ok := st.value(org, id2, "Tier__c"); ok {
		t.Errorf("Globex Tier__c = %q, want null or absent", v)
	}

	// Phase 2: Apply fails twice; Salesforce retries until the ack.
	st.mu.Lock()
	st.failNext = 2
	st.mu.Unlock()
	if err := sf.Org.Update("Account", id1, map[string]any{"Name": "Acme Corp"}); err != nil {
		t.Fatal(err)
	}
	if err := sf.WaitOutbound(ctx); err != nil {
		t.Fatalf("wait after failures: %v", err)
	}
	if v, _ := st.value(org, id1, "Name"); v != "Acme Corp" {
		t.Errorf("after retries Name = %q", v)
	}

	// Phase 3: duplicates and reordering.
	sf.SetOutboundChaos(0.7, 0.5)
	for i := 0; i < 5; i++ {
		if _, err := sf.Org.Create("Account", map[string]any{"Name": "Chaos"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sf.WaitOutbound(ctx); err != nil {
		t.Fatalf("wait with chaos: %v", err)
	}

	ds := sf.Deliveries()
	var acked, failed, ackedIDs int
	for _, d := range ds {
		if d.Acked {
			ackedIDs += len(d.NotificationIDs)
		}
		if d.ActionID != actionID {
			t.Errorf("delivery for action %s", d.ActionID)
		}
		switch {
		case d.Acked && d.Status == 200:
			acked++
		case !d.Acked && d.Status == 500:
			failed++
		default:
			t.Errorf("unexpected delivery %+v", d)
		}
	}
	t.Logf("%d deliveries: %d acked, %d failed", len(ds), acked, failed)
	if acked == 0 || failed != 2 {
		t.Errorf("deliveries: %d acked, %d failed (want 2): %+v", acked, failed, ds)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	t.Logf("%d notification ids acknowledged, %d applied", ackedIDs, len(st.applied))
	if ackedIDs <= len(st.applied) {
		t.Errorf("no duplicate delivered: %d acked ids, %d applied", ackedIDs, len(st.applied))
	}
	for id, n := range st.applied {
		if n != 1 {
			t.Errorf("notification %s applied %d times", id, n)
		}
	}
	if len(st.applied) < 8 || st.sessions == 0 {
		t.Errorf("applied %d notifications, %d with a session id", len(st.applied), st.sessions)
	}
}
