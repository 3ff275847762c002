package sftest

import (
	"net/url"
	"sync"
	"testing"
)

// TestConcurrentUse mutates the org while clients page through queries
// and bulk results; run with -race.
func TestConcurrentUse(t *testing.T) {
	s, tok := testServer(t, Options{RecordsPer: map[string]int{"Account": 300, "Contact": 300}})
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		ids, _ := s.Org.Generate("Account", 50)
		for i, id := range ids {
			s.Org.Update("Account", id, map[string]any{"Description": "x"})
			if i%5 == 0 {
				s.Org.Delete("Account", id)
			}
		}
		s.Org.AddField("Account", Field{Name: "Late__c", Type: "string"})
	}()
	for range 2 {
		go func() {
			defer wg.Done()
			hdr := map[string]string{"Sforce-Query-Options": "batchSize=200"}
			r := do(t, s, tok, "GET", "/services/data/v62.0/queryAll?q="+url.QueryEscape("SELECT Id, Name, Owner.Name, BillingAddress FROM Account ORDER BY Name"), hdr, nil)
			for r.status == 200 {
				m := r.json(t).(map[string]any)
				next, ok := m["nextRecordsUrl"].(string)
				if !ok {
					return
				}
				r = do(t, s, tok, "GET", next, hdr, nil)
			}
			t.Errorf("page: %d %s", r.status, r.body)
		}()
	}
	wg.Wait()
}

func TestBuilderQueriesParse(t *testing.T) {
	for _, q := range []string{
		`SELECT Id,Name,Owner.Name FROM Account WHERE (Name LIKE 'O\'Brien 100\%%' AND SystemModstamp > 2026-01-02T03:04:05Z AND Industry IN ('Energy', 'Media')) ORDER BY Name NULLS FIRST,Id LIMIT 100`,
		`SELECT Id FROM Account WHERE Id > '0018c00003H5tBsAAJ' ORDER BY Id LIMIT 2000`,
		`SELECT COUNT() FROM Account WHERE IsDeleted = true`,
		`SELECT Id FROM Account WHERE (NOT Name = 'x') AND SystemModstamp >= 2026-01-02T03:04:05.123Z`,
		`SELECT Id FROM Account WHERE Id = null`,
	} {
		if _, err := parseAndCompile(t, q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}
