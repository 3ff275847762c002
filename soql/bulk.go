package soql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/salesforce-sync/rest"
)

// Defaults of BulkOptions.
const (
	DefaultPollInterval    = 500 * time.Millisecond
	DefaultMaxPollInterval = 10 * time.Second
	DefaultMaxRecords      = 50_000
)

// BulkOptions tunes Bulk API 2.0 query jobs.
type BulkOptions struct {
	// PollInterval is the wait before the first status check; each
	// following wait grows by half, up to MaxPollInterval. 0 means
	// DefaultPollInterval.
	PollInterval time.Duration
	// MaxPollInterval caps the wait between status checks; 0 means
	// DefaultMaxPollInterval.
	MaxPollInterval time.Duration
	// MaxRecords is the maxRecords of each results request; 0 means
	// DefaultMaxRecords. Results are streamed, so a large value costs no
	// memory, only fewer, longer requests.
	MaxRecords int
}

// Errors of Bulk jobs; test them with errors.Is.
var (
	// ErrBulkJobFailed: the job ended Failed; the error carries
	// Salesforce's errorMessage.
	ErrBulkJobFailed = errors.New("soql: bulk job failed")
	// ErrBulkJobAborted: the job was aborted (by someone else).
	ErrBulkJobAborted = errors.New("soql: bulk job aborted")
	// ErrBulkUnsupported: Salesforce refused to create the job because
	// Bulk cannot query the object or one of the fields; use REST.
	ErrBulkUnsupported = errors.New("soql: bulk api cannot run this query")
	// ErrBulkIncomplete: the rows received differ from the job's
	// numberRecordsProcessed.
	ErrBulkIncomplete = errors.New("soql: bulk results incomplete")
)

// BulkJob is the job info of a Bulk API 2.0 query job (SALESFORCE.md 4.2;
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_one_job.htm).
type BulkJob struct {
	ID        string `json:"id"`        // the job's 750... Id
	Operation string `json:"operation"` // "query" or "queryAll"
	Object    string `json:"object"`    // the object queried
	// State is UploadComplete, InProgress, JobComplete, Failed or Aborted.
	State string `json:"state"`
	// ErrorMessage is Salesforce's reason when State is Failed.
	ErrorMessage string `json:"errorMessage"`
	// NumberRecordsProcessed is the number of result rows of a complete
	// job; BulkExtract checks the rows it receives against it.
	NumberRecordsProcessed int64   `json:"numberRecordsProcessed"`
	Retries                int     `json:"retries"`             // times Salesforce retried the job
	TotalProcessingTime    int64   `json:"totalProcessingTime"` // milliseconds
	APIVersion             float64 `json:"apiVersion"`          // the version the job was created with
	ColumnDelimiter        string  `json:"columnDelimiter"`     // COMMA, TAB, PIPE, SEMICOLON, CARET or BACKQUOTE
	LineEnding             string  `json:"lineEnding"`          // LF or CRLF
}

// BulkExtract reads every record of e.Object with a Bulk API 2.0 query
// job (SALESFORCE.md 4): it creates the job (query, or queryAll with
// e.All), polls with growing waits until JobComplete, then streams the CSV
// results set by set (Sforce-Locator until "null", maxRecords each).
// Records hold string values, or nil for an empty CSV value; type them
// with metadata.Value. Rows are ordered by Id (the query says ORDER BY Id,
// so a checkpoint in AfterID resumes correctly). When all sets are read,
// the row count is checked against numberRecordsProcessed
// (ErrBulkIncomplete). A canceled context aborts a job still running. A
// job Salesforce refuses to create for the object or its fields gives
// ErrBulkUnsupported. The sequence can be ranged more than once; each
// range runs a new job.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/queries.htm
func (c *Client) BulkExtract(ctx context.Context, e Extract) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		for r, err := range c.bulk(ctx, e) {
			if err != nil {
				yield(nil, fmt.Errorf("bulk extract %s: %w", e.Object, err))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

func (c *Client) bulk(ctx context.Context, e Extract) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		fields, err := e.fields()
		if err != nil {
			yield(nil, err)
			return
		}
		q, err := Select{Fields: fields, From: e.Object, Where: e.where(), OrderBy: []Order{{Field: "Id"}}}.Build()
		if err != nil {
			yield(nil, err)
			return
		}
		job, err := c.CreateBulkJob(ctx, q, e.All)
		if err != nil {
			yield(nil, err)
			return
		}
		job, err = c.WaitBulkJob(ctx, job.ID)
		if err != nil {
			yield(nil, err)
			return
		}
		if job.Object == "" {
			job.Object = e.Object
		}
		got := int64(0)
		for r, err := range c.BulkResults(ctx, job) {
			if err != nil {
				yield(nil, err)
				return
			}
			got++
			if !yield(r, nil) {
				return
			}
		}
		if got != job.NumberRecordsProcessed {
			yield(nil, fmt.Errorf("%w: job %s: received %d rows, numberRecordsProcessed %d",
				ErrBulkIncomplete, job.ID, got, job.NumberRecordsProcessed))
		}
	}
}

// CreateBulkJob creates a query job (POST /jobs/query) for q, with
// operation queryAll when all is set.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_create_job.htm
func (c *Client) CreateBulkJob(ctx context.Context, q string, all bool) (*BulkJob, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	op := "query"
	if all {
		op = "queryAll"
	}
	in := map[string]string{
		"operation": op, "query": q, "contentType": "CSV",
		"columnDelimiter": "COMMA", "lineEnding": "LF",
	}
	var job BulkJob
	if err := c.REST.PostJSON(ctx, "jobs/query", in, &job); err != nil {
		if unsupported(err) {
			return nil, fmt.Errorf("create job: %w: %w", ErrBulkUnsupported, err)
		}
		return nil, fmt.Errorf("create job: %w", err)
	}
	if job.ID == "" {
		return nil, fmt.Errorf("create job: %w: no job id", ErrDecode)
	}
	return &job, nil
}

// unsupported recognises a job Salesforce refuses for its object or
// fields ("Selecting compound data not supported in Bulk Query", "Entity
// ... is not supported by the Bulk API").
func unsupported(err error) bool {
	var re *rest.Error
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest {
		return false
	}
	for _, a := range re.Errors {
		switch a.ErrorCode {
		case "INVALIDENTITY", "FEATURENOTENABLED", "INVALID_TYPE_FOR_OPERATION":
			return true
		}
		m := strings.ToLower(a.Message)
		if strings.Contains(m, "not supported") || strings.Contains(m, "compound") {
			return true
		}
	}
	return false
}

// WaitBulkJob polls a job until it is JobComplete, with waits growing from
// PollInterval to MaxPollInterval. A Failed job gives ErrBulkJobFailed with
// Salesforce's errorMessage, an Aborted one ErrBulkJobAborted. When ctx is
// done first, the job is aborted (with a short detached deadline) and the
// context's error returned.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_one_job.htm and, for the
// abort, https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_abort_job.htm
func (c *Client) WaitBulkJob(ctx context.Context, id string) (*BulkJob, error) {
	wait := c.Bulk.PollInterval
	if wait <= 0 {
		wait = DefaultPollInterval
	}
	maxWait := c.Bulk.MaxPollInterval
	if maxWait <= 0 {
		maxWait = DefaultMaxPollInterval
	}
	path := "jobs/query/" + url.PathEscape(id)
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			c.abort(ctx, id)
			return nil, ctx.Err()
		case <-t.C:
		}
		var job BulkJob
		if err := c.REST.GetJSON(ctx, path, nil, &job); err != nil {
			if ctx.Err() != nil {
				c.abort(ctx, id)
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("job %s status: %w", id, err)
		}
		switch job.State {
		case "JobComplete":
			if job.ID == "" {
				job.ID = id
			}
			return &job, nil
		case "Failed":
			msg := job.ErrorMessage
			if msg == "" {
				msg = "no error message"
			}
			return nil, fmt.Errorf("job %s: %w: %s", id, ErrBulkJobFailed, msg)
		case "Aborted":
			return nil, fmt.Errorf("job %s: %w", id, ErrBulkJobAborted)
		}
		wait = nextPoll(wait, maxWait)
	}
}

// nextPoll is the backoff of WaitBulkJob: each wait is half as long again
// as the one before, up to maxWait.
func nextPoll(wait, maxWait time.Duration) time.Duration {
	return min(wait+wait/2, maxWait)
}

func (c *Client) abort(ctx context.Context, id string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// Best effort: the job also expires on its own.
	_ = c.REST.PatchJSON(actx, "jobs/query/"+url.PathEscape(id), map[string]string{"state": "Aborted"}, nil)
}

// BulkResults streams the CSV results of a completed job, set by set
// (maxRecords each, following the Sforce-Locator header until "null").
// Values are string, or nil for an empty CSV value. Each set's row count
// is checked against its Sforce-NumberOfRecords header.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_job_results.htm
func (c *Client) BulkResults(ctx context.Context, job *BulkJob) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		maxRecords := c.Bulk.MaxRecords
		if maxRecords <= 0 {
			maxRecords = DefaultMaxRecords
		}
		delim, err := delimiter(job.ColumnDelimiter)
		if err != nil {
			yield(nil, err)
			return
		}
		locator := ""
		for set := 1; ; set++ {
			q := url.Values{"maxRecords": {strconv.Itoa(maxRecords)}}
			if locator != "" {
				q.Set("locator", locator)
			}
			req := &rest.Request{Method: http.MethodGet, Path: "jobs/query/" + url.PathEscape(job.ID) + "/results",
				Query: q, Header: http.Header{"Accept": {"text/csv"}}}
			resp, err := c.REST.Do(ctx, req)
			if err != nil {
				yield(nil, fmt.Errorf("job %s results set %d: %w", job.ID, set, err))
				return
			}
			cont, err := c.readSet(resp, delim, job, yield)
			resp.Body.Close()
			if err != nil {
				yield(nil, fmt.Errorf("job %s results set %d: %w", job.ID, set, err))
				return
			}
			if !cont {
				return
			}
			locator = strings.TrimSpace(resp.Header.Get("Sforce-Locator"))
			// The last set says the literal string "null" (SALESFORCE.md 7.10).
			if locator == "" || locator == "null" {
				return
			}
		}
	}
}

// readSet yields the rows of one results response; false means the
// consumer stopped.
func (c *Client) readSet(resp *http.Response, delim byte, job *BulkJob, yield func(*Record, error) bool) (bool, error) {
	cr := newCSVReader(resp.Body, delim, job.Object)
	if err := cr.readHeader(); err != nil {
		if err == io.EOF {
			return true, nil
		}
		return false, err
	}
	n := 0
	for {
		r, err := cr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, err
		}
		n++
		if !yield(r, nil) {
			return false, nil
		}
	}
	if h := resp.Header.Get("Sforce-NumberOfRecords"); h != "" {
		if want, err := strconv.Atoi(h); err == nil && want != n {
			return false, fmt.Errorf("%w: %d rows, Sforce-NumberOfRecords %d", ErrBulkIncomplete, n, want)
		}
	}
	return true, nil
}

func delimiter(name string) (byte, error) {
	switch name {
	case "", "COMMA":
		return ',', nil
	case "TAB":
		return '\t', nil
	case "PIPE":
		return '|', nil
	case "SEMICOLON":
		return ';', nil
	case "CARET":
		return '^', nil
	case "BACKQUOTE":
		return '`', nil
	}
	return 0, fmt.Errorf("%w: unknown column delimiter %q", ErrDecode, name)
}
