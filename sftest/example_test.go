package sftest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sfsync/salesforce-sync/sftest"
)

func ExampleNewServer() {
	s := sftest.NewServer(sftest.Options{RecordsPer: map[string]int{"Account": 3}})
	defer s.Close()
	id, _ := s.Org.Create("Account", map[string]any{"Name": "O'Brien & Co", "Tier__c": "Gold"})
	access, _ := s.NewSession()

	q := `SELECT Id, Name FROM Account WHERE Name = 'O\'Brien & Co'`
	req, _ := http.NewRequest("GET", s.URL+"/services/data/v62.0/query?q="+url.QueryEscape(q), nil)
	req.Header.Set("Authorization", "Bearer "+access)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var page struct {
		TotalSize int
		Records   []struct{ ID, Name string }
	}
	json.NewDecoder(res.Body).Decode(&page)
	fmt.Println(res.StatusCode, res.Header.Get("Sforce-Limit-Info"))
	fmt.Println(page.TotalSize, page.Records[0].ID == id, page.Records[0].Name)
	fmt.Println(s.Org.Count("Account", false), s.Calls()["query"])
	// Output:
	// 200 api-usage=1/1000000
	// 1 true O'Brien & Co
	// 4 1
}
