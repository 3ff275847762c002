package sftest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cursor is an open query locator: the snapshot of matching rows.
type cursor struct {
	id       string
	cq       *compiledQuery
	rows     []*record
	lastUsed time.Time
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, pageChunk+64<<10); return &b }}

// batchSize reads Sforce-Query-Options: batchSize=N, a hint clamped to
// 200..2,000 (SALESFORCE.md 2.1).
func batchSize(r *http.Request, cq *compiledQuery) int {
	n := 2000
	for _, opt := range strings.Split(r.Header.Get("Sforce-Query-Options"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(opt), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "batchSize") {
			if x, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				n = min(max(x, 200), 2000)
			}
		}
	}
	if cq.longText >= 2 { // two or more long text fields cap the batch
		n = 200
	}
	return n
}

func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, version string, all bool) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		writeError(w, http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified")
		return
	}
	o := s.Org
	o.mu.RLock()
	cq, qerr := o.compile(q)
	if qerr != nil {
		o.mu.RUnlock()
		writeQueryError(w, qerr)
		return
	}
	rows := o.execute(cq, all)
	now := o.now
	o.mu.RUnlock()

	switch {
	case cq.countOnly:
		writeJSON(w, http.StatusOK, fmt.Appendf(nil, `{"totalSize":%d,"done":true,"records":[]}`, len(rows)))
		return
	case len(cq.aggs) > 0:
		s.writeAggregate(w, version, cq, rows)
		return
	}
	c := &cursor{cq: cq, rows: rows, lastUsed: now}
	s.writePage(w, r, version, c, 0)
}

func (s *Server) writeAggregate(w http.ResponseWriter, version string, cq *compiledQuery, rows []*record) {
	o := s.Org
	o.mu.RLock()
	groups := o.groups(cq, rows)
	jw := &jsonWriter{ec: &evalCtx{o: o, now: o.now}, version: version}
	b := fmt.Appendf(nil, `{"totalSize":%d,"done":true,"records":[`, len(groups))
	for gi, vals := range groups {
		if gi > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"attributes":{"type":"AggregateResult"}`...)
		for i, a := range cq.aggs {
			b = append(b, ',')
			b = appendString(b, a.key)
			b = append(b, ':')
			b = jw.aggregateValue(b, a.path.leafDef(), vals[i])
		}
		b = append(b, '}')
	}
	o.mu.RUnlock()
	b = append(b, "]}"...)
	writeJSON(w, http.StatusOK, b)
}

// writePage writes the page of c starting at row start; when rows remain
// it registers c and links the next page with a /query/ locator, also for
// queryAll (SALESFORCE.md 2.1, 7.5).
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, version string, c *cursor, start int) {
	size := batchSize(r, c.cq)
	end := min(start+size, len(c.rows))
	done := end >= len(c.rows)
	if !done && c.id == "" {
		s.register(c)
	}
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"totalSize":`...)
	b = strconv.AppendInt(b, int64(len(c.rows)), 10)
	b = append(b, `,"done":`...)
	b = strconv.AppendBool(b, done)
	if !done {
		b = append(b, `,"nextRecordsUrl":"/services/data/v`...)
		b = append(b, version...)
		b = append(b, "/query/"...)
		b = append(b, c.id...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(end), 10)
		b = append(b, '"')
	}
	b = append(b, `,"records":[`...)
	// The page streams: rows render under the read lock into a buffer
	// that is written out (without the lock) whenever it passes
	// pageChunk, so a slow client never holds up writers and a page
	// needs little memory. A page that fits in one chunk gets a
	// Content-Length; larger ones go out chunked, as Salesforce's do.
	o := s.Org
	streaming := false
	o.mu.RLock()
	jw := &jsonWriter{ec: &evalCtx{o: o, now: o.now}, version: version}
	for i := start; i < end; i++ {
		if i > start {
			b = append(b, ',')
		}
		b = jw.record(b, c.cq.root, c.rows[i], c.cq.sel)
		if len(b) >= pageChunk && i+1 < end {
			o.mu.RUnlock()
			if !streaming {
				w.Header().Set("Content-Type", "application/json;charset=UTF-8")
				w.WriteHeader(http.StatusOK)
				streaming = true
			}
			_, err := w.Write(b)
			b = b[:0]
			if err != nil { // the client went away
				putBuf(bp, b)
				return
			}
			o.mu.RLock()
		}
	}
	o.mu.RUnlock()
	b = append(b, "]}"...)
	if streaming {
		w.Write(b)
	} else {
		writeJSON(w, http.StatusOK, b)
	}
	putBuf(bp, b)
}

// pageChunk is the size at which a query page's buffer is written out.
const pageChunk = 256 << 10

func putBuf(bp *[]byte, b []byte) {
	if cap(b) <= 4<<20 {
		*bp = b[:0]
		bufPool.Put(bp)
	}
}

// maxCursors bounds the open locators; the least recently used go first.
const maxCursors = 2000

func (s *Server) register(c *cursor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursorSeq++
	c.id = makeID("01g", 5_000_000_000+s.cursorSeq)
	if len(s.cursors) >= maxCursors {
		var oldest *cursor
		for _, x := range s.cursors {
			if oldest == nil || x.lastUsed.Before(oldest.lastUsed) {
				oldest = x
			}
		}
		delete(s.cursors, oldest.id)
	}
	s.cursors[c.id] = c
}

// serveQueryMore serves a nextRecordsUrl. The locator stays valid for
// re-fetching (a retry after a refreshed session) until it expires
// (SALESFORCE.md 7.4).
func (s *Server) serveQueryMore(w http.ResponseWriter, r *http.Request, version, loc string) {
	id, off, ok := strings.Cut(loc, "-")
	start, err := strconv.Atoi(off)
	now := s.Org.Now()
	s.mu.Lock()
	c := s.cursors[id]
	if c != nil && now.Sub(c.lastUsed) > s.opts.LocatorTTL {
		delete(s.cursors, id)
		c = nil
	}
	if c != nil {
		c.lastUsed = now
	}
	s.mu.Unlock()
	if !ok || err != nil || c == nil || start < 0 || start > len(c.rows) {
		writeError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	s.writePage(w, r, version, c, start)
}

// serveRecord is GET /sobjects/X/{id}: every field in describe order, or
// ?fields=a,b; /sobjects/X/{id}/{field} returns a base64 field's blob.
func (s *Server) serveRecord(w http.ResponseWriter, r *http.Request, version, object, id, field string) {
	o := s.Org
	o.mu.RLock()
	defer o.mu.RUnlock()
	od := o.byName[strings.ToLower(object)]
	if od == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	rec := od.lookup(id)
	if rec == nil || !validIDChars(id) || rec.deleted {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if field != "" {
		f := od.field(field)
		if f == nil || f.Type != "base64" {
			writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		blob, _ := rec.get(f, od, o.now).([]byte)
		w.Header().Set("Content-Type", "application/octetstream")
		w.Write(blob)
		return
	}
	var nodes []*selNode
	if list := r.URL.Query().Get("fields"); list != "" {
		for _, name := range strings.Split(list, ",") {
			f := od.field(strings.TrimSpace(name))
			if f == nil {
				writeError(w, http.StatusBadRequest, "INVALID_FIELD",
					fmt.Sprintf("No such column '%s' on sobject of type %s", strings.TrimSpace(name), od.Name))
				return
			}
			nodes = append(nodes, &selNode{key: f.Name, head: nodeHead(f.Name), leaf: f, leafName: f.Name})
		}
	} else {
		for _, f := range od.Fields {
			nodes = append(nodes, &selNode{key: f.Name, head: nodeHead(f.Name), leaf: f, leafName: f.Name})
		}
	}
	jw := &jsonWriter{ec: &evalCtx{o: o, now: o.now}, version: version}
	writeJSON(w, http.StatusOK, jw.record(nil, od, rec, nodes))
}

// Replication windows and limits (SALESFORCE.md 2.5).
const (
	updatedWindow = 30 * 24 * time.Hour
	deletedWindow = 15 * 24 * time.Hour
	maxReplIDs    = 600_000
)

// parseReplicationTime accepts the ISO 8601 forms of getUpdated's start
// and end (with +00:00, Z or +0000).
func parseReplicationTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// serveReplication is getUpdated and getDeleted: times round down to the
// minute, updated reaches back 30 days and deleted 15 (or to the last
// recycle-bin purge), at most 600,000 IDs.
func (s *Server) serveReplication(w http.ResponseWriter, r *http.Request, version, object, kind string) {
	q := r.URL.Query()
	start, ok1 := parseReplicationTime(q.Get("start"))
	end, ok2 := parseReplicationTime(q.Get("end"))
	if !ok1 || !ok2 {
		writeError(w, http.StatusBadRequest, "MALFORMED_QUERY", "start and end must be ISO 8601 date-times, such as 2013-05-05T00:00:00+00:00")
		return
	}
	o := s.Org
	o.mu.RLock()
	defer o.mu.RUnlock()
	od := o.byName[strings.ToLower(object)]
	if od == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	now := o.now
	start, end = start.Truncate(time.Minute), end.Truncate(time.Minute)
	if end.After(now) {
		end = now.Truncate(time.Minute)
	}
	if !end.After(start) && !end.Equal(start) {
		writeError(w, http.StatusBadRequest, "INVALID_REPLICATION_DATE", "end date must be after the start date")
		return
	}
	if kind == "updated" {
		if start.Before(now.Add(-updatedWindow).Truncate(time.Minute)) {
			writeError(w, http.StatusBadRequest, "INVALID_REPLICATION_DATE", "start date cannot be more than 30 days ago")
			return
		}
		stamp := od.field("SystemModstamp")
		var ids []string
		for _, rec := range od.records {
			t, _ := rec.get(stamp, od, now).(time.Time)
			if rec.deleted || t.Before(start) || !t.Before(end) {
				continue
			}
			ids = append(ids, rec.id)
		}
		if len(ids) > maxReplIDs {
			writeError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. narrow the date range")
			return
		}
		b := []byte(`{"ids":[`)
		for i, id := range ids {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, id)
		}
		b = append(b, `],"latestDateCovered":"`...)
		b = appendDateTime(b, end, false)
		writeJSON(w, http.StatusOK, append(b, `"}`...))
		return
	}
	earliest := now.Add(-deletedWindow).Truncate(time.Minute)
	if p := o.purged[od.Name]; p.After(earliest) {
		earliest = p.Truncate(time.Minute)
	}
	if start.Before(earliest) {
		writeError(w, http.StatusBadRequest, "INVALID_REPLICATION_DATE", "start date is before the earliest date available")
		return
	}
	type del struct {
		id string
		at time.Time
	}
	var dels []del
	for id, at := range o.deletes[od.Name] {
		if !at.Before(start) && at.Before(end) {
			dels = append(dels, del{id, at})
		}
	}
	if len(dels) > maxReplIDs {
		writeError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. narrow the date range")
		return
	}
	sortDels := func(a, b del) int { return strings.Compare(a.id, b.id) }
	slicesSortFunc(dels, sortDels)
	b := []byte(`{"deletedRecords":[`)
	for i, d := range dels {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, d.id)
		b = append(b, `,"deletedDate":"`...)
		b = appendDateTime(b, d.at, false)
		b = append(b, `"}`...)
	}
	b = append(b, `],"earliestDateAvailable":"`...)
	b = appendDateTime(b, earliest, false)
	b = append(b, `","latestDateCovered":"`...)
	b = appendDateTime(b, end, false)
	writeJSON(w, http.StatusOK, append(b, `"}`...))
}
