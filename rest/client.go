package rest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultAPIVersion is the REST API version used when Client.APIVersion is
// empty.
const DefaultAPIVersion = "62.0"

// Client calls one org's REST API. Set the exported fields before the
// first call and do not change them afterwards; a Client is then safe for
// concurrent use. Do not copy a Client after first use.
type Client struct {
	// InstanceURL is the org's instance, such as https://na1.salesforce.com
	// (a trailing slash is ignored). Required.
	InstanceURL string
	// APIVersion such as "62.0" ("v62.0" is accepted too); "" means
	// DefaultAPIVersion. LatestVersion finds the newest the org serves.
	APIVersion string
	// HTTPClient sends the requests; nil means http.DefaultClient. Use the
	// session-keeping client of package oauth to add and refresh tokens.
	HTTPClient *http.Client
	// Retry is the policy for idempotent calls; nil means
	// DefaultRetryPolicy, and &RetryPolicy{} disables retries.
	Retry *RetryPolicy
	// LimitReserve, when above 0, makes the Client refuse to start a call
	// (with ErrLimitReserve) once the last reported daily API usage is at
	// or above this share of the limit: 0.9 keeps the last 10% for other
	// integrations. 0 disables the check.
	LimitReserve float64

	mu     sync.Mutex
	limits Limits
}

// Request is a call for Do. Path is relative to /services/data/vXX.X/
// ("query", "sobjects/Account/describe") or absolute from the instance
// root when it starts with "/" (a nextRecordsUrl such as
// "/services/data/v62.0/query/01g...-2000"). Body, if any, is sent as is;
// set Content-Type in Header (Do defaults it to JSON when Body is set).
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Idempotent allows retries for a method other than GET and HEAD,
	// which are always idempotent.
	Idempotent bool
}

// Limits returns the newest daily API usage the Client has seen in a
// Sforce-Limit-Info header, or the zero Limits before one was seen. See
// [Limit Info Header].
//
// Answers to concurrent calls can arrive out of order, so the newest
// reading is not simply the last to arrive: a reading replaces the stored
// one when its request was sent after the stored reading arrived (so it
// reflects a later state of the org), or when its usage count is at least
// the stored one (usage only grows within the day).
//
// [Limit Info Header]: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
func (c *Client) Limits() Limits {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limits
}

// noteLimits records the Sforce-Limit-Info of a response to a request
// sent at sent (see Limits for which reading is kept).
func (c *Client) noteLimits(h http.Header, sent time.Time) {
	l, err := ParseLimitInfo(h.Get("Sforce-Limit-Info"))
	if err != nil {
		return
	}
	l.At = time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.limits
	if cur.At.IsZero() || sent.After(cur.At) || l.Used >= cur.Used {
		c.limits = l
	}
}

// Version returns the API version in use, without a "v" ("62.0").
func (c *Client) Version() string {
	v := strings.TrimPrefix(c.APIVersion, "v")
	if v == "" {
		return DefaultAPIVersion
	}
	return v
}

// URL returns the absolute URL of a path (see Request) with query added.
func (c *Client) URL(path string, query url.Values) (string, error) {
	base := strings.TrimRight(c.InstanceURL, "/")
	if base == "" {
		return "", errors.New("rest: client has no instance url")
	}
	if strings.Contains(path, "://") {
		return "", fmt.Errorf("rest: path %q must be relative to the instance", path)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/services/data/v" + c.Version() + "/" + path
	}
	u, err := url.Parse(base + path)
	if err != nil {
		return "", fmt.Errorf("rest: bad url: %w", err)
	}
	if len(query) > 0 {
		q := u.Query()
		for k, vs := range query {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

func (c *Client) policy() *RetryPolicy {
	if c.Retry != nil {
		return c.Retry
	}
	return &DefaultRetryPolicy
}

func (c *Client) checkReserve() error {
	if c.LimitReserve <= 0 {
		return nil
	}
	l := c.Limits()
	if l.Max > 0 && l.Share() >= c.LimitReserve {
		return fmt.Errorf("%w: %d of %d daily calls used, reserve starts at %.0f%%",
			ErrLimitReserve, l.Used, l.Max, c.LimitReserve*100)
	}
	return nil
}

// Do sends r, retrying idempotent calls under the Client's RetryPolicy. A
// 2xx or 304 response is returned with its body open (decompressed when
// gzip): the caller closes it. Any other status is returned as an *Error
// (Attempts set) with the body closed. When every attempt failed in
// transport, the error says how many were made and wraps the last cause.
func (c *Client) Do(ctx context.Context, r *Request) (*http.Response, error) {
	if err := c.checkReserve(); err != nil {
		return nil, err
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	u, err := c.URL(r.Path, r.Query)
	if err != nil {
		return nil, err
	}
	idempotent := r.Idempotent || method == http.MethodGet || method == http.MethodHead
	p := c.policy()
	tries := 1
	if idempotent {
		tries = p.attempts()
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.send(ctx, method, u, r)
		wait, retry := time.Duration(0), false
		if err == nil {
			err = CheckResponse(resp)
			if err == nil {
				return resp, nil
			}
			var e *Error
			errors.As(err, &e)
			e.Attempts = attempt
			retry = retryableStatus(e.StatusCode)
			if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && retry {
				if d > p.maxRetryAfter() {
					retry = false
				}
				wait = d
			}
		} else {
			retry = retryableErr(err)
		}
		if !retry || attempt >= tries || ctx.Err() != nil {
			return nil, finalError(method, u, attempt, err)
		}
		if wait == 0 {
			wait = p.delay(attempt)
		}
		if !sleep(ctx, wait) {
			return nil, finalError(method, u, attempt, err)
		}
	}
}

func finalError(method, u string, attempts int, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if attempts > 1 {
		return fmt.Errorf("%s %s: after %d attempts: %w", method, redactString(u), attempts, err)
	}
	return fmt.Errorf("%s %s: %w", method, redactString(u), err)
}

func redactString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "REDACTED"
	}
	return RedactURL(u)
}

// send makes one attempt. Transport errors are stripped of the request
// URL (which may carry secrets) so the caller's message stays clean.
func (c *Client) send(ctx context.Context, method, u string, r *Request) (*http.Response, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("rest: new request: %w", err)
	}
	for k, vs := range r.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if r.Body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("Accept-Encoding", "gzip")
	sent := time.Now()
	resp, err := c.httpClient().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err
		}
		return nil, err
	}
	c.noteLimits(resp.Header, sent)
	if err := gunzip(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// gunzip replaces a gzip-encoded body by its decoded form.
func gunzip(resp *http.Response) error {
	if !strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") {
		return nil
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		if errors.Is(err, io.EOF) { // empty body
			return nil
		}
		return fmt.Errorf("rest: gzip body: %w", err)
	}
	resp.Body = &gzipBody{zr: zr, body: resp.Body}
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
	return nil
}

type gzipBody struct {
	zr   *gzip.Reader
	body io.ReadCloser
}

func (g *gzipBody) Read(p []byte) (int, error) { return g.zr.Read(p) }

func (g *gzipBody) Close() error {
	g.zr.Close()
	return g.body.Close()
}

// GetJSON GETs path with query and decodes the JSON answer into out (nil
// discards it). Numbers decoded into an interface become json.Number.
func (c *Client) GetJSON(ctx context.Context, path string, query url.Values, out any) error {
	return c.doJSON(ctx, &Request{Method: http.MethodGet, Path: path, Query: query}, nil, out)
}

// PostJSON POSTs in as JSON and decodes the answer into out (nil discards
// it). It is not retried.
func (c *Client) PostJSON(ctx context.Context, path string, in, out any) error {
	return c.doJSON(ctx, &Request{Method: http.MethodPost, Path: path}, in, out)
}

// PatchJSON PATCHes path with in as JSON and decodes the answer into out.
// It is not retried.
func (c *Client) PatchJSON(ctx context.Context, path string, in, out any) error {
	return c.doJSON(ctx, &Request{Method: http.MethodPatch, Path: path}, in, out)
}

// Delete sends DELETE to path. Deleting is idempotent, so it is retried.
func (c *Client) Delete(ctx context.Context, path string) error {
	return c.doJSON(ctx, &Request{Method: http.MethodDelete, Path: path, Idempotent: true}, nil, nil)
}

func (c *Client) doJSON(ctx context.Context, r *Request, in, out any) error {
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("rest: encode %s body: %w", r.Method, err)
		}
		r.Body = b
	}
	resp, err := c.Do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("rest: decode %s %s: %w", r.Method, redactString(resp.Request.URL.String()), err)
	}
	return nil
}

// Version is one entry of the org's version list at /services/data/.
type Version struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// Versions lists the API versions the org serves, from the
// [Versions] resource (/services/data/), which does not count against the
// daily limit.
//
// [Versions]: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_versions.htm
func (c *Client) Versions(ctx context.Context) ([]Version, error) {
	var vs []Version
	if err := c.GetJSON(ctx, "/services/data/", nil, &vs); err != nil {
		return nil, fmt.Errorf("list api versions: %w", err)
	}
	return vs, nil
}

// LatestVersion returns the newest API version the org serves, such as
// "62.0". Set it as APIVersion of a Client to use it.
func (c *Client) LatestVersion(ctx context.Context) (string, error) {
	vs, err := c.Versions(ctx)
	if err != nil {
		return "", err
	}
	best := ""
	for _, v := range vs {
		if v.Version != "" && (best == "" || CompareVersions(v.Version, best) > 0) {
			best = v.Version
		}
	}
	if best == "" {
		return "", errors.New("list api versions: the org listed none")
	}
	return best, nil
}

// CompareVersions compares API versions such as "62.0" and "100"
// numerically, part by part; it returns -1, 0 or +1.
func CompareVersions(a, b string) int {
	as := strings.Split(strings.TrimPrefix(a, "v"), ".")
	bs := strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		x, y := part(as, i), part(bs, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func part(s []string, i int) int {
	if i >= len(s) {
		return 0
	}
	n := 0
	for _, r := range s[i] {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int(r-'0')
		if n > 1e6 {
			break
		}
	}
	return n
}
