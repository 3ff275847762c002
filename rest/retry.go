package rest

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RetryPolicy says how idempotent calls are retried: on HTTP 5xx other
// than 501, on 429, and when the connection was reset. Waits grow
// exponentially from BaseDelay to MaxDelay, each with random jitter (a
// wait lies between half and all of its nominal value). A Retry-After
// header sets the wait instead, if it is at most MaxRetryAfter; a longer
// one ends the retries. No retry starts once the context is done, or
// when the wait would pass the context's deadline.
type RetryPolicy struct {
	// MaxAttempts is the total number of tries; 0 or 1 means no retry.
	MaxAttempts int
	// BaseDelay is the nominal wait before the first retry; 0 means 500ms.
	BaseDelay time.Duration
	// MaxDelay caps each nominal wait; 0 means 30s.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After honoured; 0 means 2m.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy is used when Client.Retry is nil: 4 attempts,
// waits of about 0.5s, 1s, 2s.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second}

func (p *RetryPolicy) attempts() int {
	if p.MaxAttempts < 1 {
		return 1
	}
	return p.MaxAttempts
}

// delay is the jittered wait before retry n (n = 1 for the first retry).
func (p *RetryPolicy) delay(n int) time.Duration {
	base, max := p.BaseDelay, p.MaxDelay
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if max <= 0 {
		max = 30 * time.Second
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	half := d / 2
	return half + rand.N(half+1)
}

func (p *RetryPolicy) maxRetryAfter() time.Duration {
	if p.MaxRetryAfter <= 0 {
		return 2 * time.Minute
	}
	return p.MaxRetryAfter
}

// retryableStatus reports whether a status is worth another attempt.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || (code >= 500 && code != http.StatusNotImplemented)
}

// retryableErr reports whether a transport error is a connection reset (or
// a connection closed before the response), which is worth another attempt
// for an idempotent call.
func retryableErr(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "read" && strings.Contains(op.Err.Error(), "reset") {
		return true
	}
	return strings.Contains(err.Error(), "connection reset by peer")
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// sleep waits d or until ctx is done, reporting whether it waited fully.
func sleep(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
