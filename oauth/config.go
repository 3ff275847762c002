package oauth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
)

// DefaultLoginURL is the production login host, used when Config.LoginURL
// is empty. Sandboxes log in at SandboxLoginURL.
const (
	DefaultLoginURL = "https://login.salesforce.com"
	SandboxLoginURL = "https://test.salesforce.com"
)

// DefaultScopes are requested when Config.Scopes is empty: REST API access
// and a refresh token.
var DefaultScopes = []string{"api", "refresh_token"}

// Config is a Salesforce connected app (or external client app).
type Config struct {
	// ClientID is the consumer key. Required.
	ClientID string
	// ClientSecret is the consumer secret. It authenticates the code and
	// refresh grants and verifies the token response signature
	// (SALESFORCE.md 1.5). Empty means a public client: no secret is sent
	// and signatures cannot be checked.
	ClientSecret string
	// RedirectURL is the absolute URL of the callback handler; it must
	// equal a Callback URL of the app. Required for the web-server flow.
	// When it is https, the login cookie is Secure.
	RedirectURL string
	// Scopes requested at login; nil or empty means DefaultScopes
	// ("api refresh_token").
	Scopes []string
	// LoginURL is the login host: DefaultLoginURL when empty,
	// SandboxLoginURL for sandboxes, a My Domain URL, or any URL serving
	// /services/oauth2/* (such as an sftest server).
	LoginURL string
	// HTTPClient sends token, identity and revoke requests and is the base
	// of the session-keeping clients (its Transport and Timeout); nil
	// means http.DefaultClient.
	HTTPClient *http.Client
}

func (c *Config) scopes() []string {
	if len(c.Scopes) == 0 {
		return DefaultScopes
	}
	return c.Scopes
}

func (c *Config) loginURL() string {
	if c.LoginURL == "" {
		return DefaultLoginURL
	}
	return strings.TrimRight(c.LoginURL, "/")
}

func (c *Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

// oauth2Config is the x/oauth2 view of c for one login host.
func (c *Config) oauth2Config(loginURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		RedirectURL:  c.RedirectURL,
		Scopes:       c.scopes(),
		Endpoint: oauth2.Endpoint{
			AuthURL:   loginURL + "/services/oauth2/authorize",
			TokenURL:  loginURL + "/services/oauth2/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func (c *Config) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.httpClient())
}

// String describes c with the client secret replaced by "[redacted]", so
// a Config can be printed or logged whole.
func (c Config) String() string {
	sec := ""
	if c.ClientSecret != "" {
		sec = redacted
	}
	return fmt.Sprintf("oauth.Config{ClientID:%s, ClientSecret:%s, RedirectURL:%s, Scopes:%v, LoginURL:%s}",
		c.ClientID, sec, c.RedirectURL, c.Scopes, c.LoginURL)
}

// GoString is String, so %#v hides the client secret too.
func (c Config) GoString() string { return c.String() }

// Format writes String for every verb.
func (c Config) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue logs c without the client secret.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
