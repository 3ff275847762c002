package sfsync

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sfsync/salesforce-sync/metadata"
	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/soql"
	"github.com/sfsync/salesforce-sync/store"
)

// OutboundHandler returns an outbound.Handler that verifies, applies and
// deduplicates messages through s. Set its limits and PathToken as
// needed before serving.
func (s *Syncer) OutboundHandler() *outbound.Handler {
	return &outbound.Handler{Verify: s.Verify, Apply: s.Apply, Applied: s.Applied}
}

// Verify accepts a message whose org is connected (its 15- and
// 18-character IDs are the same org) and, with RequireKnownAction, whose
// action is configured. It returns errors wrapping outbound.ErrUnknownOrg
// or outbound.ErrUnknownAction.
func (s *Syncer) Verify(ctx context.Context, m *outbound.Message) error {
	org, err := oauth.NormalizeOrgID(m.OrganizationID)
	if err != nil {
		return fmt.Errorf("%w: %v", outbound.ErrUnknownOrg, err)
	}
	if _, err := s.cfg.Connections.Connection(ctx, org); err != nil {
		if notConnected(err) {
			return fmt.Errorf("%w: %s is not connected", outbound.ErrUnknownOrg, org)
		}
		return fmt.Errorf("connection %s: %w", org, err)
	}
	if s.cfg.RequireKnownAction {
		if _, ok := s.actionByID(m.ActionID); !ok {
			return fmt.Errorf("%w: %s", outbound.ErrUnknownAction, m.ActionID)
		}
	}
	return nil
}

// Applied reports which notifications of the org were already applied.
func (s *Syncer) Applied(ctx context.Context, orgID string, ids []string) (map[string]bool, error) {
	org, err := oauth.NormalizeOrgID(orgID)
	if err != nil {
		return nil, err
	}
	return s.st.HasReceipts(ctx, org, ids)
}

// Apply stores the records of an Outbound Message. Values are typed by
// the object's describe, and the object's table is created from it when
// missing. A row gets only the delivered fields, plus the action's listed
// fields that the message left out (Salesforce omits null fields), set to
// NULL; the Store's timestamp guard keeps a newer stored row. Where a
// notification has no SystemModstamp or LastModifiedDate, or the
// action's field list is unknown, the records are read again by Id (one
// query per message, through queryAll) and what Salesforce returns is
// stored; a record it reports deleted, or no longer returns at all,
// becomes a tombstone. A value that does not convert to its field's type,
// or that the Store refuses, fails the message (nothing of it is stored,
// and Salesforce delivers it again). Notification IDs are recorded as
// receipts in the same transaction as the rows.
func (s *Syncer) Apply(ctx context.Context, m *outbound.Message) error {
	err := s.apply(ctx, m)
	s.stats.message(m, err)
	return err
}

func (s *Syncer) apply(ctx context.Context, m *outbound.Message) error {
	org, err := oauth.NormalizeOrgID(m.OrganizationID)
	if err != nil {
		return fmt.Errorf("%w: %v", outbound.ErrUnknownOrg, err)
	}
	var order []string
	groups := map[string][]outbound.Notification{}
	for _, n := range m.Notifications {
		t := n.SObject.Type
		if !validName(t) {
			return fmt.Errorf("notification %s: object type %q", n.ID, t)
		}
		if _, ok := groups[t]; !ok {
			order = append(order, t)
		}
		groups[t] = append(groups[t], n)
	}
	for _, t := range order {
		if err := s.applyObject(ctx, org, m.ActionID, t, groups[t]); err != nil {
			return fmt.Errorf("apply %s: %w", t, err)
		}
	}
	return nil
}

// applier applies the notifications of one object of a message.
type applier struct {
	s      *Syncer
	org    string
	object string
	info   *objectInfo
	oc     *orgClients
}

func (s *Syncer) applyObject(ctx context.Context, org, actionID, object string, notes []outbound.Notification) error {
	a := &applier{s: s, org: org, object: object}
	if err := a.load(ctx, notes); err != nil {
		return err
	}
	fields, known := s.actionFields(actionID, object)
	if !known {
		if _, seen := s.unknownActions.LoadOrStore(actionID, true); !seen {
			s.log.InfoContext(ctx, "outbound action has no field list: its records are read again by Id; configure its WSDL or fields to save the API calls",
				"org", org, "action", actionID, "object", object)
		}
	}
	var direct []store.Row
	var again []string
	receipts := make([]string, 0, len(notes))
	for _, n := range notes {
		receipts = append(receipts, n.ID)
		id := n.SObject.ID()
		if id == "" {
			return fmt.Errorf("notification %s has no record Id", n.ID)
		}
		if !known || !hasTimestamp(n.SObject) {
			again = append(again, id)
			continue
		}
		row, err := a.row(n.SObject, fields)
		if err != nil {
			return err
		}
		direct = append(direct, row)
	}
	rows, gone, err := a.reread(ctx, again)
	if err != nil {
		return err
	}
	if len(gone) > 0 {
		// A record read again as deleted or gone wins over a row the
		// same message delivered for it.
		dead := map[string]bool{}
		for _, g := range gone {
			dead[shortID(g.ID)] = true
		}
		direct = slices.DeleteFunc(direct, func(r store.Row) bool { return dead[shortID(r.ID)] })
		if _, err := s.st.Delete(ctx, store.Delete{OrgID: org, Object: a.info.table.Name, Rows: gone}); err != nil {
			return fmt.Errorf("delete rows: %w", err)
		}
	}
	up := store.Upsert{OrgID: org, Object: a.info.table.Name, Rows: newest(append(direct, rows...)), Receipts: receipts}
	// Not s.upsert: a value the Store refuses fails the message (and
	// Salesforce delivers it again) rather than being acknowledged as
	// stored without it.
	if _, err := s.st.Upsert(ctx, up); err != nil {
		return fmt.Errorf("store rows: %w", err)
	}
	s.stats.applied(len(direct), len(again))
	s.log.DebugContext(ctx, "outbound notifications applied", "org", org, "action", actionID, "object", object,
		"direct", len(direct), "reread", len(again))
	return nil
}

// load finds the object's table, describing the object (and creating or
// evolving its table) when it is unknown or a delivered field is not yet
// a column.
func (a *applier) load(ctx context.Context, notes []outbound.Notification) error {
	a.info = a.s.cachedObject(a.org, a.object)
	if a.info == nil {
		if t, err := a.s.st.Table(ctx, a.object); err == nil {
			a.info = &objectInfo{table: t, mapper: newRowMapper(t)}
		}
	}
	if a.info != nil && !a.missingColumn(notes) {
		return nil // the stored table types the values
	}
	return a.describe(ctx)
}

func (a *applier) describe(ctx context.Context) error {
	oc, err := a.s.orgClients(ctx, a.org)
	if err != nil {
		return err
	}
	a.oc = oc
	info, err := a.s.prepare(ctx, oc, a.object)
	if err != nil {
		return err
	}
	a.info = info
	return nil
}

// missingColumn reports a delivered field that the table lacks and that
// the latest describe has not already shown to be no column.
func (a *applier) missingColumn(notes []outbound.Notification) bool {
	for _, n := range notes {
		for _, f := range n.SObject.Fields {
			if _, ok := a.info.mapper.column(f.Name); ok {
				continue
			}
			if a.info.desc != nil {
				if _, inDescribe := a.info.desc.Field(f.Name); inDescribe {
					continue // a field the mapper does not store
				}
			}
			return true
		}
	}
	return false
}

// row builds a row from a notification: the delivered fields, and the
// listed fields it left out as NULL.
func (a *applier) row(o outbound.SObject, listed []string) (store.Row, error) {
	m := a.info.mapper
	row := store.Row{ID: o.ID(), Values: map[string]any{}}
	for _, f := range o.Fields {
		col, ok := m.column(f.Name)
		if !ok {
			continue
		}
		var raw any
		if f.Value != nil {
			raw = *f.Value
		}
		v, err := m.value(row.ID, col, raw)
		if err != nil {
			return store.Row{}, err
		}
		row.Values[col.Name] = v
	}
	for _, name := range listed {
		col, ok := m.column(name)
		if !ok {
			continue
		}
		if _, present, _ := o.Get(name); !present {
			row.Values[col.Name] = nil
		}
	}
	row.Values[store.FieldID] = row.ID
	return row, nil
}

// reread queries the records by Id through queryAll and returns the rows
// that exist, and tombstones for those Salesforce reports deleted (with
// their SystemModstamp) or no longer returns at all: a record queryAll
// cannot see was hard-deleted or purged from the recycle bin, so it can
// never come back, and its tombstone carries no timestamp.
func (a *applier) reread(ctx context.Context, ids []string) ([]store.Row, []store.Tombstone, error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	if a.info.desc == nil || a.oc == nil {
		if err := a.describe(ctx); err != nil {
			return nil, nil, err
		}
	}
	var lits []soql.Literal
	var order []string             // distinct Ids in message order
	asked := map[string]struct{}{} // by 15-character form, until returned
	for _, id := range ids {
		k := shortID(id)
		if _, dup := asked[k]; dup {
			continue
		}
		asked[k] = struct{}{}
		order = append(order, id)
		lits = append(lits, soql.ID(id))
	}
	seq := a.oc.soql.Extract(ctx, soql.Extract{
		Object: a.object,
		Fields: metadata.RESTFields(a.info.desc),
		Where:  soql.In(store.FieldID, lits...),
		All:    true,
	})
	var rows []store.Row
	var gone []store.Tombstone
	for rec, err := range seq {
		if err != nil {
			return nil, nil, fmt.Errorf("read records again: %w", err)
		}
		row, err := a.info.mapper.fromRecord(rec)
		if err != nil {
			return nil, nil, err
		}
		delete(asked, shortID(row.ID))
		if del, _ := row.Values[store.FieldIsDeleted].(bool); del {
			gone = append(gone, store.Tombstone{ID: row.ID, Modstamp: rowTime(row)})
			continue
		}
		rows = append(rows, row)
	}
	for _, id := range order {
		if _, missing := asked[shortID(id)]; missing {
			gone = append(gone, store.Tombstone{ID: id})
		}
	}
	return rows, gone, nil
}

// newest keeps one row per Id, the one with the newest timestamp (the
// later one on a tie), in first-seen order.
func newest(rows []store.Row) []store.Row {
	idx := map[string]int{}
	out := rows[:0:0]
	for _, r := range rows {
		i, ok := idx[r.ID]
		if !ok {
			idx[r.ID] = len(out)
			out = append(out, r)
			continue
		}
		if !rowTime(r).Before(rowTime(out[i])) {
			out[i] = r
		}
	}
	return out
}

func hasTimestamp(o outbound.SObject) bool {
	for _, f := range []string{store.FieldSystemModstamp, store.FieldLastModifiedDate} {
		if _, present, null := o.Get(f); present && !null {
			return true
		}
	}
	return false
}

// actionByID finds a configured action; IDs match on their first 15
// characters, as Salesforce IDs do.
func (s *Syncer) actionByID(id string) (outbound.Action, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, a := range s.actions {
		if sameID(k, id) {
			return a, true
		}
	}
	return outbound.Action{}, false
}

// actionFields returns the field list of an action for an object: the
// action's own list, else the list configured for the object.
func (s *Syncer) actionFields(actionID, object string) ([]string, bool) {
	if a, ok := s.actionByID(actionID); ok && (a.Object == "" || strings.EqualFold(a.Object, object)) {
		return a.Fields, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, f := range s.objFields {
		if strings.EqualFold(k, object) {
			return f, true
		}
	}
	return nil, false
}

// SetAction adds or replaces the field list of an Outbound Message
// action, for example from outbound.ParseWSDL of its downloaded WSDL.
func (s *Syncer) SetAction(actionID string, a outbound.Action) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions[actionID] = outbound.Action{Object: a.Object, Fields: slices.Clone(a.Fields)}
}

// SetObjectFields sets the field list used for messages about object
// whose action has no list of its own.
func (s *Syncer) SetObjectFields(object string, fields []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objFields[object] = slices.Clone(fields)
}

// shortID is the case-sensitive 15-character form of a record Id.
func shortID(id string) string {
	if len(id) > 15 {
		return id[:15]
	}
	return id
}

func sameID(a, b string) bool {
	if len(a) < 15 || len(b) < 15 {
		return a == b
	}
	return a[:15] == b[:15]
}
