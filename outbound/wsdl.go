package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/beevik/etree"
)

// Namespaces of an outbound message WSDL (SALESFORCE.md 5.3).
const (
	nsWSDL   = "http://schemas.xmlsoap.org/wsdl/"
	nsSchema = "http://www.w3.org/2001/XMLSchema"
)

// ErrNotWSDL is returned by ParseWSDL for a document that is not an
// outbound message WSDL.
var ErrNotWSDL = errors.New("outbound: not an outbound message WSDL")

// Action is what the engine needs to know about one outbound message
// definition: the object it sends and the fields it selected. Salesforce
// leaves a selected field out of a notification when its value is null, so
// with Fields a missing field means null; without them it means unknown.
type Action struct {
	Object string   // API name: "Account", "Invoice__c", "acme__Shipment__c"
	Fields []string // selected fields, Id first, then in WSDL order
}

// Has reports whether the action selects the named field.
func (a Action) Has(field string) bool {
	for _, f := range a.Fields {
		if f == field {
			return true
		}
	}
	return false
}

// ParseWSDL reads the WSDL Salesforce's Setup offers for an outbound
// message ("Click for WSDL"; SALESFORCE.md 5.3) and returns the object the
// message sends and its field list. The WSDL does not name the ActionId:
// the caller keys the result by it (see Actions). Namespaces are matched
// by URI; the same limits as Decode apply.
func ParseWSDL(r io.Reader) (*Action, error) {
	doc, err := readLimitedTree(r)
	if err != nil {
		return nil, err
	}
	defs := doc.Root()
	if defs == nil || !is(defs, nsWSDL, "definitions") {
		return nil, fmt.Errorf("root is not wsdl:definitions: %w", ErrNotWSDL)
	}
	schemas := map[string]*etree.Element{}
	for _, types := range childElements(defs) {
		if !is(types, nsWSDL, "types") {
			continue
		}
		for _, s := range childElements(types) {
			if is(s, nsSchema, "schema") {
				schemas[s.SelectAttrValue("targetNamespace", "")] = s
			}
		}
	}
	out := schemas[NamespaceOutbound]
	obj := schemas[NamespaceSObject]
	if out == nil || obj == nil {
		return nil, fmt.Errorf("no outbound or sObject schema: %w", ErrNotWSDL)
	}

	// notifications/Notification -> tns:XNotification -> sObject -> ens:X
	notifType, err := elementType(findNamed(out, "element", "notifications"), "Notification", NamespaceOutbound)
	if err != nil {
		return nil, err
	}
	object, err := elementType(findNamed(out, "complexType", notifType), "sObject", NamespaceSObject)
	if err != nil {
		return nil, err
	}
	if !validName(object) {
		return nil, fmt.Errorf("object name %q: %w", clip(object), ErrNotWSDL)
	}
	fields, err := objectFields(findNamed(obj, "complexType", object))
	if err != nil {
		return nil, err
	}
	return &Action{Object: object, Fields: fields}, nil
}

func readLimitedTree(r io.Reader) (*etree.Document, error) {
	var d Decoder
	b, err := readLimited(r, d.maxBytes())
	if err != nil {
		return nil, err
	}
	b = trimBOM(b)
	if err := prescan(b, d.maxElements()); err != nil {
		return nil, err
	}
	return d.parseTree(b)
}

// findNamed returns the first descendant of e in the XML Schema namespace
// with the given local name and name attribute.
func findNamed(e *etree.Element, local, name string) *etree.Element {
	if e == nil || name == "" {
		return nil
	}
	for _, c := range childElements(e) {
		if is(c, nsSchema, local) && c.SelectAttrValue("name", "") == name {
			return c
		}
		if f := findNamed(c, local, name); f != nil {
			return f
		}
	}
	return nil
}

// elementType finds the child element declaration called child under
// decl and returns the local part of its type, checking that the type's
// prefix resolves to wantNS.
func elementType(decl *etree.Element, child, wantNS string) (string, error) {
	el := findNamed(decl, "element", child)
	if el == nil {
		return "", fmt.Errorf("no %s element declaration: %w", child, ErrNotWSDL)
	}
	prefix, local, ok := strings.Cut(el.SelectAttrValue("type", ""), ":")
	if !ok {
		prefix, local = "", prefix
	}
	if uri, found := lookupNamespace(el, prefix); !found || uri != wantNS || local == "" {
		return "", fmt.Errorf("%s element has an unexpected type: %w", child, ErrNotWSDL)
	}
	return local, nil
}

// objectFields lists Id and the element declarations of the object's
// complexType (an extension of ens:sObject).
func objectFields(ct *etree.Element) ([]string, error) {
	if ct == nil {
		return nil, fmt.Errorf("no complexType for the object: %w", ErrNotWSDL)
	}
	fields := []string{"Id"}
	seen := map[string]bool{"Id": true}
	var walk func(e *etree.Element) error
	walk = func(e *etree.Element) error {
		for _, c := range childElements(e) {
			if !inNamespace(c, nsSchema) {
				continue
			}
			if c.Tag == "element" {
				name := c.SelectAttrValue("name", "")
				if !validName(name) {
					return fmt.Errorf("field name %q: %w", clip(name), ErrNotWSDL)
				}
				if name != "fieldsToNull" && !seen[name] {
					seen[name] = true
					fields = append(fields, name)
				}
				continue
			}
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(ct); err != nil {
		return nil, err
	}
	return fields, nil
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// Actions maps ActionIds to their definitions, for the handler's Verify
// and the engine's handling of absent fields. Build it from ParseWSDL
// results or by hand:
//
//	acts := outbound.Actions{}
//	acts.Add("04k5g000000TOUIAA4", outbound.Action{Object: "Account",
//		Fields: []string{"Id", "Name", "SystemModstamp", "Tier__c"}})
//
// Keys are compared with SameID, so a 15-character ActionId finds its
// 18-character key. An Actions map is not safe for concurrent writes.
type Actions map[string]Action

// Add records the action under actionID, normalised to 18 characters when
// it is a valid ID. Fields gain Id when they lack it.
func (as Actions) Add(actionID string, a Action) {
	if n, err := NormalizeID(actionID); err == nil {
		actionID = n
	}
	if !a.Has("Id") {
		a.Fields = append([]string{"Id"}, a.Fields...)
	}
	as[actionID] = a
}

// AddWSDL parses an outbound message WSDL and records it under actionID.
func (as Actions) AddWSDL(actionID string, r io.Reader) (Action, error) {
	a, err := ParseWSDL(r)
	if err != nil {
		return Action{}, fmt.Errorf("action %s: %w", clip(actionID), err)
	}
	as.Add(actionID, *a)
	return *a, nil
}

// Lookup returns the action for actionID, in its 15- or 18-character form.
func (as Actions) Lookup(actionID string) (Action, bool) {
	if a, ok := as[actionID]; ok {
		return a, true
	}
	if n, err := NormalizeID(actionID); err == nil {
		if a, ok := as[n]; ok {
			return a, true
		}
	}
	for id, a := range as {
		if SameID(id, actionID) {
			return a, true
		}
	}
	return Action{}, false
}

// IDs returns the ActionIds, sorted.
func (as Actions) IDs() []string {
	ids := make([]string, 0, len(as))
	for id := range as {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// StaticVerify returns a Verify function for Handler that accepts a
// message only from one of orgIDs (15- or 18-character forms, compared
// with SameID) and, when actions is not nil, only for a known ActionId
// whose object matches the notifications' type. It returns ErrUnknownOrg
// or ErrUnknownAction (wrapped), which the handler answers with a 403
// fault. Engines that keep connections in a store write their own Verify.
func StaticVerify(orgIDs []string, actions Actions) func(ctx context.Context, m *Message) error {
	orgs := append([]string(nil), orgIDs...)
	return func(_ context.Context, m *Message) error {
		known := false
		for _, o := range orgs {
			if SameID(o, m.OrganizationID) {
				known = true
				break
			}
		}
		if !known {
			return fmt.Errorf("organization %s: %w", clip(m.OrganizationID), ErrUnknownOrg)
		}
		if actions == nil {
			return nil
		}
		a, ok := actions.Lookup(m.ActionID)
		if !ok {
			return fmt.Errorf("action %s: %w", clip(m.ActionID), ErrUnknownAction)
		}
		for _, n := range m.Notifications {
			if n.SObject.Type != a.Object {
				return fmt.Errorf("action %s sends %s, not %s: %w",
					m.ActionID, a.Object, n.SObject.Type, ErrUnknownAction)
			}
		}
		return nil
	}
}
