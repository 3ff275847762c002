package outbound

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Errors a Verify function returns (wrapped) to refuse a message; the
// handler answers them with a 403 fault. Any other Verify error is taken
// as temporary (a 500 fault), so Salesforce retries.
var (
	ErrUnknownOrg    = errors.New("outbound: organization not connected")
	ErrUnknownAction = errors.New("outbound: unknown outbound action")
)

// Handler defaults.
const (
	// DefaultMaxBodyBytes caps a request body; see DefaultMaxBytes for
	// the sizing.
	DefaultMaxBodyBytes = DefaultMaxBytes
	// DefaultTimeout bounds Verify, Applied and Apply together, well
	// inside the 60 seconds Salesforce waits for an answer
	// (SALESFORCE.md 5.5).
	DefaultTimeout = 45 * time.Second
)

// Handler receives Outbound Messages over HTTP and acknowledges a message
// only once its notifications are applied, so none is lost: every failure
// is answered with a SOAP fault and Salesforce retries for up to 24 hours.
//
// For each request, in order:
//
//   - PathToken set and the last path segment differs: 404, no body.
//   - Method other than POST: 405 fault.
//   - Content-Type not text/xml, application/xml or application/soap+xml
//     (charset, if given, UTF-8), or a Content-Encoding: 415 fault.
//     application/json is the JSON form when SigningSecret is set.
//   - Body over MaxBodyBytes: 413 fault.
//   - JSON form without a valid signature (SignatureHeader): 401.
//   - Body that does not decode (Decode, DecodeJSON): 400 fault.
//   - Verify returns ErrUnknownOrg or ErrUnknownAction: 403 fault,
//     nothing applied; any other Verify error: 500 fault.
//   - Applied reports the notifications already applied (by Id); they are
//     acknowledged without being applied again. If all are, the message
//     is acknowledged without calling Apply.
//   - Apply gets the message with only the new notifications; an error, a
//     panic or the deadline passing gives a 500 fault, nil the 200 ack.
//
// Before Verify, a valid 15-character OrganizationId is normalised to its
// 18-character form (NormalizeID), so Verify, Applied and Apply always see
// one form. A Handler must not be changed while it serves; it is safe for
// concurrent requests.
//
// Security: checking OrganizationId in Verify is the main defence against
// spoofed messages (SALESFORCE.md 5.6). PathToken adds a shared secret to
// the endpoint URL; MutualTLSConfig makes a server demand Salesforce's
// client certificate.
type Handler struct {
	// Verify accepts or refuses a message before anything is applied. It
	// must check that OrganizationID is a connected org and should check
	// that ActionID is known. nil means misconfigured: every message gets
	// a 500 fault (so Salesforce keeps it queued) rather than being
	// accepted unchecked. StaticVerify builds one from fixed lists.
	Verify func(ctx context.Context, m *Message) error

	// Apply stores the notifications. It must record their receipts (the
	// notification Ids that Applied reports) in the same transaction as
	// the rows, and must honour ctx. nil means misconfigured (500 fault).
	Apply func(ctx context.Context, m *Message) error

	// Applied reports which notification ids of orgID were applied
	// before. nil means none: duplicates reach Apply, which must then be
	// idempotent.
	Applied func(ctx context.Context, orgID string, ids []string) (map[string]bool, error)

	// MaxBodyBytes caps the request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Timeout bounds Verify, Applied and Apply; 0 means DefaultTimeout.
	Timeout time.Duration

	// PathToken, when set, must equal the last segment of the request
	// path (configure the endpoint as https://host/webhook/<token>);
	// other requests get a bare 404, so probes learn nothing. Use a long
	// random value (32 bytes, hex or base64url).
	PathToken string

	// SigningSecret, when set, enables the JSON form for custom webhooks
	// (a Flow HTTP callout or Apex posting Message's JSON shape with
	// Content-Type application/json), authenticated by SignatureHeader.
	// nil means JSON requests get a 415.
	SigningSecret []byte

	// Decoder sets the structural limits of decoding; its MaxBytes is
	// ignored in favour of MaxBodyBytes.
	Decoder Decoder

	// OnError, when set, is told of every request answered with an error
	// status, with the reason, for logging and metrics. It runs before the
	// response is written and must be quick.
	OnError func(ctx context.Context, status int, err error)
}

// PanicError is the error OnError receives when Verify, Applied or Apply
// panicked.
type PanicError struct {
	Value any
	Stack []byte
}

// Error gives the panic value; the stack is in Stack.
func (e *PanicError) Error() string { return fmt.Sprintf("outbound: panic: %v", e.Value) }

var (
	errNotConfigured = errors.New("outbound: handler has no Verify or Apply")
	errMethod        = errors.New("outbound: method not allowed")
	errMediaType     = errors.New("outbound: unsupported media type")
)

// ServeHTTP implements http.Handler; see Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.PathToken != "" && !tokenMatches(r.URL.Path, h.PathToken) {
		http.NotFound(w, r)
		return
	}
	isJSON := h.SigningSecret != nil && mediaType(r) == "application/json"
	reply := responder{w: w, json: isJSON}
	ctx := r.Context()

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(ctx, reply, http.StatusMethodNotAllowed, errMethod)
		return
	}
	if err := checkContentType(r, isJSON); err != nil {
		h.fail(ctx, reply, http.StatusUnsupportedMediaType, err)
		return
	}
	body, status, err := h.readBody(w, r)
	if err != nil {
		h.fail(ctx, reply, status, err)
		return
	}

	var m *Message
	if isJSON {
		if err := CheckSignature(h.SigningSecret, body, r.Header.Get(SignatureHeader)); err != nil {
			h.fail(ctx, reply, http.StatusUnauthorized, err)
			return
		}
		m, err = h.decoder().DecodeJSON(bytes.NewReader(body))
	} else {
		m, err = h.decoder().decodeBytes(body)
	}
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		h.fail(ctx, reply, status, fmt.Errorf("decode: %w", err))
		return
	}

	ctx, cancel := context.WithTimeout(ctx, h.timeout())
	defer cancel()
	if status, err := h.process(ctx, m); err != nil {
		h.fail(ctx, reply, status, err)
		return
	}
	reply.ack()
}

// process runs Verify, Applied and Apply, turning a panic into a 500.
func (h *Handler) process(ctx context.Context, m *Message) (status int, err error) {
	defer func() {
		if p := recover(); p != nil {
			status, err = http.StatusInternalServerError, &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	if h.Verify == nil || h.Apply == nil {
		return http.StatusInternalServerError, errNotConfigured
	}
	if n, err := NormalizeID(m.OrganizationID); err == nil {
		m.OrganizationID = n
	}
	if err := h.Verify(ctx, m); err != nil {
		if errors.Is(err, ErrUnknownOrg) || errors.Is(err, ErrUnknownAction) {
			return http.StatusForbidden, fmt.Errorf("verify: %w", err)
		}
		return http.StatusInternalServerError, fmt.Errorf("verify: %w", err)
	}
	fresh, err := h.fresh(ctx, m)
	if err != nil {
		return http.StatusInternalServerError, fmt.Errorf("applied: %w", err)
	}
	if len(fresh.Notifications) == 0 {
		return http.StatusOK, nil
	}
	if err := h.Apply(ctx, fresh); err != nil {
		return http.StatusInternalServerError, fmt.Errorf("apply: %w", err)
	}
	return http.StatusOK, nil
}

// fresh returns m without the notifications applied before and without
// repeats of an Id within the message (the first one is kept).
func (h *Handler) fresh(ctx context.Context, m *Message) (*Message, error) {
	ids := make([]string, 0, len(m.Notifications))
	first := make(map[string]bool, len(m.Notifications))
	for _, n := range m.Notifications {
		if !first[n.ID] {
			first[n.ID] = true
			ids = append(ids, n.ID)
		}
	}
	var done map[string]bool
	if h.Applied != nil && len(ids) > 0 {
		var err error
		if done, err = h.Applied(ctx, m.OrganizationID, ids); err != nil {
			return nil, err
		}
	}
	if len(done) == 0 && len(ids) == len(m.Notifications) {
		return m, nil
	}
	keep := make([]Notification, 0, len(ids))
	for _, n := range m.Notifications {
		if first[n.ID] && !done[n.ID] {
			keep = append(keep, n)
		}
		first[n.ID] = false
	}
	c := *m
	c.Notifications = keep
	return &c, nil
}

func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	max := h.maxBody()
	if r.ContentLength > max {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("content length %d over %d: %w", r.ContentLength, max, ErrTooLarge)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // no regrowth at EOF
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes: %w", max, ErrTooLarge)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	return buf.Bytes(), 0, nil
}

func (h *Handler) fail(ctx context.Context, reply responder, status int, err error) {
	if h.OnError != nil {
		h.OnError(ctx, status, err)
	}
	reply.fail(status, err)
}

func (h *Handler) decoder() Decoder {
	d := h.Decoder
	d.MaxBytes = h.maxBody()
	return d
}

func (h *Handler) maxBody() int64 {
	if h.MaxBodyBytes > 0 {
		return h.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

func (h *Handler) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return DefaultTimeout
}

// responder writes SOAP or, for the JSON form, JSON answers.
type responder struct {
	w    http.ResponseWriter
	json bool
}

func (rp responder) ack() {
	if !rp.json {
		WriteAck(rp.w)
		return
	}
	writeJSON(rp.w, http.StatusOK, `{"ack":true}`)
}

func (rp responder) fail(status int, err error) {
	if !rp.json {
		WriteFault(rp.w, status, err)
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"ack":false,"error":`)
	writeJSONString(&b, FaultString(status, err))
	b.WriteString("}")
	writeJSON(rp.w, status, b.String())
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// checkContentType accepts the XML media types (or JSON for the JSON
// form) in UTF-8, without a Content-Encoding.
func checkContentType(r *http.Request, isJSON bool) error {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return fmt.Errorf("content encoding %q: %w", clip(ce), errMediaType)
	}
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", clip(ct), errMediaType)
	}
	switch mt {
	case "text/xml", "application/xml", "application/soap+xml":
	case "application/json":
		if !isJSON {
			return fmt.Errorf("json without a signing secret: %w", errMediaType)
		}
	default:
		return fmt.Errorf("content type %q: %w", clip(mt), errMediaType)
	}
	if cs, ok := params["charset"]; ok {
		switch strings.ToLower(cs) {
		case "utf-8", "utf8", "us-ascii":
		default:
			return fmt.Errorf("charset %q: %w", clip(cs), errMediaType)
		}
	}
	return nil
}

// tokenMatches compares the last path segment with token in constant time.
func tokenMatches(path, token string) bool {
	path = strings.TrimSuffix(path, "/")
	seg := path[strings.LastIndexByte(path, '/')+1:]
	return subtle.ConstantTimeCompare([]byte(seg), []byte(token)) == 1
}
