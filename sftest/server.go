package sftest

import (
	"context"
	"crypto/rsa"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/sftest/internal/fakeauth"
	"github.com/sfsync/salesforce-sync/sftest/internal/fakeoutbound"
)

// Options configures a fake org. The zero value is a usable empty org.
type Options struct {
	// Seed makes generated data deterministic; 0 means 1.
	Seed int64
	// Records is the number of records generated per object at start; 0
	// generates none (the admin user always exists).
	Records int
	// RecordsPer overrides Records for the objects it names.
	RecordsPer map[string]int
	// ClientID and ClientSecret are the connected app's credentials; ""
	// means "sftest-client-id" and "sftest-client-secret".
	ClientID, ClientSecret string
	// RedirectURIs are the allowed callback URLs; empty allows any
	// http://127.0.0.1 or http://localhost URL.
	RedirectURIs []string
	// Username and Password are the user's login; "" means
	// "admin@sftest.example" and "sftest-password".
	Username, Password string
	// RotateRefreshTokens makes every refresh issue a new refresh token and
	// invalidate the old one.
	RotateRefreshTokens bool
	// SessionTimeout is the access-token lifetime on the fake clock; 0
	// means 2 hours.
	SessionTimeout time.Duration
	// DailyAPILimit is the 24-hour API request limit; 0 means 1,000,000.
	DailyAPILimit int
	// LocatorTTL is how long, on the fake clock, a query locator stays
	// valid after its last use; 0 means 15 minutes.
	LocatorTTL time.Duration
	// OutboundTimeScale scales outbound retry delays; 0 means 1 (real
	// time), 0.001 makes them 1000 times shorter.
	OutboundTimeScale float64
	// OutboundTimeout is how long, in real time and not scaled by
	// OutboundTimeScale, one outbound delivery waits for its
	// acknowledgement before the attempt counts as failed and is
	// retried; 0 means 60 seconds, as Salesforce (SALESFORCE.md 5.5).
	OutboundTimeout time.Duration
	// Start is the fake clock's initial time; zero means DefaultStart
	// (2026-01-01T00:00:00Z).
	Start time.Time
	// Addr is the listen address; "" means 127.0.0.1:0 (a free port).
	Addr string
}

// The API versions /services/data/ lists: v20.0 (Winter '11) to v64.0.
const (
	minVersion = 20
	maxVersion = 64
)

// Server is a fake Salesforce org served over HTTP on a loopback port,
// like httptest.Server. Its URL is both the login URL and the instance
// URL. It is safe for concurrent use.
type Server struct {
	// URL is http://127.0.0.1:port, with no trailing slash.
	URL string
	// Org is the org's data, for tests to seed, read and mutate.
	Org *Org

	opts     Options
	auth     *fakeauth.Server
	outq     *fakeoutbound.Queue
	http     *http.Server
	listener net.Listener

	mu         sync.Mutex
	calls      map[string]int
	apiCalls   int
	apiUsed    int
	failLeft   int
	failStatus int
	failCode   string
	latency    time.Duration
	cursors    map[string]*cursor
	cursorSeq  uint64
	jobs       map[string]*bulkJob
	jobSeq     uint64
	outbound   map[string]OutboundMessage
	outSession string
}

// NewServer starts a fake org. It panics if it cannot listen, as
// httptest.NewServer does; Close stops it.
func NewServer(opts Options) *Server {
	s, err := Start(opts)
	if err != nil {
		panic(fmt.Sprintf("sftest: %v", err))
	}
	return s
}

// Start is NewServer returning an error instead of panicking (for
// examples/fakeorg and its -addr flag).
func Start(opts Options) (*Server, error) {
	opts = withDefaults(opts)
	s := &Server{opts: opts, calls: map[string]int{}, cursors: map[string]*cursor{},
		jobs: map[string]*bulkJob{}, outbound: map[string]OutboundMessage{}}
	s.Org = newOrg(opts.Seed, opts.Start)
	if err := s.Org.Update("User", s.Org.UserID(), map[string]any{"Username": opts.Username}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s.listener = ln
	s.URL = "http://" + ln.Addr().String()

	s.auth = fakeauth.New(fakeauth.Config{
		ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, RedirectURIs: opts.RedirectURIs,
		Username: opts.Username, Password: opts.Password, OrgID: s.Org.ID(), UserID: s.Org.UserID(),
		FirstName: "Ada", LastName: "Admin", Email: "admin@sftest.example",
		RotateRefreshTokens: opts.RotateRefreshTokens, SessionTimeout: opts.SessionTimeout,
		Now: s.Org.Now, BaseURL: func() string { return s.URL }, Count: s.count,
	})
	s.outq = fakeoutbound.New(fakeoutbound.Config{
		OrgID:         s.Org.ID(),
		EnterpriseURL: func() string { return s.URL + "/services/Soap/c/62.0/" + s.Org.ID()[:15] },
		PartnerURL:    func() string { return s.URL + "/services/Soap/u/62.0/" + s.Org.ID()[:15] },
		SessionID:     s.sessionForOutbound,
		Snapshot:      s.snapshot,
		TimeScale:     opts.OutboundTimeScale,
		Timeout:       opts.OutboundTimeout,
	})
	s.Org.onChange(s.matchOutbound)
	if err := s.seed(opts); err != nil {
		ln.Close()
		s.outq.Close()
		return nil, err
	}

	mux := http.NewServeMux()
	s.auth.Register(mux)
	mux.HandleFunc("/services/data/", s.serveData)
	mux.HandleFunc("/services/data", s.serveData)
	mux.HandleFunc("GET /sftest/outbound/{actionID}/wsdl", s.serveWSDL)
	s.http = &http.Server{Handler: s.withLatency(mux), ReadHeaderTimeout: 30 * time.Second, MaxHeaderBytes: 1 << 20}
	go s.http.Serve(ln)
	return s, nil
}

func withDefaults(o Options) Options {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.ClientID == "" {
		o.ClientID = "sftest-client-id"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "sftest-client-secret"
	}
	if o.Username == "" {
		o.Username = "admin@sftest.example"
	}
	if o.Password == "" {
		o.Password = "sftest-password"
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 2 * time.Hour
	}
	if o.DailyAPILimit <= 0 {
		o.DailyAPILimit = 1_000_000
	}
	if o.LocatorTTL <= 0 {
		o.LocatorTTL = 15 * time.Minute
	}
	if o.OutboundTimeScale <= 0 {
		o.OutboundTimeScale = 1
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	return o
}

// seedOrder generates parents before children so references resolve.
var seedOrder = []string{"User", "Account", "Contact", "Opportunity", "Lead", "Case", "Invoice__c", "acme__Shipment__c", "Task"}

func (s *Server) seed(opts Options) error {
	for _, name := range seedOrder {
		n := opts.Records
		if v, ok := opts.RecordsPer[name]; ok {
			n = v
		}
		if n <= 0 {
			continue
		}
		if _, err := s.Org.Generate(name, n); err != nil {
			return fmt.Errorf("seed %s: %w", name, err)
		}
	}
	return nil
}

// Close stops the server and the outbound delivery.
func (s *Server) Close() {
	s.outq.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		s.http.Close()
	}
}

// ClientID returns the connected app's consumer key.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the connected app's consumer secret.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// Username returns the user's login name.
func (s *Server) Username() string { return s.opts.Username }

// Password returns the user's password.
func (s *Server) Password() string { return s.opts.Password }

// NewSession issues an access and a refresh token as after a login, for
// tools that skip the login pages.
func (s *Server) NewSession() (accessToken, refreshToken string) { return s.auth.NewSession() }

// Authorize approves an authorization request without a browser: given
// the full authorize URL a client redirected to, it returns the callback
// URL with code and state (test-only).
func (s *Server) Authorize(authorizeURL string) (callbackURL string, err error) {
	return s.auth.Authorize(authorizeURL)
}

// JWTPrivateKey returns the key whose certificate the connected app has
// registered for the JWT bearer flow.
func (s *Server) JWTPrivateKey() *rsa.PrivateKey { return s.auth.JWTPrivateKey() }

// ExpireAccessTokens makes every issued access token invalid now.
func (s *Server) ExpireAccessTokens() { s.auth.ExpireAccessTokens() }

// RevokeRefreshToken revokes a refresh token and its access tokens.
func (s *Server) RevokeRefreshToken(token string) { s.auth.RevokeRefreshToken(token) }

// FailNext makes the next n calls under /services/data fail with status
// and errorCode (for example 503, "SERVER_UNAVAILABLE").
func (s *Server) FailNext(n, status int, errorCode string) {
	s.mu.Lock()
	s.failLeft, s.failStatus, s.failCode = n, status, errorCode
	s.mu.Unlock()
}

// SetLatency delays every request by d (real time).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// SetAPIUsage sets the daily API usage counter reported in
// Sforce-Limit-Info; at the limit calls fail with REQUEST_LIMIT_EXCEEDED.
func (s *Server) SetAPIUsage(used int) {
	s.mu.Lock()
	s.apiUsed = max(0, used)
	s.mu.Unlock()
}

// ExhaustAPILimit sets the usage to the daily limit.
func (s *Server) ExhaustAPILimit() { s.SetAPIUsage(s.opts.DailyAPILimit) }

// ExpireLocators invalidates every open query locator: the next page
// request gets INVALID_QUERY_LOCATOR.
func (s *Server) ExpireLocators() {
	s.mu.Lock()
	clear(s.cursors)
	s.mu.Unlock()
}

// Calls returns the requests served per endpoint since the last
// ResetCalls, failed ones included. Keys: versions, query, queryMore,
// queryAll, describeGlobal, describe, sobject, updated, deleted, limits,
// bulk.create, bulk.list, bulk.status, bulk.results, bulk.abort,
// bulk.delete, token, identity, userinfo, revoke, authorize.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// APICalls returns the calls counted against the daily API limit since
// the last ResetCalls.
func (s *Server) APICalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiCalls
}

// ResetCalls zeroes Calls and APICalls (not the daily usage).
func (s *Server) ResetCalls() {
	s.mu.Lock()
	clear(s.calls)
	s.apiCalls = 0
	s.mu.Unlock()
}

func (s *Server) count(endpoint string) {
	s.mu.Lock()
	s.calls[endpoint]++
	s.mu.Unlock()
}

// apiError is one element of Salesforce's REST error array.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// writeError writes the REST error array (SALESFORCE.md 2.3).
func writeError(w http.ResponseWriter, status int, code, msg string) {
	b := append([]byte(`[{"message":`), nil...)
	b = appendString(b, msg)
	b = append(b, `,"errorCode":`...)
	b = appendString(b, code)
	b = append(b, "}]"...)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func writeQueryError(w http.ResponseWriter, err *queryError) {
	writeError(w, http.StatusBadRequest, err.code, err.msg)
}

func writeJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// maxRequestBytes is the limit on URI plus headers (SALESFORCE.md 2.4).
const maxRequestBytes = 16384

func requestSize(r *http.Request) (uri, total int) {
	uri = len(r.RequestURI)
	total = uri + len(r.Method) + len(" HTTP/1.1\r\n") + len("Host: \r\n") + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			total += len(k) + 2 + len(v) + 2
		}
	}
	return uri, total
}

// serveData is the entry of /services/data: request size, latency,
// version, authentication, injected failures and the daily limit, then
// the resource.
func (s *Server) serveData(w http.ResponseWriter, r *http.Request) {
	if uri, total := requestSize(r); uri > maxRequestBytes {
		http.Error(w, "URI Too Long", http.StatusRequestURITooLong)
		return
	} else if total > maxRequestBytes {
		http.Error(w, "Request Header Fields Too Large", http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/services/data"), "/")
	if rest == "" {
		s.count("versions")
		if s.injectedFailure(w) {
			return
		}
		s.serveVersions(w, r)
		return
	}
	version, rest, _ := strings.Cut(rest, "/")
	v, ok := parseVersion(version)
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	endpoint, handler := s.route(r, rest)
	if handler == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	s.count(endpoint)
	if !s.auth.Validate(bearer(r)) {
		writeError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	if s.injectedFailure(w) {
		return
	}
	s.mu.Lock()
	if s.apiUsed >= s.opts.DailyAPILimit {
		used := s.apiUsed
		s.mu.Unlock()
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, s.opts.DailyAPILimit))
		writeError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return
	}
	s.apiUsed++
	s.apiCalls++
	used := s.apiUsed
	s.mu.Unlock()
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, s.opts.DailyAPILimit))
	handler(w, r, v)
}

// withLatency delays every request (API, OAuth and WSDL) by SetLatency's
// duration, and dates every response with the org's clock.
func (s *Server) withLatency(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		lat := s.latency
		s.mu.Unlock()
		if lat > 0 {
			t := time.NewTimer(lat)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		// Salesforce's Date header is Salesforce's clock; here that is the
		// org's fake clock, so a client that reads "now" from it (as a sync
		// engine must, never trusting its own clock) agrees with the
		// timestamps the org writes.
		w.Header().Set("Date", s.Org.Now().UTC().Format(http.TimeFormat))
		h.ServeHTTP(w, r)
	})
}

func (s *Server) injectedFailure(w http.ResponseWriter) bool {
	s.mu.Lock()
	if s.failLeft <= 0 {
		s.mu.Unlock()
		return false
	}
	s.failLeft--
	status, code := s.failStatus, s.failCode
	s.mu.Unlock()
	msg := "injected failure"
	if code == "SERVER_UNAVAILABLE" {
		msg = "Server temporarily unavailable"
	}
	writeError(w, status, code, msg)
	return true
}

// bearer extracts the access token from "Bearer x" or the older "OAuth x".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "OAuth "} {
		if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
			return strings.TrimSpace(h[len(p):])
		}
	}
	return ""
}

// parseVersion accepts "v62.0" for the versions the org lists.
func parseVersion(s string) (string, bool) {
	num, ok := strings.CutPrefix(s, "v")
	if !ok {
		return "", false
	}
	major, minor, ok := strings.Cut(num, ".")
	n, err := strconv.Atoi(major)
	if !ok || minor != "0" || err != nil || n < minVersion || n > maxVersion {
		return "", false
	}
	return num, true
}

type dataHandler func(w http.ResponseWriter, r *http.Request, version string)

// route maps a path below /services/data/vNN.N/ to its endpoint key and
// handler; nil for an unknown resource.
func (s *Server) route(r *http.Request, rest string) (string, dataHandler) {
	rest = strings.TrimSuffix(rest, "/")
	parts := strings.Split(rest, "/")
	get := func(key string, h dataHandler) (string, dataHandler) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return key, methodNotAllowed("GET,HEAD")
		}
		return key, h
	}
	switch {
	case (parts[0] == "query" || parts[0] == "queryAll") && len(parts) == 1:
		all := parts[0] == "queryAll"
		return get(parts[0], func(w http.ResponseWriter, r *http.Request, v string) { s.serveQuery(w, r, v, all) })
	case (parts[0] == "query" || parts[0] == "queryAll") && len(parts) == 2:
		loc := parts[1]
		return get("queryMore", func(w http.ResponseWriter, r *http.Request, v string) { s.serveQueryMore(w, r, v, loc) })
	case parts[0] == "sobjects" && len(parts) == 1:
		return get("describeGlobal", s.serveDescribeGlobal)
	case parts[0] == "sobjects" && len(parts) == 2:
		obj := parts[1]
		return get("sobject", func(w http.ResponseWriter, r *http.Request, v string) { s.serveSObjectInfo(w, r, v, obj) })
	case parts[0] == "sobjects" && len(parts) == 3 && parts[2] == "describe":
		obj := parts[1]
		return get("describe", func(w http.ResponseWriter, r *http.Request, v string) { s.serveDescribe(w, r, v, obj) })
	case parts[0] == "sobjects" && len(parts) == 3 && (parts[2] == "updated" || parts[2] == "deleted"):
		obj, kind := parts[1], parts[2]
		return get(kind, func(w http.ResponseWriter, r *http.Request, v string) { s.serveReplication(w, r, v, obj, kind) })
	case parts[0] == "sobjects" && (len(parts) == 3 || len(parts) == 4):
		obj, id, field := parts[1], parts[2], ""
		if len(parts) == 4 {
			field = parts[3]
		}
		return get("sobject", func(w http.ResponseWriter, r *http.Request, v string) { s.serveRecord(w, r, v, obj, id, field) })
	case parts[0] == "limits" && len(parts) == 1:
		return get("limits", s.serveLimits)
	case parts[0] == "jobs" && len(parts) >= 2 && parts[1] == "query":
		return s.routeBulk(r, parts[2:])
	}
	return "", nil
}

func methodNotAllowed(allowed string) dataHandler {
	return func(w http.ResponseWriter, r *http.Request, _ string) {
		w.Header().Set("Allow", allowed)
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
			fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", r.Method, allowed))
	}
}

var releaseNames = []string{"Winter", "Spring", "Summer"}

// serveVersions lists the API versions (SALESFORCE.md 2.1); it needs no
// session and carries no Sforce-Limit-Info.
func (s *Server) serveVersions(w http.ResponseWriter, r *http.Request) {
	b := []byte{'['}
	for v := minVersion; v <= maxVersion; v++ {
		if v > minVersion {
			b = append(b, ',')
		}
		// v20.0 was Winter '11; three releases a year.
		k := v - minVersion
		year := 11 + k/3
		label := fmt.Sprintf("%s '%02d", releaseNames[k%3], year)
		b = append(b, `{"label":`...)
		b = appendString(b, label)
		b = append(b, fmt.Sprintf(`,"url":"/services/data/v%d.0","version":"%d.0"}`, v, v)...)
	}
	b = append(b, ']')
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) serveLimits(w http.ResponseWriter, r *http.Request, _ string) {
	s.mu.Lock()
	used, max := s.apiUsed, s.opts.DailyAPILimit
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, fmt.Appendf(nil, `{"DailyApiRequests":{"Max":%d,"Remaining":%d},"DailyBulkV2QueryJobs":{"Max":10000,"Remaining":10000}}`, max, max-used))
}
