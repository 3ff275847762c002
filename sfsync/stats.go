package sfsync

import (
	"slices"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/outbound"
)

// maxRecentErrors is how many errors Stats keeps.
const maxRecentErrors = 20

// Stats counts what the engine did since it started.
type Stats struct {
	Messages      int64 // Outbound Messages applied
	Notifications int64 // notifications in them
	Direct        int64 // records stored from the message itself
	Reread        int64 // records read again by Id
	Failed        int64 // messages that failed (Salesforce retries them)
	// ValuesLeftOut counts values a sync left out of their rows because
	// the Store refused them as not fitting their column (each is also
	// in RecentErrors and in its object's job progress).
	ValuesLeftOut int64
	LastMessageAt time.Time
	RecentErrors  []ErrorRecord // newest first
}

// ErrorRecord is one recent error of a message or a job.
type ErrorRecord struct {
	At     time.Time
	OrgID  string
	Source string // "webhook" or "sync"
	JobID  string // for "sync"
	Text   string
}

type stats struct {
	mu sync.Mutex
	s  Stats
}

func (st *stats) message(m *outbound.Message, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.LastMessageAt = time.Now().UTC()
	if err != nil {
		st.s.Failed++
		st.addLocked(ErrorRecord{OrgID: m.OrganizationID, Source: "webhook", Text: err.Error()})
		return
	}
	st.s.Messages++
	st.s.Notifications += int64(len(m.Notifications))
}

func (st *stats) applied(direct, reread int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Direct += int64(direct)
	st.s.Reread += int64(reread)
}

func (st *stats) failure(r ErrorRecord) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.addLocked(r)
}

func (st *stats) leftOut(r ErrorRecord) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.ValuesLeftOut++
	st.addLocked(r)
}

func (st *stats) addLocked(r ErrorRecord) {
	if r.At.IsZero() {
		r.At = time.Now().UTC()
	}
	st.s.RecentErrors = append([]ErrorRecord{r}, st.s.RecentErrors...)
	if len(st.s.RecentErrors) > maxRecentErrors {
		st.s.RecentErrors = st.s.RecentErrors[:maxRecentErrors]
	}
}

// Stats returns a copy of the engine's counters and recent errors.
func (s *Syncer) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	c := s.stats.s
	c.RecentErrors = slices.Clone(c.RecentErrors)
	return c
}
