package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sfsync/salesforce-sync/store"
)

// The binary COPY format (PostgreSQL's COPY documentation, "Binary
// Format"): a signature, flags and an empty extension; per tuple a field
// count, then per field a length (-1 for NULL) and the value in the
// type's binary form; a trailer of -1.
var copySignature = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// pgEpoch is the zero of PostgreSQL's binary dates and timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// copyRows streams the rows of a group as binary COPY data. It encodes
// the checked values itself: pgx's generic encoder plans every value
// anew, which costs more than the database's work on wide rows.
type copyRows struct {
	ti       *tableInfo
	set      []int
	org      string
	syncedAt time.Time
	rows     []*prepRow
	next     int
	buf      []byte
	off      int
	done     bool
	err      error
}

// Read implements io.Reader, encoding rows about 64 KB at a time.
func (c *copyRows) Read(p []byte) (int, error) {
	for c.off == len(c.buf) {
		if c.err != nil {
			return 0, c.err // pgconn aborts the COPY
		}
		if c.done {
			return 0, io.EOF
		}
		c.fill()
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

func (c *copyRows) fill() {
	b := c.buf[:0]
	c.off = 0
	if c.next == 0 {
		b = append(b, copySignature...)
	}
	for c.next < len(c.rows) && len(b) < 64<<10 {
		r := c.rows[c.next]
		c.next++
		var err error
		if b, err = c.appendRow(b, r); err != nil {
			c.err = err
			c.done = true
			c.buf = b[:0]
			return
		}
	}
	if c.next == len(c.rows) {
		b = binary.BigEndian.AppendUint16(b, 0xFFFF)
		c.done = true
	}
	c.buf = b
}

func (c *copyRows) appendRow(b []byte, r *prepRow) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(c.set)))
	b = appendField(b, []byte(c.org))
	b = appendField(b, []byte(r.id))
	b = appendTimestamp(b, c.syncedAt)
	if r.deleted {
		b = appendTimestamp(b, c.syncedAt)
	} else {
		b = binary.BigEndian.AppendUint32(b, math.MaxUint32)
	}
	for k, i := range c.set {
		var err error
		if b, err = appendValue(b, c.ti.cols[i], r.vals[k]); err != nil {
			return nil, &store.ValueError{Table: c.ti.name, Column: c.ti.cols[i].Name, RowID: r.id,
				Err: fmt.Errorf("%w: %v", store.ErrBadValue, err)}
		}
	}
	return b, nil
}

func appendField(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// appendTimestamp appends t as microseconds since 2000-01-01 UTC,
// computed from Unix seconds: a time.Duration spans only 292 years.
func appendTimestamp(b []byte, t time.Time) []byte {
	us := (t.Unix()-pgEpoch.Unix())*1_000_000 + int64(t.Nanosecond()/1000)
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(us))
}

// appendValue appends one checked value (as encode returns it) of column c.
func appendValue(b []byte, c store.Column, v any) ([]byte, error) {
	if v == nil {
		return binary.BigEndian.AppendUint32(b, math.MaxUint32), nil
	}
	switch c.Type {
	case store.Text:
		return appendField(b, []byte(v.(string))), nil
	case store.Integer:
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, uint64(v.(int64))), nil
	case store.Real:
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(v.(float64))), nil
	case store.Boolean:
		b = binary.BigEndian.AppendUint32(b, 1)
		if v.(bool) {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case store.DateTime:
		return appendTimestamp(b, v.(time.Time)), nil
	case store.Date:
		b = binary.BigEndian.AppendUint32(b, 4)
		return binary.BigEndian.AppendUint32(b, uint32(dateDays(v.(time.Time)))), nil
	case store.Time:
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, uint64(v.(pgtype.Time).Microseconds)), nil
	case store.Numeric:
		at := len(b)
		b = binary.BigEndian.AppendUint32(b, 0)
		b, err := appendNumeric(b, string(v.(store.Decimal)))
		if err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
		return b, nil
	case store.JSON:
		j := v.([]byte)
		b = binary.BigEndian.AppendUint32(b, uint32(len(j)+1))
		b = append(b, 1) // jsonb binary format version
		return append(b, j...), nil
	case store.Blob:
		return appendField(b, v.([]byte)), nil
	}
	return nil, fmt.Errorf("unknown column type %q", c.Type)
}

// dateDays counts the days from 2000-01-01 to the date of t (proleptic
// Gregorian), by Howard Hinnant's days-from-civil algorithm.
func dateDays(t time.Time) int32 {
	y, m, d := t.Date()
	if m <= 2 {
		y--
	}
	e := y
	if e < 0 {
		e -= 399
	}
	era := e / 400
	yoe := y - era*400
	doy := (153*((int(m)+9)%12)+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 730425) // 730425 days from 0000-03-01 to 2000-01-01
}

// copyIn copies the rows of a group into table (quoted, with schema) in
// binary format.
func copyIn(ctx context.Context, tx pgx.Tx, table string, ti *tableInfo, cols []string, org string,
	g *group, syncedAt time.Time) (int64, error) {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quoteIdent(c)
	}
	src := &copyRows{ti: ti, set: g.set, org: org, syncedAt: syncedAt, rows: g.rows}
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, src,
		"COPY "+table+" ("+strings.Join(q, ", ")+") FROM STDIN (FORMAT binary)")
	if src.err != nil {
		return 0, src.err
	}
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
