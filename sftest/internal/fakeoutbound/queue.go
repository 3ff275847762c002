package fakeoutbound

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Delivery timing of SALESFORCE.md 5.5. Every duration except the HTTP
// timeout is multiplied by Config.TimeScale.
const (
	// DefaultTimeout is the wait for an acknowledgement (5.5: 60 s).
	DefaultTimeout = 60 * time.Second
	// InitialRetryInterval is the wait before the first retry; each
	// further retry waits twice as long as the one before.
	InitialRetryInterval = 15 * time.Second
	// MaxRetryInterval caps the wait between two attempts (5.5).
	MaxRetryInterval = 2 * time.Hour
	// MaxAge is how long a message is retried before it is dropped (5.5).
	MaxAge = 24 * time.Hour
	// MaxNotifications is the most notifications one request carries
	// (5.2, maxOccurs="100").
	MaxNotifications = 100
)

// ErrClosed is returned by Wait after Close.
var ErrClosed = errors.New("outbound queue closed")

// ErrDropped is returned by Wait when every notification has been settled
// but some were dropped after MaxAge without an acknowledgement.
var ErrDropped = errors.New("outbound notifications dropped after 24 hours")

// FieldValue is one field of a record snapshot.
type FieldValue struct {
	Name string
	// Value is the value as written in the message (5.2 value formats);
	// nil is null, which the message leaves out.
	Value *string
}

// Definition is an outbound message definition (a workflow outbound
// message action).
type Definition struct {
	// Name is the definition's name; Object the sObject API name.
	Name, Object string
	// Fields are the selected fields. Id is always sent, first; the
	// others are sent and declared in Salesforce's order, which is
	// case-sensitive alphabetical order (5.2).
	Fields []string
	// FieldSoapTypes gives the WSDL type of each field, such as
	// "xsd:string", "xsd:dateTime", "xsd:double", "xsd:boolean",
	// "xsd:date" or "ent:ID"; missing fields are "xsd:string".
	FieldSoapTypes map[string]string
	// EndpointURL receives the notifications.
	EndpointURL string
	// IncludeSessionID sends a live session id as SessionId; otherwise
	// SessionId is xsi:nil (5.2).
	IncludeSessionID bool
}

// Config configures a Queue.
type Config struct {
	// OrgID is the 18-character organization ID sent as OrganizationId.
	OrgID string
	// EnterpriseURL and PartnerURL give the EnterpriseUrl and PartnerUrl
	// values (nil: empty).
	EnterpriseURL, PartnerURL func() string
	// SessionID gives a live access token for definitions with
	// IncludeSessionID. Nil sends xsi:nil.
	SessionID func() string
	// Snapshot returns a record's field values at send time (5.5). false
	// means the record is gone: its notification is dropped without being
	// sent. Nil sends only the Id. It is called without any lock of the
	// queue held, so it may call Enqueue.
	Snapshot func(object, id string) ([]FieldValue, bool)
	// TimeScale multiplies every delay (retry intervals, MaxAge, chaos
	// delays). Zero means 1; 0.001 makes delays 1000 times shorter.
	TimeScale float64
	// HTTPClient sends the requests. Nil means a client of the queue's own
	// that does not follow redirects (a 3xx answer is a failure, 7.8).
	HTTPClient *http.Client
	// Timeout is the wait for one acknowledgement, in real time: it is not
	// scaled by TimeScale. Zero means DefaultTimeout.
	Timeout time.Duration
}

// Delivery is one HTTP attempt in the delivery log.
type Delivery struct {
	ActionID        string
	NotificationIDs []string // in the order of the message
	RecordIDs       []string // the same order
	Attempt         int      // 1 for the first attempt of this message
	Status          int      // HTTP status; 0 when no response came
	Acked           bool     // a valid acknowledgement (5.4)
	Err             string   // why the attempt failed; "" when acked
	At              time.Time
}

// Queue holds outbound message definitions and delivers their
// notifications. It is safe for concurrent use.
type Queue struct {
	cfg       Config
	client    *http.Client
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	createdAt time.Time

	mu      sync.Mutex
	actions map[string]*action
	seq     uint64
	log     []Delivery
	pending int // notifications not yet acknowledged, skipped or dropped
	dropped int
	dupProb float64
	reoProb float64
	rng     *rand.Rand
	changed chan struct{} // closed and replaced on every change, for Wait
	closed  bool
}

// action is one definition and its delivery state.
type action struct {
	id      string
	def     Definition
	fields  []string // Salesforce order, without Id
	created time.Time
	queue   []*notification // not yet in a message
	retry   []*message      // failed messages waiting for their next attempt
	wake    chan struct{}
}

type notification struct {
	id, recordID string
	enqueued     time.Time
	notBefore    time.Time // chaos: held back to be delivered out of order
	duplicate    bool      // chaos: a second delivery of an acknowledged notification
}

// message is a batch of notifications, retried as a unit.
type message struct {
	notes   []*notification
	created time.Time
	attempt int
	next    time.Time
}

// New returns a Queue. Call Close to stop its goroutines.
func New(cfg Config) *Queue {
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{
			Transport: http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Queue{
		cfg:       cfg,
		client:    client,
		ctx:       ctx,
		cancel:    cancel,
		createdAt: time.Now(),
		actions:   map[string]*action{},
		rng:       rand.New(rand.NewPCG(1, 2)),
		changed:   make(chan struct{}),
	}
}

// scaled applies TimeScale to d.
func (q *Queue) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * q.cfg.TimeScale)
}

// RetryInterval is the unscaled wait after the n-th failed attempt of a
// message (n >= 1): InitialRetryInterval doubled n-1 times, at most
// MaxRetryInterval.
func RetryInterval(n int) time.Duration {
	d := InitialRetryInterval
	for i := 1; i < n && d < MaxRetryInterval; i++ {
		d *= 2
	}
	return min(d, MaxRetryInterval)
}

// Define registers a definition and starts its delivery goroutine. It
// returns the new ActionId: an 18-character ID with the 04k prefix.
func (q *Queue) Define(d Definition) (actionID string) {
	fields := make([]string, 0, len(d.Fields))
	for _, f := range d.Fields {
		if f != "Id" && !containsString(fields, f) {
			fields = append(fields, f)
		}
	}
	sort.Strings(fields) // byte order: case-sensitive, as 5.2 observes
	d.Fields = append([]string(nil), d.Fields...)
	types := make(map[string]string, len(d.FieldSoapTypes))
	for k, v := range d.FieldSoapTypes {
		types[k] = v
	}
	d.FieldSoapTypes = types

	q.mu.Lock()
	defer q.mu.Unlock()
	a := &action{
		id:      q.newIDLocked("04k"),
		def:     d,
		fields:  fields,
		created: time.Now(),
		wake:    make(chan struct{}, 1),
	}
	q.actions[a.id] = a
	if !q.closed {
		q.wg.Add(1)
		go q.run(a)
	}
	return a.id
}

// Enqueue queues a notification of recordID for the definition actionID,
// with a new 04l notification ID. Unknown actions and a closed queue
// ignore the call.
func (q *Queue) Enqueue(actionID, recordID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	a := q.actions[actionID]
	if a == nil || q.closed {
		return
	}
	now := time.Now()
	n := &notification{id: q.newIDLocked("04l"), recordID: recordID, enqueued: now}
	if q.reoProb > 0 && q.rng.Float64() < q.reoProb {
		n.notBefore = now.Add(q.scaled(InitialRetryInterval))
	}
	a.queue = append(a.queue, n)
	q.pending++
	q.changedLocked()
	a.signal()
}

// SetChaos makes deliveries misbehave as Salesforce may (5.5): after an
// acknowledgement, a notification is delivered once more with probability
// duplicateProb (same notification ID); a new notification is held back
// for InitialRetryInterval (scaled) with probability reorderProb, and a
// message's notifications are shuffled with that probability too.
// Duplicates count as queued notifications for Wait.
func (q *Queue) SetChaos(duplicateProb, reorderProb float64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dupProb, q.reoProb = duplicateProb, reorderProb
}

// Deliveries returns a copy of the delivery log, one entry per HTTP
// attempt, oldest first.
func (q *Queue) Deliveries() []Delivery {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Delivery, len(q.log))
	for i, d := range q.log {
		d.NotificationIDs = append([]string(nil), d.NotificationIDs...)
		d.RecordIDs = append([]string(nil), d.RecordIDs...)
		out[i] = d
	}
	return out
}

// Wait blocks until every queued notification has been acknowledged (or
// skipped because its record is gone), or ctx is done. It returns
// ErrDropped if some notifications were dropped after MaxAge, and
// ErrClosed if the queue is closed while notifications are pending.
func (q *Queue) Wait(ctx context.Context) error {
	for {
		q.mu.Lock()
		pending, dropped, closed, ch := q.pending, q.dropped, q.closed, q.changed
		q.mu.Unlock()
		switch {
		case pending == 0 && dropped > 0:
			return fmt.Errorf("%w: %d notifications", ErrDropped, dropped)
		case pending == 0:
			return nil
		case closed:
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for acknowledgements: %d pending: %w", pending, ctx.Err())
		}
	}
}

// Close stops delivery, waits for the delivery goroutines to end and
// closes idle connections. Undelivered notifications are discarded.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.changedLocked()
	q.mu.Unlock()
	q.cancel()
	q.wg.Wait()
	q.client.CloseIdleConnections()
}

// changedLocked wakes the callers of Wait.
func (q *Queue) changedLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

func (a *action) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// newIDLocked returns an 18-character ID with the given key prefix.
func (q *Queue) newIDLocked(prefix string) string {
	q.seq++
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := []byte(prefix + "8c0000000000")
	for i, n := len(b)-1, q.seq; n > 0 && i >= 5; i-- {
		b[i] = digits[n%62]
		n /= 62
	}
	return WithChecksum(string(b))
}

// WithChecksum appends the 3-character checksum of SALESFORCE.md 6 to a
// 15-character ID.
func WithChecksum(id15 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	out := []byte(id15)
	for chunk := 0; chunk < 3; chunk++ {
		v := 0
		for i := 0; i < 5; i++ {
			if c := id15[chunk*5+i]; c >= 'A' && c <= 'Z' {
				v |= 1 << i
			}
		}
		out = append(out, alphabet[v])
	}
	return string(out)
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ErrUnknownAction is returned for an ActionId that no Define returned.
var ErrUnknownAction = errors.New("unknown outbound message action")
