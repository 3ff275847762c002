package soql

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// DefaultBulkThreshold is the record count from which ExtractAuto uses
// Bulk API 2.0. Below it REST costs at most 5 calls (pages of 2,000) and
// streams at once, while a Bulk job costs about as many calls (create,
// status, results) plus the seconds to minutes Salesforce takes to queue
// and run it, and counts against the daily Bulk job limit. Above it REST's
// call count keeps growing by one per 2,000 records while Bulk stays
// near 4.
const DefaultBulkThreshold = 10_000

// Method is how an extract reads records.
type Method int

// The extract methods.
const (
	REST Method = iota
	Bulk
)

// String returns "rest" or "bulk".
func (m Method) String() string {
	if m == Bulk {
		return "bulk"
	}
	return "rest"
}

// Choose counts the records of an extract (SELECT COUNT(), one call) and
// picks Bulk when there are at least threshold of them (0 means
// DefaultBulkThreshold, a negative threshold always picks REST). It
// returns the count too.
func (c *Client) Choose(ctx context.Context, e Extract, threshold int) (Method, int, error) {
	n, err := c.Count(ctx, e.Object, e.where(), e.All)
	if err != nil {
		return REST, 0, err
	}
	if threshold == 0 {
		threshold = DefaultBulkThreshold
	}
	if threshold < 0 || n < threshold {
		return REST, n, nil
	}
	return Bulk, n, nil
}

// ExtractAuto reads every record of an extract through the method Choose
// picks. When Bulk was picked but Salesforce refuses the job for the
// object or its fields (ErrBulkUnsupported, before any record), it falls
// back to REST. Values follow the method: Bulk records hold strings; use
// metadata.Value to type either. The method used is reported to used,
// when set, before the first record.
func (c *Client) ExtractAuto(ctx context.Context, e Extract, threshold int, used func(Method)) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		m, _, err := c.Choose(ctx, e, threshold)
		if err != nil {
			yield(nil, fmt.Errorf("extract %s: %w", e.Object, err))
			return
		}
		if m == Bulk {
			started, fallback := false, false
			for r, err := range c.BulkExtract(ctx, e) {
				if err != nil && !started && errors.Is(err, ErrBulkUnsupported) {
					fallback = true
					break
				}
				if !started && used != nil {
					used(Bulk)
				}
				started = true
				if !yield(r, err) || err != nil {
					return
				}
			}
			if !fallback {
				if !started && used != nil {
					used(Bulk)
				}
				return
			}
		}
		if used != nil {
			used(REST)
		}
		for r, err := range c.Extract(ctx, e) {
			if !yield(r, err) || err != nil {
				return
			}
		}
	}
}
