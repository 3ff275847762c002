// Package oauth connects Salesforce orgs with OAuth 2.0 and keeps their
// sessions alive: the web-server flow with PKCE behind the /connect and
// /callback handlers, refresh, revoke and the JWT bearer flow, token
// sealing with AES-256-GCM, and an http.Client that refreshes when a call
// fails with INVALID_SESSION_ID.
//
// # Connecting an org
//
// A Manager joins a Config (the connected app), a store.ConnectionStore
// and a Sealer:
//
//	key, _ := oauth.ParseKey("2026-01", os.Getenv("SFSYNC_KEY")) // 32 bytes, base64
//	sealer, _ := oauth.NewSealer(key)
//	m := oauth.NewManager(oauth.Config{ClientID: id, ClientSecret: secret,
//		RedirectURL: "https://app.example.com/callback"}, st, sealer)
//	mux.Handle("GET /connect", m.ConnectHandler())
//	mux.Handle("GET /callback", m.CallbackHandler())
//
// ConnectHandler keeps the state and PKCE verifier of a login in a sealed
// cookie; CallbackHandler checks them, redeems the code, verifies the
// response signature, reads the identity and saves the connection.
//
// # Calling the API
//
// Manager.Client returns an *http.Client for one org, to be used as the
// HTTPClient of a rest.Client. Salesforce never says when an access token
// expires (SALESFORCE.md 7.1), so the client reacts to 401
// INVALID_SESSION_ID: it refreshes once per connection (however many
// requests failed at the same time), persists the new token and replays
// the request. Managers in several processes may share one Store: the
// connection's Version makes one of them refresh and the others adopt the
// stored result, so a rotating refresh token is never spent twice. When
// the refresh token is refused (invalid_grant) the connection is marked
// store.StatusLoginRequired and calls fail with ErrLoginRequired until the
// org is connected again.
//
// # Tokens at rest
//
// Tokens reach the Store only sealed (AES-256-GCM, authenticated with the
// org ID, prefixed by the key ID). To rotate keys, make the new key current
// and pass the old ones to NewSealer: old values still open and every save
// uses the new key. Secret and Key print and log as "[redacted]".
//
// # Zero values
//
// A Manager must be made with NewManager; its zero value is not usable.
// In a Config, the zero value of each field has the meaning its comment
// gives (no LoginURL: production login; no Scopes: DefaultScopes; no
// HTTPClient: http.DefaultClient). A zero Secret is "no token".
//
// # Salesforce documentation
//
// The flows follow [OAuth 2.0 Web Server Flow], [OAuth 2.0 Refresh Token
// Flow], [Revoke OAuth Tokens], [OAuth 2.0 JWT Bearer Flow] and
// [Identity URLs].
//
// The package never logs.
//
// [OAuth 2.0 Web Server Flow]: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm&type=5
// [OAuth 2.0 Refresh Token Flow]: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm&type=5
// [Revoke OAuth Tokens]: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_revoke_token.htm&type=5
// [OAuth 2.0 JWT Bearer Flow]: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5
// [Identity URLs]: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_using_openid.htm&type=5
package oauth
