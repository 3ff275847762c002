package sftest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bulk API 2.0 query jobs (SALESFORCE.md 4).

// DefaultBulkMaxRecords is the result-set size when a results request has
// no maxRecords.
const DefaultBulkMaxRecords = 10_000

type bulkJob struct {
	id, operation, object, version string
	delimiter, lineEnding          string
	created, modstamp              time.Time
	state                          string
	cq                             *compiledQuery
	rows                           []*record
}

var delimiters = map[string]byte{"COMMA": ',', "BACKQUOTE": '`', "CARET": '^', "PIPE": '|', "SEMICOLON": ';', "TAB": '\t'}

func (s *Server) routeBulk(r *http.Request, parts []string) (string, dataHandler) {
	switch {
	case len(parts) == 0 && r.Method == http.MethodPost:
		return "bulk.create", s.bulkCreate
	case len(parts) == 0 && r.Method == http.MethodGet:
		return "bulk.list", s.bulkList
	case len(parts) == 0:
		return "bulk.create", methodNotAllowed("GET,POST")
	case len(parts) == 1:
		id := parts[0]
		switch r.Method {
		case http.MethodGet:
			return "bulk.status", func(w http.ResponseWriter, r *http.Request, v string) { s.bulkStatus(w, r, v, id) }
		case http.MethodPatch:
			return "bulk.abort", func(w http.ResponseWriter, r *http.Request, v string) { s.bulkAbort(w, r, v, id) }
		case http.MethodDelete:
			return "bulk.delete", func(w http.ResponseWriter, r *http.Request, v string) { s.bulkDelete(w, r, v, id) }
		}
		return "bulk.status", methodNotAllowed("GET,PATCH,DELETE")
	case len(parts) == 2 && parts[1] == "results":
		id := parts[0]
		if r.Method != http.MethodGet {
			return "bulk.results", methodNotAllowed("GET")
		}
		return "bulk.results", func(w http.ResponseWriter, r *http.Request, v string) { s.bulkResults(w, r, v, id) }
	}
	return "", nil
}

func (s *Server) bulkCreate(w http.ResponseWriter, r *http.Request, version string) {
	var req struct {
		Operation       string `json:"operation"`
		Query           string `json:"query"`
		ContentType     string `json:"contentType"`
		ColumnDelimiter string `json:"columnDelimiter"`
		LineEnding      string `json:"lineEnding"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected character in the request body")
		return
	}
	req.ContentType = defaultStr(req.ContentType, "CSV")
	req.ColumnDelimiter = defaultStr(req.ColumnDelimiter, "COMMA")
	req.LineEnding = defaultStr(req.LineEnding, "LF")
	switch {
	case req.Operation != "query" && req.Operation != "queryAll":
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Invalid operation: "+req.Operation)
		return
	case req.ContentType != "CSV":
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Invalid content type: "+req.ContentType)
		return
	case delimiters[req.ColumnDelimiter] == 0:
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Invalid column delimiter: "+req.ColumnDelimiter)
		return
	case req.LineEnding != "LF" && req.LineEnding != "CRLF":
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Invalid line ending: "+req.LineEnding)
		return
	}
	o := s.Org
	o.mu.RLock()
	cq, qerr := o.compile(req.Query)
	if qerr == nil {
		qerr = bulkRestrictions(cq)
	}
	if qerr != nil {
		o.mu.RUnlock()
		writeQueryError(w, qerr)
		return
	}
	rows := o.execute(cq, req.Operation == "queryAll")
	now := o.now
	o.mu.RUnlock()

	s.mu.Lock()
	s.jobSeq++
	j := &bulkJob{id: makeID("750", 7_000_000_000+s.jobSeq), operation: req.Operation, object: cq.root.Name,
		version: version, delimiter: req.ColumnDelimiter, lineEnding: req.LineEnding, created: now,
		modstamp: now, state: "UploadComplete", cq: cq, rows: rows}
	s.jobs[j.id] = j
	info := s.jobInfo(j, false)
	s.mu.Unlock()
	b, _ := json.Marshal(info)
	writeJSON(w, http.StatusOK, b)
}

// bulkRestrictions rejects what Bulk API 2.0 cannot select (SALESFORCE.md
// 4.2, 7.11).
func bulkRestrictions(cq *compiledQuery) *queryError {
	switch {
	case cq.compound:
		return &queryError{code: "API_ERROR", msg: "Selecting compound data not supported in Bulk Query"}
	case cq.countOnly || len(cq.aggs) > 0 || len(cq.groupBy) > 0:
		return &queryError{code: "API_ERROR", msg: "Aggregate queries are not supported in Bulk Query"}
	case cq.hasOffset:
		return &queryError{code: "API_ERROR", msg: "OFFSET clause is not supported in Bulk Query"}
	}
	for _, p := range cq.flat {
		if p.leafDef().Type == "base64" {
			return &queryError{code: "API_ERROR", msg: "Binary fields are not supported in Bulk Query: " + p.key}
		}
	}
	return nil
}

func defaultStr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// jobInfo is the job's JSON, in Salesforce's key order; full adds the
// fields of a job-info response (4.2, 4.3). The caller holds s.mu.
func (s *Server) jobInfo(j *bulkJob, full bool) any {
	type created struct {
		ID              string      `json:"id"`
		Operation       string      `json:"operation"`
		Object          string      `json:"object"`
		CreatedByID     string      `json:"createdById"`
		CreatedDate     string      `json:"createdDate"`
		SystemModstamp  string      `json:"systemModstamp"`
		State           string      `json:"state"`
		ConcurrencyMode string      `json:"concurrencyMode"`
		ContentType     string      `json:"contentType"`
		APIVersion      json.Number `json:"apiVersion"`
		JobType         string      `json:"jobType,omitempty"`
		LineEnding      string      `json:"lineEnding"`
		ColumnDelimiter string      `json:"columnDelimiter"`
	}
	c := created{ID: j.id, Operation: j.operation, Object: j.object, CreatedByID: s.Org.UserID(),
		CreatedDate: string(appendDateTime(nil, j.created, false)), SystemModstamp: string(appendDateTime(nil, j.modstamp, false)),
		State: j.state, ConcurrencyMode: "Parallel", ContentType: "CSV", APIVersion: json.Number(j.version),
		LineEnding: j.lineEnding, ColumnDelimiter: j.delimiter}
	if !full {
		return c
	}
	c.JobType = "V2Query"
	n := 0
	if j.state == "JobComplete" {
		n = len(j.rows)
	}
	return struct {
		created
		NumberRecordsProcessed int  `json:"numberRecordsProcessed"`
		Retries                int  `json:"retries"`
		TotalProcessingTime    int  `json:"totalProcessingTime"`
		IsPkChunkingSupported  bool `json:"isPkChunkingSupported"`
	}{c, n, 0, n / 100, true}
}

func (s *Server) job(w http.ResponseWriter, id string) *bulkJob {
	j := s.jobs[id]
	if j == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
	return j
}

// bulkStatus returns the job info; each poll moves a running job one
// state on (UploadComplete, InProgress, JobComplete), so clients meet
// every state.
func (s *Server) bulkStatus(w http.ResponseWriter, r *http.Request, version, id string) {
	now := s.Org.Now()
	s.mu.Lock()
	j := s.job(w, id)
	if j == nil {
		s.mu.Unlock()
		return
	}
	switch j.state {
	case "UploadComplete":
		j.state, j.modstamp = "InProgress", now
	case "InProgress":
		j.state, j.modstamp = "JobComplete", now
	}
	info := s.jobInfo(j, true)
	s.mu.Unlock()
	b, _ := json.Marshal(info)
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) bulkList(w http.ResponseWriter, r *http.Request, version string) {
	s.mu.Lock()
	var recs []any
	for _, j := range s.jobs {
		recs = append(recs, s.jobInfo(j, true))
	}
	s.mu.Unlock()
	if recs == nil {
		recs = []any{}
	}
	b, _ := json.Marshal(map[string]any{"done": true, "records": recs, "nextRecordsUrl": nil})
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) bulkAbort(w http.ResponseWriter, r *http.Request, version, id string) {
	var req struct {
		State string `json:"state"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil || req.State != "Aborted" {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Only the state Aborted can be set on a query job")
		return
	}
	now := s.Org.Now()
	s.mu.Lock()
	j := s.job(w, id)
	if j == nil {
		s.mu.Unlock()
		return
	}
	if j.state == "JobComplete" || j.state == "Failed" || j.state == "Aborted" {
		st := j.state
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Cannot abort a job in state "+st)
		return
	}
	j.state, j.modstamp = "Aborted", now
	info := s.jobInfo(j, false)
	s.mu.Unlock()
	b, _ := json.Marshal(info)
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) bulkDelete(w http.ResponseWriter, r *http.Request, version, id string) {
	s.mu.Lock()
	j := s.job(w, id)
	if j == nil {
		s.mu.Unlock()
		return
	}
	if j.state == "UploadComplete" || j.state == "InProgress" {
		st := j.state
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "Cannot delete a job in state "+st)
		return
	}
	delete(s.jobs, id)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// bulkResults serves one result set as CSV (SALESFORCE.md 4.4).
func (s *Server) bulkResults(w http.ResponseWriter, r *http.Request, version, id string) {
	s.mu.Lock()
	j := s.job(w, id)
	if j == nil {
		s.mu.Unlock()
		return
	}
	state, jobVersion := j.state, j.version
	s.mu.Unlock()
	if state != "JobComplete" {
		writeError(w, http.StatusPreconditionFailed, "JOB_NOT_COMPLETE",
			"can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: "+
				strings.ToUpper(stateWords(state)))
		return
	}
	if jobVersion != version {
		writeError(w, http.StatusConflict, "INVALIDJOB", fmt.Sprintf("The API version of the request (%s) must be the job's API version (%s)", version, jobVersion))
		return
	}
	if acc := r.Header.Get("Accept"); acc != "" && !strings.Contains(acc, "text/csv") && !strings.Contains(acc, "*/*") {
		writeError(w, http.StatusNotAcceptable, "INVALIDJOB", "Only text/csv is supported for query results")
		return
	}
	start := 0
	if loc := r.URL.Query().Get("locator"); loc != "" {
		raw, err := base64.RawStdEncoding.DecodeString(loc)
		n, err2 := strconv.Atoi(string(raw))
		if err != nil || err2 != nil || n < 0 || n > len(j.rows) {
			writeError(w, http.StatusBadRequest, "INVALIDJOB", "Invalid locator: "+loc)
			return
		}
		start = n
	}
	size := DefaultBulkMaxRecords
	if m := r.URL.Query().Get("maxRecords"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "INVALIDJOB", "maxRecords must be a positive integer")
			return
		}
		size = n
	}
	end := min(len(j.rows), start+size)
	locator := "null"
	if end < len(j.rows) {
		locator = base64.RawStdEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	b := s.bulkCSV(j, start, end)
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Sforce-NumberOfRecords", strconv.Itoa(end-start))
	w.Header().Set("Sforce-Locator", locator)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func stateWords(s string) string {
	switch s {
	case "InProgress":
		return "in_progress"
	case "UploadComplete":
		return "upload_complete"
	}
	return s
}

// bulkCSV renders rows [start, end): a header of API names (dotted for
// parents) in SELECT order, every value double-quoted, null as "".
func (s *Server) bulkCSV(j *bulkJob, start, end int) []byte {
	delim := delimiters[j.delimiter]
	eol := "\n"
	if j.lineEnding == "CRLF" {
		eol = "\r\n"
	}
	var b []byte
	for i, p := range j.cq.flat {
		if i > 0 {
			b = append(b, delim)
		}
		b = appendCSV(b, p.key)
	}
	b = append(b, eol...)
	o := s.Org
	o.mu.RLock()
	defer o.mu.RUnlock()
	ec := &evalCtx{o: o, now: o.now}
	for _, r := range j.rows[start:end] {
		for i, p := range j.cq.flat {
			if i > 0 {
				b = append(b, delim)
			}
			b = appendCSV(b, csvValue(ec.value(j.cq.root, r, p)))
		}
		b = append(b, eol...)
	}
	return b
}

func csvValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return string(appendDouble(nil, x))
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return string(appendDateTime(nil, x, true))
	}
	return fmt.Sprint(v)
}

func appendCSV(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
