package soql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sfsync/salesforce-sync/rest"
)

// Defaults of Client.
const (
	DefaultBatchSize = 2000
	// DefaultMaxURILength is the longest query URI (path and query string,
	// after percent-encoding) Extract sends before it splits the field
	// list. Salesforce allows 16,384 bytes of URI plus headers
	// (SALESFORCE.md 2.4); this leaves 4 KiB for the headers, a long
	// OAuth token included.
	DefaultMaxURILength = 12_288
)

// Client runs SOQL through the REST API and Bulk API 2.0. Set its fields
// before the first call; it is then safe for concurrent use.
type Client struct {
	// REST is the transport; it must be set.
	REST *rest.Client
	// BatchSize asks Salesforce for pages of this many records
	// (Sforce-Query-Options: batchSize, 200 to 2000); 0 means 2000. It is a
	// hint: pages may be smaller (SALESFORCE.md 2.1).
	BatchSize int
	// MaxURILength is the longest query URI Extract sends; 0 means
	// DefaultMaxURILength.
	MaxURILength int
	// Bulk configures Bulk API 2.0 jobs; the zero value uses the defaults
	// documented on BulkOptions.
	Bulk BulkOptions
}

// Errors of queries; test them with errors.Is. Failed calls also match
// the rest package's categories, such as rest.ErrInvalidQueryLocator.
var (
	ErrCursorUsed = errors.New("soql: records of a cursor ranged twice")
)

// Cursor streams the records of one query, page by page: memory holds one
// page whatever the number of rows.
//
// Salesforce reference (paging with nextRecordsUrl and the batchSize
// option): https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
type Cursor struct {
	c     *Client
	ctx   context.Context
	q     string
	all   bool
	total int
	used  bool
	pages int
}

// Query runs q (GET /query) and returns a cursor over its records. No
// request is sent until Records is ranged.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
func (c *Client) Query(ctx context.Context, q string) *Cursor {
	return &Cursor{c: c, ctx: ctx, q: q, total: -1}
}

// QueryAll is Query through /queryAll: deleted and archived rows are
// included (SOQL.md 9).
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_queryall.htm
func (c *Client) QueryAll(ctx context.Context, q string) *Cursor {
	return &Cursor{c: c, ctx: ctx, q: q, all: true, total: -1}
}

// TotalSize returns the number of matching rows Salesforce reported, or
// -1 until the first page arrived.
func (cu *Cursor) TotalSize() int { return cu.total }

// Pages returns the number of pages of the query fetched so far (further
// batches of child relationship results are not counted).
func (cu *Cursor) Pages() int { return cu.pages }

// Records yields the records in order, following nextRecordsUrl. A
// record whose child relationship result (a parent-to-child subquery) is
// not done has its further batches fetched, by their own nextRecordsUrl,
// before it is yielded, so its Subquery is always complete; those
// children are held in memory with their record. An error is yielded
// once, as the last element: an HTTP failure (a *rest.Error, matched by
// rest.ErrInvalidQueryLocator when the locator expired and the query must
// restart), a malformed page (ErrDecode) or the context's error, checked
// before every record. Breaking out of the loop stops fetching. A Cursor
// can be ranged only once; a second range yields ErrCursorUsed.
func (cu *Cursor) Records() iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		if cu.used {
			yield(nil, ErrCursorUsed)
			return
		}
		cu.used = true
		var (
			buf  bytes.Buffer
			dec  pageDecoder
			page Page
		)
		path, query := "query", url.Values{"q": {cu.q}}
		if cu.all {
			path = "queryAll"
		}
		for {
			if err := cu.ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if err := cu.c.fetchPage(cu.ctx, path, query, &buf, &dec, &page); err != nil {
				yield(nil, fmt.Errorf("query page %d: %w", cu.pages+1, err))
				return
			}
			cu.pages++
			cu.total = page.TotalSize
			for i, r := range page.Records {
				page.Records[i] = nil
				if err := cu.ctx.Err(); err != nil {
					yield(nil, err)
					return
				}
				if page.partial {
					if _, err := cu.c.completeChildren(cu.ctx, r, &buf); err != nil {
						yield(nil, fmt.Errorf("query page %d: record %s: %w", cu.pages, r.ID(), err))
						return
					}
				}
				if !yield(r, nil) {
					return
				}
			}
			if page.Done {
				return
			}
			path, query = page.NextRecordsURL, nil
		}
	}
}

// fetchPage GETs one page into page. A body cut off in transit is fetched
// again (a GET of a page, locator included, can be repeated).
func (c *Client) fetchPage(ctx context.Context, path string, query url.Values, buf *bytes.Buffer, dec *pageDecoder, page *Page) error {
	if err := c.check(); err != nil {
		return err
	}
	req := &rest.Request{Method: http.MethodGet, Path: path, Query: query, Header: http.Header{}}
	req.Header.Set("Sforce-Query-Options", "batchSize="+strconv.Itoa(c.batchSize()))
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var resp *http.Response
		resp, err = c.REST.Do(ctx, req)
		if err != nil {
			return err
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		err = fmt.Errorf("read body: %w", err)
	}
	if err != nil {
		return err
	}
	return dec.decode(buf.Bytes(), page)
}

// completeChildren fetches the further batches of every child
// relationship result in r that is not done (a record with more children
// than fit one response; SALESFORCE.md 2.2), following each
// nextRecordsUrl, so that no child row is silently left out. Nested child
// results are completed too. A record that changed loses its received
// JSON text: Raw then regenerates it from the fields. It reports whether
// r changed.
func (c *Client) completeChildren(ctx context.Context, r *Record, buf *bytes.Buffer) (bool, error) {
	changed := false
	for _, f := range r.fields {
		sq, ok := f.Value.(*Subquery)
		if !ok {
			continue
		}
		ch, err := c.completeSubquery(ctx, sq, buf)
		if err != nil {
			return false, fmt.Errorf("child relationship %s: %w", f.Name, err)
		}
		changed = changed || ch
	}
	if changed {
		r.raw = ""
	}
	return changed, nil
}

func (c *Client) completeSubquery(ctx context.Context, sq *Subquery, buf *bytes.Buffer) (bool, error) {
	changed := false
	for _, child := range sq.Records {
		ch, err := c.completeChildren(ctx, child, buf)
		if err != nil {
			return false, err
		}
		changed = changed || ch
	}
	var (
		dec  pageDecoder
		page Page
	)
	for batch := 2; !sq.Done; batch++ {
		if sq.NextRecordsURL == "" {
			return false, fmt.Errorf("%w: child result not done but has no nextRecordsUrl", ErrDecode)
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if err := c.fetchPage(ctx, sq.NextRecordsURL, nil, buf, &dec, &page); err != nil {
			return false, fmt.Errorf("batch %d: %w", batch, err)
		}
		for _, child := range page.Records {
			if page.partial {
				if _, err := c.completeChildren(ctx, child, buf); err != nil {
					return false, err
				}
			}
			sq.Records = append(sq.Records, child)
		}
		sq.Done, sq.NextRecordsURL = page.Done, page.NextRecordsURL
		changed = true
	}
	return changed, nil
}

// ErrNoREST is returned by a Client whose REST field is nil.
var ErrNoREST = errors.New("soql: client has no REST transport")

func (c *Client) check() error {
	if c.REST == nil {
		return ErrNoREST
	}
	return nil
}

func (c *Client) batchSize() int {
	switch n := c.BatchSize; {
	case n <= 0:
		return DefaultBatchSize
	case n < 200:
		return 200
	case n > 2000:
		return 2000
	default:
		return n
	}
}

// Count returns the number of records of object matching where (nil for
// all), by SELECT COUNT(); with all, deleted rows count too (queryAll).
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_count.htm
func (c *Client) Count(ctx context.Context, object string, where Expr, all bool) (int, error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	q, err := count(object, where)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", object, err)
	}
	path := "query"
	if all {
		path = "queryAll"
	}
	var res struct {
		TotalSize *int `json:"totalSize"`
	}
	if err := c.REST.GetJSON(ctx, path, url.Values{"q": {q}}, &res); err != nil {
		return 0, fmt.Errorf("count %s: %w", object, err)
	}
	if res.TotalSize == nil {
		return 0, fmt.Errorf("count %s: %w: no totalSize", object, ErrDecode)
	}
	return *res.TotalSize, nil
}

// Collect ranges seq and returns every record, or the first error.
func Collect(seq iter.Seq2[*Record, error]) ([]*Record, error) {
	var out []*Record
	for r, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}
