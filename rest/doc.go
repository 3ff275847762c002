// Package rest is the transport shared by the Salesforce API clients:
// versioned URLs, JSON decoding, the typed *Error for failed responses,
// Sforce-Limit-Info, and retries with backoff for idempotent calls.
//
// A Client is built from an instance URL and an *http.Client that adds
// the access token (see package oauth):
//
//	c := &rest.Client{InstanceURL: conn.InstanceURL, HTTPClient: hc}
//	var out struct{ TotalSize int }
//	err := c.GetJSON(ctx, "query", url.Values{"q": {"SELECT COUNT() FROM Account"}}, &out)
//
// # Errors
//
// Every failed response becomes an *Error (CheckResponse) that holds the
// status, the method, the URL with its secrets removed and every
// {errorCode, message, fields} Salesforce returned. Branch on its category
// with errors.Is: ErrSessionExpired, ErrRequestLimit, ErrNotFound,
// ErrInvalidQueryLocator, ErrServerUnavailable.
//
// # Limits and retries
//
// The api-usage of Sforce-Limit-Info is read from every response
// (Client.Limits). With LimitReserve set, the Client refuses to start new
// calls (ErrLimitReserve) once that share of the daily limit is used.
// GET, HEAD and requests marked Idempotent are retried under a
// RetryPolicy on 5xx other than 501, on 429 and on connection resets,
// with capped, jittered exponential backoff and Retry-After honoured.
//
// The package never logs.
package rest
