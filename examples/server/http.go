package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/store"
)

// maxSyncBody caps the body of POST /salesforce-sync.
const maxSyncBody = 64 << 10

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /connect", a.mgr.ConnectHandler())
	mux.Handle("GET /callback", a.mgr.CallbackHandler())
	mux.HandleFunc("POST /salesforce-sync", a.startSync)
	mux.HandleFunc("GET /salesforce-sync/{id}", a.getJob)
	webhook := a.requireClientCert(a.webhook)
	if a.cfg.webhookToken != "" {
		mux.Handle("/webhook/{token}", webhook)
	} else {
		mux.Handle("/webhook", webhook)
	}
	mux.HandleFunc("GET /{$}", a.statusPage)
	mux.HandleFunc("GET /api/status", a.statusJSON)
	mux.HandleFunc("GET /healthz", a.healthz)
	return a.logRequests(mux)
}

// requireClientCert refuses webhook calls without a verified client
// certificate when mutual TLS is configured.
func (a *app) requireClientCert(h http.Handler) http.Handler {
	if a.cfg.clientCA == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "client certificate required", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

type ctxKey struct{}

// requestID returns the request's ID (set by logRequests).
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// logRequests gives each request an ID (X-Request-Id, taken from the
// request when it has a sane one) and logs one line per request: method,
// path without the query (the callback's carries the code), status,
// size and duration. No header or body is logged.
func (a *app) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), ctxKey{}, id)))
		path := r.URL.Path
		if a.cfg.webhookToken != "" && strings.HasPrefix(path, "/webhook/") {
			path = "/webhook/[token]"
		}
		lvl := slog.LevelInfo
		if r.URL.Path == "/healthz" {
			lvl = slog.LevelDebug
		}
		if rec.status >= 500 {
			lvl = slog.LevelWarn
		}
		ctx := context.WithValue(r.Context(), ctxKey{}, id)
		a.log.Log(ctx, lvl, "request", "method", r.Method, "path", path,
			"status", rec.status, "bytes", rec.bytes, "took", time.Since(start).Round(time.Microsecond))
	})
}

func saneID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// syncRequest is the body of POST /salesforce-sync.
type syncRequest struct {
	OrgID   string   `json:"orgId"`
	Objects []string `json:"objects"`
	Mode    string   `json:"mode"`
}

// startSync handles POST /salesforce-sync: a JSON body (or an HTML
// form from the status page), answered 202 with the job.
func (a *app) startSync(w http.ResponseWriter, r *http.Request) {
	req, form, err := decodeSyncRequest(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	job, err := a.sync.Start(r.Context(), sfsync.Request{OrgID: req.OrgID, Objects: req.Objects, Mode: req.Mode})
	switch {
	case errors.Is(err, sfsync.ErrBadRequest):
		writeError(w, http.StatusBadRequest, trimPrefix(err))
		return
	case errors.Is(err, sfsync.ErrNoOrg):
		status := http.StatusNotFound
		if req.OrgID == "" {
			status = http.StatusBadRequest // "orgId" is needed: not exactly one org
		}
		writeError(w, status, trimPrefix(err))
		return
	case errors.Is(err, sfsync.ErrBusy) && job != nil:
		if form {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		writeJSON(w, http.StatusConflict, map[string]any{"error": "a sync of this org is already running", "job": jobView(job)})
		return
	case errors.Is(err, sfsync.ErrBusy):
		// Another start of the org is under way, or another instance
		// holds the org's lease and has not saved its job yet (a
		// moment's window), or its job record is unreadable.
		if form {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		writeError(w, http.StatusConflict, "a sync of this org is already running or starting, here or on another instance")
		return
	case err != nil:
		a.log.WarnContext(r.Context(), "start sync", "err", err)
		writeError(w, http.StatusInternalServerError, "could not start the sync")
		return
	}
	if form {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	v := jobView(job)
	w.Header().Set("Location", v.URL)
	writeJSON(w, http.StatusAccepted, v)
}

func decodeSyncRequest(r *http.Request) (syncRequest, bool, error) {
	var req syncRequest
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxSyncBody))
	if err != nil {
		return req, false, fmt.Errorf("body: larger than %d bytes", maxSyncBody)
	}
	if ct == "application/x-www-form-urlencoded" {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseForm(); err != nil {
			return req, true, fmt.Errorf("form: %v", err)
		}
		req.OrgID, req.Mode = r.PostForm.Get("orgId"), r.PostForm.Get("mode")
		for _, o := range r.PostForm["objects"] {
			if o = strings.TrimSpace(o); o != "" {
				req.Objects = append(req.Objects, o)
			}
		}
		return req, true, nil
	}
	if ct != "" && ct != "application/json" {
		return req, false, fmt.Errorf("content type %q: want application/json", ct)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return req, false, nil // an empty body: defaults
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, false, describeJSONError(err)
	}
	if dec.More() {
		return req, false, errors.New("body: more than one JSON value")
	}
	if req.Mode != "" && req.Mode != sfsync.ModeFull && req.Mode != sfsync.ModeIncremental {
		return req, false, fmt.Errorf("mode: %q is neither \"full\" nor \"incremental\"", req.Mode)
	}
	return req, false, nil
}

// describeJSONError names the field or position of a JSON problem.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("body: want a JSON object {\"orgId\", \"objects\", \"mode\"}, got JSON %s", te.Value)
	case errors.As(err, &te):
		return fmt.Errorf("%s: want %s, got JSON %s", te.Field, te.Type, te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("body: invalid JSON at byte %d: %v", se.Offset, se)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("unknown field %s (want orgId, objects, mode)", strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("body: truncated JSON")
	}
	return fmt.Errorf("body: %v", err)
}

// trimPrefix drops the package prefix of an engine error for users.
func trimPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "sfsync: ")
}

// getJob handles GET /salesforce-sync/{id}.
func (a *app) getJob(w http.ResponseWriter, r *http.Request) {
	job, err := a.sync.Job(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no job "+r.PathValue("id"))
		return
	}
	if err != nil {
		a.log.WarnContext(r.Context(), "read job", "err", err)
		writeError(w, http.StatusInternalServerError, "could not read the job")
		return
	}
	writeJSON(w, http.StatusOK, jobView(job))
}

// jobJSON is the API form of a job.
type jobJSON struct {
	ID         string         `json:"id"`
	URL        string         `json:"url"`
	OrgID      string         `json:"orgId"`
	Mode       string         `json:"mode"`
	State      store.JobState `json:"state"`
	Objects    []string       `json:"objects"`
	Progress   []progressJSON `json:"progress"`
	Error      string         `json:"error,omitempty"`
	CreatedAt  time.Time      `json:"createdAt"`
	StartedAt  *time.Time     `json:"startedAt,omitempty"`
	FinishedAt *time.Time     `json:"finishedAt,omitempty"`
}

type progressJSON struct {
	Object     string     `json:"object"`
	Phase      string     `json:"phase"`
	Done       int64      `json:"done"`
	Total      int64      `json:"total"`
	Deleted    int64      `json:"deleted"`
	Error      string     `json:"error,omitempty"`
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
}

func jobView(j *store.Job) jobJSON {
	v := jobJSON{ID: j.ID, URL: "/salesforce-sync/" + j.ID, OrgID: j.OrgID, Mode: j.Mode, State: j.State,
		Objects: j.Objects, Error: j.Error, CreatedAt: j.CreatedAt,
		StartedAt: timePtr(j.StartedAt), FinishedAt: timePtr(j.FinishedAt), Progress: []progressJSON{}}
	if v.Objects == nil {
		v.Objects = []string{}
	}
	for _, p := range j.Progress {
		v.Progress = append(v.Progress, progressJSON{Object: p.Object, Phase: p.Phase, Done: p.Done,
			Total: p.Total, Deleted: p.Deleted, Error: p.Error,
			StartedAt: timePtr(p.StartedAt), FinishedAt: timePtr(p.FinishedAt)})
	}
	return v
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := a.st.Connections(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "store unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
