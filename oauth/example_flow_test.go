package oauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/rest"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store/memory"
)

// The whole flow against a fake org (sftest): a browser opens /connect,
// the user allows access, /callback saves the connection, and the
// session-keeping client calls the API, refreshing the access token
// transparently once it has expired.
func Example() {
	ctx := context.Background()
	sf := sftest.NewServer(sftest.Options{Records: 3})
	defer sf.Close()

	// The web app: a Manager and its two handlers.
	key, _ := oauth.GenerateKey("2026-01") // in production: oauth.ParseKey(id, base64 from configuration)
	sealer, _ := oauth.NewSealer(key)
	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()
	m := oauth.NewManager(oauth.Config{
		ClientID:     sf.ClientID(),
		ClientSecret: sf.ClientSecret(),
		RedirectURL:  app.URL + "/callback",
		LoginURL:     sf.URL, // "" means https://login.salesforce.com
	}, memory.New(), sealer)
	mux.Handle("GET /connect", m.ConnectHandler())
	mux.Handle("GET /callback", m.CallbackHandler())
	m.OnConnect(func(ctx context.Context, c *oauth.Connection) {
		// Return quickly: start a first sync in a goroutine of its own.
		fmt.Println("connected", c.Username, "token", c.AccessToken)
	})

	// A browser that keeps cookies and shows each redirect.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := browser.Get(app.URL + "/connect")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	callback, err := sf.Authorize(resp.Header.Get("Location")) // the user logs in and clicks Allow
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err = browser.Get(callback)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("callback answered", resp.StatusCode)

	// Any later call: the session-keeping client under a rest.Client.
	conns, _ := m.Connections(ctx)
	hc, err := m.Client(ctx, conns[0].OrgID)
	if err != nil {
		fmt.Println(err)
		return
	}
	rc := &rest.Client{InstanceURL: conns[0].InstanceURL, HTTPClient: hc}
	sf.ExpireAccessTokens() // Salesforce ends sessions without notice
	var out struct {
		TotalSize int `json:"totalSize"`
	}
	err = rc.GetJSON(ctx, "query", url.Values{"q": {"SELECT COUNT() FROM Account"}}, &out)
	fmt.Println("accounts", out.TotalSize, err)
	fmt.Println("token requests", sf.Calls()["token"]) // the code exchange and one refresh
	// Output:
	// connected admin@sftest.example token [redacted]
	// callback answered 200
	// accounts 3 <nil>
	// token requests 2
}
