package metadata_test

import (
	"encoding/json"
	"fmt"

	"github.com/sfsync/salesforce-sync/metadata"
)

// Value types a raw value from either API by the describe: REST sends
// numbers as JSON, Bulk as CSV text, and both give the same exact store
// value.
func ExampleValue() {
	amount := metadata.Field{Name: "Amount__c", Type: "currency", Precision: 18, Scale: 2}
	stamp := metadata.Field{Name: "SystemModstamp", Type: "datetime"}
	amountCol, _ := metadata.Column(amount)
	stampCol, _ := metadata.Column(stamp)

	for _, raw := range []any{json.Number("12345678901234567.89"), "12345678901234567.89", nil} {
		v, err := metadata.Value(amountCol, raw)
		fmt.Printf("%s %#v %v\n", amountCol.Type, v, err)
	}
	for _, raw := range []string{"2026-01-02T03:04:05.000+0000", "2026-01-02T03:04:05.000Z"} {
		v, _ := metadata.Value(stampCol, raw)
		fmt.Println(stampCol.Type, v)
	}
	// Output:
	// numeric "12345678901234567.89" <nil>
	// numeric "12345678901234567.89" <nil>
	// numeric <nil> <nil>
	// datetime 2026-01-02 03:04:05 +0000 UTC
	// datetime 2026-01-02 03:04:05 +0000 UTC
}

// The zero Selection picks the common standard objects and every custom
// object that can be synced; Names or Match override it.
func ExampleSelection_Select() {
	g := &metadata.Global{SObjects: []metadata.GlobalSObject{
		{Name: "Account", Queryable: true, Retrieveable: true, Replicateable: true},
		{Name: "AccountHistory", Queryable: true, Retrieveable: true, Replicateable: true},
		{Name: "Invoice__c", Custom: true, Queryable: true, Retrieveable: true, Replicateable: true},
		{Name: "Settings__c", Custom: true, CustomSetting: true, Queryable: true, Retrieveable: true, Replicateable: true},
		{Name: "Order_Event__e", Custom: true, Queryable: true, Retrieveable: true},
	}}
	fmt.Println(metadata.Selection{}.Select(g))
	fmt.Println(metadata.Selection{Names: []string{"invoice__c", "AccountHistory", "Missing__c"}}.Select(g))
	// Output:
	// [Account Invoice__c]
	// [Invoice__c AccountHistory]
}
