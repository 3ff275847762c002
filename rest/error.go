package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxErrorBody is how much of a failed response's body CheckResponse reads.
// The rest is discarded, so a huge error page cannot exhaust memory.
const MaxErrorBody = 64 << 10

// maxURLInMessage caps the URL in Error's text (a long SOQL query);
// Error.URL keeps it whole.
const maxURLInMessage = 1000

// maxTextMessage caps the message kept from a body that is not JSON.
const maxTextMessage = 1024

// Categories of failure, tested with errors.Is on an *Error (or on an error
// wrapping one).
var (
	// ErrSessionExpired: HTTP 401 or INVALID_SESSION_ID. The access token
	// expired or was revoked.
	ErrSessionExpired = errors.New("rest: session expired or invalid")
	// ErrRequestLimit: REQUEST_LIMIT_EXCEEDED (HTTP 403) or HTTP 429. The
	// *Error's Limits field holds the usage the response reported.
	ErrRequestLimit = errors.New("rest: request limit exceeded")
	// ErrNotFound: HTTP 404 or NOT_FOUND.
	ErrNotFound = errors.New("rest: not found")
	// ErrInvalidQueryLocator: INVALID_QUERY_LOCATOR, the nextRecordsUrl
	// expired; the query must restart (SALESFORCE.md 7.4).
	ErrInvalidQueryLocator = errors.New("rest: invalid query locator")
	// ErrServerUnavailable: HTTP 502, 503, 504 or SERVER_UNAVAILABLE.
	ErrServerUnavailable = errors.New("rest: server unavailable")
	// ErrLimitReserve: the Client refused to start a call because the daily
	// API usage reached its LimitReserve share. It is not an *Error: no
	// request was sent.
	ErrLimitReserve = errors.New("rest: api usage reached the configured reserve")
)

// Error is a failed Salesforce response: a status other than 2xx or 304.
// URL has its secrets (access tokens, session ids, signatures) removed.
type Error struct {
	StatusCode int
	Method     string
	URL        string
	// Errors holds every {errorCode, message, fields} of the body, in
	// order. A body that is not Salesforce's JSON becomes one APIError
	// whose Message is the (truncated) text.
	Errors []APIError
	// Attempts is how many times the request was sent (1 without retries).
	Attempts int
	// Limits is the Sforce-Limit-Info of the response, if it had one.
	Limits Limits
	// RetryAfter is the response's Retry-After delay, 0 when absent.
	RetryAfter time.Duration
}

// APIError is one entry of Salesforce's error array (SALESFORCE.md 2.3).
type APIError struct {
	ErrorCode string   `json:"errorCode"`
	Message   string   `json:"message"`
	Fields    []string `json:"fields"`
}

// Error formats the status, the request and every Salesforce error.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, truncate(e.URL, maxURLInMessage), e.StatusCode, http.StatusText(e.StatusCode))
	for i, a := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if a.ErrorCode != "" {
			b.WriteString(a.ErrorCode)
			if a.Message != "" {
				b.WriteString(" ")
			}
		}
		b.WriteString(a.Message)
		if len(a.Fields) > 0 {
			fmt.Fprintf(&b, " (fields %s)", strings.Join(a.Fields, ", "))
		}
	}
	if e.Limits.Max > 0 {
		fmt.Fprintf(&b, " (api usage %d/%d)", e.Limits.Used, e.Limits.Max)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return b.String()
}

// HasCode reports whether any of the errors has the given errorCode.
func (e *Error) HasCode(code string) bool {
	for _, a := range e.Errors {
		if a.ErrorCode == code {
			return true
		}
	}
	return false
}

// Is matches the category sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrSessionExpired:
		return e.StatusCode == http.StatusUnauthorized || e.HasCode("INVALID_SESSION_ID")
	case ErrRequestLimit:
		return e.StatusCode == http.StatusTooManyRequests || e.HasCode("REQUEST_LIMIT_EXCEEDED")
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound || e.HasCode("NOT_FOUND")
	case ErrInvalidQueryLocator:
		return e.HasCode("INVALID_QUERY_LOCATOR")
	case ErrServerUnavailable:
		switch e.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return e.HasCode("SERVER_UNAVAILABLE")
	}
	return false
}

// CheckResponse returns nil for a 2xx or 304 response. Otherwise it reads
// at most MaxErrorBody bytes of the body, closes it and returns an *Error.
// It is the one place a failed response becomes an error. The body forms
// are those of [Status Codes and Error Responses].
//
// [Status Codes and Error Responses]: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
func CheckResponse(resp *http.Response) error {
	if resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusNotModified {
		return nil
	}
	e := &Error{StatusCode: resp.StatusCode, Attempts: 1}
	if resp.Request != nil {
		e.Method = resp.Request.Method
		if resp.Request.URL != nil {
			e.URL = RedactURL(resp.Request.URL)
		}
	}
	e.Limits, _ = ParseLimitInfo(resp.Header.Get("Sforce-Limit-Info"))
	e.RetryAfter, _ = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	if resp.Body != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
		io.Copy(io.Discard, io.LimitReader(resp.Body, MaxErrorBody))
		resp.Body.Close()
		e.Errors = DecodeErrors(body)
	}
	return e
}

// DecodeErrors decodes an error body: Salesforce's JSON array of
// {errorCode, message, fields}, a single such object, or an OAuth-style
// {error, error_description}. Anything else (HTML, plain text, truncated
// JSON) becomes one APIError holding the text, trimmed and cut to 1 KiB.
// An empty body gives nil.
func DecodeErrors(body []byte) []APIError {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return nil
	}
	var list []APIError
	if err := json.Unmarshal(body, &list); err == nil {
		return nonEmpty(list)
	}
	var one struct {
		APIError
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &one); err == nil {
		a := one.APIError
		if a.ErrorCode == "" {
			a.ErrorCode = one.Error
		}
		if a.Message == "" {
			a.Message = one.Description
		}
		if a.ErrorCode != "" || a.Message != "" {
			return []APIError{a}
		}
	}
	return []APIError{{Message: truncate(trimmed, maxTextMessage)}}
}

func nonEmpty(list []APIError) []APIError {
	out := list[:0]
	for _, a := range list {
		if a.ErrorCode != "" || a.Message != "" || len(a.Fields) > 0 {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "..."
}

// secretParams are query parameters whose values RedactURL removes.
var secretParams = map[string]bool{
	"access_token": true, "refresh_token": true, "token": true,
	"sid": true, "session_id": true, "sessionid": true, "oauth_token": true,
	"sig": true, "signature": true, "client_secret": true, "code": true,
	"code_verifier": true, "assertion": true, "password": true,
}

// RedactURL returns u as text with user info and the values of secret
// query parameters (access_token, sid, sig, ...) replaced by "REDACTED".
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User("REDACTED")
	}
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = "REDACTED"
		} else {
			changed := false
			for k, vs := range q {
				if secretParams[strings.ToLower(k)] {
					for i := range vs {
						vs[i] = "REDACTED"
					}
					changed = true
				}
			}
			if changed {
				c.RawQuery = q.Encode()
			}
		}
	}
	c.Fragment, c.RawFragment = "", ""
	return c.String()
}
