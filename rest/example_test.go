package rest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/sfsync/salesforce-sync/rest"
)

// fakeOrg serves two REST resources the way Salesforce does, so the
// examples run without an org.
func fakeOrg() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services/data/v62.0/query", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Sforce-Limit-Info", "api-usage=18/15000")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"totalSize":1,"done":true,"records":[{"Id":"001D000000IqhSLIAZ","Name":"Acme"}]}`)
	})
	mux.HandleFunc("GET /services/data/v62.0/sobjects/Account/001D000000IqhSMIAZ", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`)
	})
	return httptest.NewServer(mux)
}

// A query through GetJSON, and the usage the org reported with it.
func ExampleClient_GetJSON() {
	org := fakeOrg()
	defer org.Close()
	// In production, HTTPClient is the session-keeping client of
	// oauth.Manager.Client, which adds and refreshes the access token.
	c := &rest.Client{InstanceURL: org.URL, HTTPClient: org.Client()}

	var page struct {
		TotalSize int `json:"totalSize"`
		Records   []struct{ Id, Name string }
	}
	err := c.GetJSON(context.Background(), "query", url.Values{"q": {"SELECT Id, Name FROM Account"}}, &page)
	if err != nil {
		fmt.Println(err)
		return
	}
	l := c.Limits()
	fmt.Println(page.TotalSize, page.Records[0].Name)
	fmt.Printf("api usage %d/%d (%.1f%%)\n", l.Used, l.Max, 100*l.Share())
	// Output:
	// 1 Acme
	// api usage 18/15000 (0.1%)
}

// A failed call is an *Error; branch on its category with errors.Is.
func ExampleError() {
	org := fakeOrg()
	defer org.Close()
	c := &rest.Client{InstanceURL: org.URL, HTTPClient: org.Client()}

	err := c.GetJSON(context.Background(), "sobjects/Account/001D000000IqhSMIAZ", nil, nil)
	var e *rest.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Errors[0].ErrorCode, errors.Is(err, rest.ErrNotFound))
	}
	// Output: 404 NOT_FOUND true
}
