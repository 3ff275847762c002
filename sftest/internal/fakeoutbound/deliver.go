package fakeoutbound

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxAckBytes bounds the acknowledgement body read.
const maxAckBytes = 1 << 20

// run is the delivery goroutine of one definition: it sends one message at
// a time, due retries first.
func (q *Queue) run(a *action) {
	defer q.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		q.mu.Lock()
		m, wait := q.nextLocked(a, time.Now())
		q.mu.Unlock()
		if m != nil {
			q.send(a, m)
			continue
		}
		timer.Reset(wait)
		select {
		case <-q.ctx.Done():
			return
		case <-a.wake:
		case <-timer.C:
		}
	}
}

// nextLocked returns the message to send now, or how long to sleep.
func (q *Queue) nextLocked(a *action, now time.Time) (*message, time.Duration) {
	wait := time.Hour
	best := -1
	for i, m := range a.retry {
		if !m.next.After(now) && (best < 0 || m.next.Before(a.retry[best].next)) {
			best = i
		}
		wait = min(wait, m.next.Sub(now))
	}
	if best >= 0 {
		m := a.retry[best]
		a.retry = append(a.retry[:best], a.retry[best+1:]...)
		return m, 0
	}

	// A new message from the queued notifications that are due.
	m := &message{}
	rest := a.queue[:0]
	for _, n := range a.queue {
		if len(m.notes) < MaxNotifications && !n.notBefore.After(now) {
			m.notes = append(m.notes, n)
			if m.created.IsZero() || n.enqueued.Before(m.created) {
				m.created = n.enqueued
			}
			continue
		}
		rest = append(rest, n)
		if n.notBefore.After(now) {
			wait = min(wait, n.notBefore.Sub(now))
		}
	}
	clear(a.queue[len(rest):])
	a.queue = rest
	if len(m.notes) > 0 {
		if q.reoProb > 0 && q.rng.Float64() < q.reoProb {
			q.rng.Shuffle(len(m.notes), func(i, j int) { m.notes[i], m.notes[j] = m.notes[j], m.notes[i] })
		}
		return m, 0
	}
	return nil, max(wait, 0)
}

// send makes one attempt at delivering m and records it.
func (q *Queue) send(a *action, m *message) {
	body, sent, gone := q.build(a, m)

	q.mu.Lock()
	if len(gone) > 0 {
		// Records deleted since the notification was queued: nothing to
		// send for them (5.5).
		q.pending -= len(gone)
		m.notes = sent
		q.changedLocked()
	}
	q.mu.Unlock()
	if len(sent) == 0 {
		return
	}

	at := time.Now()
	status, err := q.post(a.def.EndpointURL, body)
	if q.ctx.Err() != nil {
		return // closed during the attempt: not an outcome
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	m.attempt++
	d := Delivery{ActionID: a.id, Attempt: m.attempt, Status: status, Acked: err == nil, At: at}
	for _, n := range m.notes {
		d.NotificationIDs = append(d.NotificationIDs, n.id)
		d.RecordIDs = append(d.RecordIDs, n.recordID)
	}
	if err != nil {
		d.Err = err.Error()
	}
	q.log = append(q.log, d)
	defer q.changedLocked()

	if err == nil {
		q.pending -= len(m.notes)
		q.duplicateLocked(a, m, at)
		return
	}
	next := time.Now().Add(q.scaled(RetryInterval(m.attempt)))
	if next.Sub(m.created) > q.scaled(MaxAge) {
		q.pending -= len(m.notes)
		q.dropped += len(m.notes)
		return
	}
	m.next = next
	a.retry = append(a.retry, m)
}

// duplicateLocked queues some acknowledged notifications once more, with
// their IDs, as at-least-once delivery does (chaos).
func (q *Queue) duplicateLocked(a *action, m *message, now time.Time) {
	if q.dupProb <= 0 {
		return
	}
	for _, n := range m.notes {
		if !n.duplicate && q.rng.Float64() < q.dupProb {
			a.queue = append(a.queue, &notification{
				id: n.id, recordID: n.recordID, enqueued: now, duplicate: true,
				notBefore: now.Add(q.scaled(InitialRetryInterval)),
			})
			q.pending++
		}
	}
	a.signal()
}

// build takes the snapshots and writes the envelope. It runs without the
// lock: Snapshot may call back into the org.
func (q *Queue) build(a *action, m *message) (body []byte, sent, gone []*notification) {
	var notes []envNotification
	for _, n := range m.notes {
		values := []FieldValue(nil)
		if q.cfg.Snapshot != nil {
			v, ok := q.cfg.Snapshot(a.def.Object, n.recordID)
			if !ok {
				gone = append(gone, n)
				continue
			}
			values = v
		}
		sent = append(sent, n)
		notes = append(notes, envNotification{ID: n.id, RecordID: n.recordID, Fields: orderFields(a.fields, values)})
	}
	if len(sent) == 0 {
		return nil, nil, gone
	}
	env := envelope{
		OrgID:       q.cfg.OrgID,
		ActionID:    a.id,
		Object:      a.def.Object,
		Notes:       notes,
		NilSession:  true,
		Enterprise:  call(q.cfg.EnterpriseURL),
		Partner:     call(q.cfg.PartnerURL),
		Session:     "",
		Declaration: true,
	}
	if a.def.IncludeSessionID && q.cfg.SessionID != nil {
		if sid := q.cfg.SessionID(); sid != "" {
			env.Session, env.NilSession = sid, false
		}
	}
	return env.bytes(), sent, gone
}

func call(f func() string) string {
	if f == nil {
		return ""
	}
	return f()
}

// orderFields keeps the selected, non-null, non-empty values in the
// definition's (Salesforce's) field order.
func orderFields(fields []string, values []FieldValue) []FieldValue {
	byName := make(map[string]*string, len(values))
	for _, v := range values {
		byName[v.Name] = v.Value
	}
	var out []FieldValue
	for _, f := range fields {
		if v := byName[f]; v != nil && *v != "" {
			out = append(out, FieldValue{Name: f, Value: v})
		}
	}
	return out
}

// post sends one message and checks the acknowledgement.
func (q *Queue) post(endpoint string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(q.ctx, q.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("bad endpoint url: %w", err)
	}
	// The headers of SALESFORCE.md 5.1.
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `""`)
	req.Header.Set("User-Agent", "Jakarta Commons-HttpClient/3.1")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := q.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("no acknowledgement within %s", q.cfg.Timeout)
		}
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return resp.StatusCode, fmt.Errorf("gzip response: %w", err)
		}
		r = zr
	}
	data, err := io.ReadAll(io.LimitReader(r, maxAckBytes+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return resp.StatusCode, fmt.Errorf("no acknowledgement within %s", q.cfg.Timeout)
		}
		return resp.StatusCode, fmt.Errorf("read response: %w", err)
	}
	if len(data) > maxAckBytes {
		return resp.StatusCode, errors.New("response larger than 1 MiB")
	}
	return resp.StatusCode, CheckAck(resp.StatusCode, resp.Header.Get("Content-Type"), data)
}
