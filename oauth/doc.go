// Package oauth connects Salesforce orgs with OAuth 2.0 and keeps their
// sessions alive: the web-server flow with PKCE behind the /connect and
// /callback handlers, refresh, revoke and the JWT bearer flow, token
// sealing with AES-256-GCM, and an http.Client that refreshes when a call
// fails with INVALID_SESSION_ID.
package oauth
