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
// A zero Client is not usable: InstanceURL is required. Every other field
// has a usable zero value: APIVersion "" is DefaultAPIVersion, a nil
// HTTPClient is http.DefaultClient, a nil Retry is DefaultRetryPolicy and
// LimitReserve 0 disables the reserve. A Client must not be copied after
// its first call.
//
// The REST API is described in the [REST API Developer Guide]; the
// resources this package reads itself are the [Versions] list, the
// [Limit Info Header] and the [Status Codes and Error Responses].
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
//
// [REST API Developer Guide]: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_rest.htm
// [Versions]: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_versions.htm
// [Limit Info Header]: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
// [Status Codes and Error Responses]: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
package rest
