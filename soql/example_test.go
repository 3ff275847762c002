package soql_test

import (
	"fmt"
	"time"

	"github.com/sfsync/salesforce-sync/soql"
)

func ExampleSelect_Build() {
	q, err := soql.Select{
		Fields: []string{"Id", "Name", "Owner.Name"},
		From:   "Account",
		Where: soql.And(
			soql.Like("Name", soql.HasPrefix("O'Brien 100%")),
			soql.Cmp("SystemModstamp", soql.Gt, soql.DateTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))),
			soql.In("Industry", soql.String("Energy"), soql.String("Media")),
		),
		OrderBy: []soql.Order{{Field: "Name"}},
		Limit:   100,
	}.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q)
	// Output:
	// SELECT Id,Name,Owner.Name FROM Account WHERE (Name LIKE 'O\'Brien 100\%%' AND SystemModstamp > 2026-01-02T03:04:05Z AND Industry IN ('Energy', 'Media')) ORDER BY Name NULLS FIRST,Id LIMIT 100
}
