package metadata

import (
	"slices"
	"strings"
)

// DefaultStandardObjects are the standard objects DefaultSelection picks
// when the org has them and they are syncable and replicateable: the
// sales, service and activity objects most integrations read.
var DefaultStandardObjects = []string{
	"Account", "Asset", "Campaign", "CampaignMember", "Case", "Contact",
	"Contract", "Event", "Lead", "Opportunity", "OpportunityContactRole",
	"OpportunityLineItem", "Order", "OrderItem", "Pricebook2",
	"PricebookEntry", "Product2", "Quote", "QuoteLineItem", "Task", "User",
}

// Syncable reports whether an object can be extracted and kept in step:
// it is queryable and retrieveable, not deprecatedAndHidden
// (SALESFORCE.md 3.1), and not a kind of object that SOQL extraction does
// not serve (platform events __e and change events, big objects __b,
// external objects __x).
func Syncable(o GlobalSObject) bool {
	if !o.Queryable || !o.Retrieveable || o.DeprecatedAndHidden {
		return false
	}
	for _, suf := range []string{"__e", "__b", "__x", "ChangeEvent"} {
		if strings.HasSuffix(o.Name, suf) {
			return false
		}
	}
	return true
}

// DefaultSelection is the choice a user expects without configuring one:
// every DefaultStandardObjects entry plus every custom object (name ending
// in __c), each Syncable and replicateable (so that incremental sync can
// see its updates and deletes), leaving out custom settings. Share,
// History and Feed objects and custom metadata (__mdt) never qualify since
// they are neither in the list nor end in __c.
func DefaultSelection(o GlobalSObject) bool {
	if !Syncable(o) || !o.Replicateable || o.CustomSetting {
		return false
	}
	if strings.HasSuffix(o.Name, "__c") {
		return true
	}
	return slices.Contains(DefaultStandardObjects, o.Name)
}

// Selection chooses the objects to sync. Names, when set, lists them
// explicitly (matched case-insensitively against describeGlobal, kept in
// the given order; names the org does not have or that are not Syncable
// are left out). Otherwise Match, when set, is the predicate. The zero
// value means DefaultSelection.
type Selection struct {
	Names []string                 // objects by API name, in order
	Match func(GlobalSObject) bool // the predicate when Names is empty
}

// Select returns the API names of the selected objects of g, in the order
// of Names, else in the order of describeGlobal.
func (s Selection) Select(g *Global) []string {
	if g == nil {
		return nil
	}
	var out []string
	if len(s.Names) > 0 {
		for _, n := range s.Names {
			for _, o := range g.SObjects {
				if strings.EqualFold(o.Name, n) && Syncable(o) && !slices.Contains(out, o.Name) {
					out = append(out, o.Name)
					break
				}
			}
		}
		return out
	}
	match := s.Match
	if match == nil {
		match = DefaultSelection
	}
	for _, o := range g.SObjects {
		if match(o) {
			out = append(out, o.Name)
		}
	}
	return out
}
