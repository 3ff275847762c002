package soql_test

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/sfsync/salesforce-sync/rest"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/soql"
)

// exampleOrg starts a fake org holding the given accounts and returns a
// client with a session for it. Against a real org, the HTTP client comes
// from oauth.Manager.Client, which also refreshes the session.
func exampleOrg(names ...string) (*sftest.Server, *soql.Client) {
	org := sftest.NewServer(sftest.Options{})
	for _, n := range names {
		if _, err := org.Org.Create("Account", map[string]any{"Name": n}); err != nil {
			panic(err)
		}
	}
	token, _ := org.NewSession()
	hc := oauth2.NewClient(context.Background(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}))
	c := &soql.Client{
		REST: &rest.Client{InstanceURL: org.URL, HTTPClient: hc},
		Bulk: soql.BulkOptions{PollInterval: 10 * time.Millisecond},
	}
	return org, c
}

// Query streams the records of a statement page by page; a statement made
// by the builder cannot carry an injection, whatever the user typed.
func ExampleClient_Query() {
	org, c := exampleOrg("Acme", "Globex", "O'Brien & Sons", "Initech")
	defer org.Close()
	ctx := context.Background()

	q, err := soql.Select{
		Fields:  []string{"Id", "Name"},
		From:    "Account",
		Where:   soql.Cmp("Name", soql.Ne, soql.String("Globex")),
		OrderBy: []soql.Order{{Field: "Name"}},
	}.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	cu := c.Query(ctx, q)
	for r, err := range cu.Records() {
		if err != nil {
			fmt.Println("query:", err) // errors.Is(err, rest.ErrInvalidQueryLocator) means restart
			return
		}
		name, _ := r.String("Name")
		fmt.Println(r.Type(), name)
	}
	fmt.Println("total", cu.TotalSize())
	// Output:
	// Account Acme
	// Account Initech
	// Account O'Brien & Sons
	// total 3
}

// Extract reads a whole object ordered by Id, splitting a field list too
// long for one URI into several queries; AfterID resumes from a
// checkpoint.
func ExampleClient_Extract() {
	org, c := exampleOrg("Acme", "Globex", "Initech")
	defer org.Close()
	ctx := context.Background()

	n, last := 0, ""
	for r, err := range c.Extract(ctx, soql.Extract{Object: "Account", Fields: []string{"Name", "CreatedDate"}}) {
		if err != nil {
			fmt.Println("extract:", err) // resume with Extract.AfterID = last
			return
		}
		if _, ok, err := r.Time("CreatedDate"); !ok || err != nil {
			fmt.Println("no CreatedDate", err)
		}
		name, _ := r.String("Name")
		fmt.Println(name)
		n, last = n+1, r.ID()
	}
	more, err := soql.Collect(c.Extract(ctx, soql.Extract{Object: "Account", AfterID: last}))
	fmt.Println(n, "records;", len(more), "after the last one", err)
	// Output:
	// Acme
	// Globex
	// Initech
	// 3 records; 0 after the last one <nil>
}

// BulkExtract runs the same read as a Bulk API 2.0 job: values arrive as
// CSV text (nil for empty), to be typed with metadata.Value.
func ExampleClient_BulkExtract() {
	org, c := exampleOrg("Acme", "Globex")
	defer org.Close()

	for r, err := range c.BulkExtract(context.Background(), soql.Extract{Object: "Account", Fields: []string{"Name", "Description"}}) {
		if err != nil {
			fmt.Println("bulk:", err) // errors.Is(err, soql.ErrBulkJobFailed) carries Salesforce's message
			return
		}
		name, _ := r.Get("Name")
		desc, _ := r.Get("Description")
		fmt.Printf("%v %v\n", name, desc)
	}
	// Output:
	// Acme <nil>
	// Globex <nil>
}
