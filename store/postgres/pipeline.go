package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sfsync/salesforce-sync/store"
)

// The single statements of Upsert go to the server as one pipeline of
// prepared statements whose parameters this file encodes itself, in
// PostgreSQL's binary formats (the array format of array_recv: number
// of dimensions, a has-NULL flag, the element type, the length and lower
// bound of the one dimension, then each element as for binary COPY).
// pgx's generic encoder plans every array element anew; on 60-column
// webhook batches it cost more CPU than the rest of the client.

// Type OIDs of the parameters (pg_type.dat).
const (
	oidBool        = 16
	oidBytea       = 17
	oidInt8        = 20
	oidText        = 25
	oidFloat8      = 701
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamptz = 1184
)

// Array type OIDs, by element type.
var arrayOIDs = map[uint32]uint32{
	oidBool: 1000, oidBytea: 1001, oidInt8: 1016, oidText: 1009, oidFloat8: 1022,
	oidDate: 1182, oidTime: 1183, oidTimestamptz: 1185,
}

// elemOID is the element type of the array a column travels in (see
// arrayType: decimals and JSON travel as text).
func elemOID(c store.Column) uint32 {
	switch c.Type {
	case store.Integer:
		return oidInt8
	case store.Real:
		return oidFloat8
	case store.Boolean:
		return oidBool
	case store.Date:
		return oidDate
	case store.DateTime:
		return oidTimestamptz
	case store.Time:
		return oidTime
	case store.Blob:
		return oidBytea
	}
	return oidText
}

// pipeStmt is one statement of a pipeline: its text, its encoded
// parameters and their types, and the number of rows it upserts (-1 for
// a statement that returns nothing to count).
type pipeStmt struct {
	sql    string
	oids   []uint32
	params [][]byte
	n      int
}

// paramBuf builds the parameters of a statement in one buffer.
type paramBuf struct {
	b    []byte
	ends []int // end offset of each parameter in b; -1 for NULL
	oids []uint32
}

func (p *paramBuf) end(oid uint32) {
	p.ends = append(p.ends, len(p.b))
	p.oids = append(p.oids, oid)
}

func (p *paramBuf) text(s string) {
	p.b = append(p.b, s...)
	p.end(oidText)
}

// arrayHeader appends the header of a one-dimensional array of n
// elements and returns the offset of its has-NULL flag.
func (p *paramBuf) arrayHeader(elem uint32, n int) int {
	p.b = binary.BigEndian.AppendUint32(p.b, 1)
	at := len(p.b)
	p.b = binary.BigEndian.AppendUint32(p.b, 0)
	p.b = binary.BigEndian.AppendUint32(p.b, elem)
	p.b = binary.BigEndian.AppendUint32(p.b, uint32(n))
	p.b = binary.BigEndian.AppendUint32(p.b, 1)
	return at
}

func (p *paramBuf) params() [][]byte {
	out := make([][]byte, len(p.ends))
	start := 0
	for i, e := range p.ends {
		out[i] = p.b[start:e:e]
		start = e
	}
	return out
}

// arrayParams encodes the parameters of arrayStmt for a group: the org,
// the sync time, the Ids, the deletion times and one array per set
// column.
func arrayParams(ti *tableInfo, org string, g *group, syncedAt time.Time) (pipeStmt, error) {
	p := paramBuf{b: make([]byte, 0, 256+len(g.rows)*(48+len(g.set)*24))}
	p.text(org)
	p.b = binary.BigEndian.AppendUint64(p.b, uint64(pgMicros(syncedAt)))
	p.end(oidTimestamptz)

	p.arrayHeader(oidText, len(g.rows))
	for _, r := range g.rows {
		p.b = appendField(p.b, []byte(r.id))
	}
	p.end(arrayOIDs[oidText])

	flag := p.arrayHeader(oidTimestamptz, len(g.rows))
	nulls := false
	for _, r := range g.rows {
		if r.deleted {
			p.b = appendTimestamp(p.b, syncedAt)
		} else {
			p.b = binary.BigEndian.AppendUint32(p.b, math.MaxUint32)
			nulls = true
		}
	}
	if nulls {
		binary.BigEndian.PutUint32(p.b[flag:], 1)
	}
	p.end(arrayOIDs[oidTimestamptz])

	for k, i := range g.set {
		c := ti.cols[i]
		elem := elemOID(c)
		flag := p.arrayHeader(elem, len(g.rows))
		nulls := false
		for _, r := range g.rows {
			v := r.vals[k]
			var err error
			switch {
			case v == nil:
				p.b = binary.BigEndian.AppendUint32(p.b, math.MaxUint32)
				nulls = true
			case c.Type == store.Numeric:
				p.b = appendField(p.b, []byte(v.(store.Decimal)))
			case c.Type == store.JSON:
				p.b = appendField(p.b, v.([]byte))
			default:
				p.b, err = appendValue(p.b, c, v)
			}
			if err != nil {
				return pipeStmt{}, &store.ValueError{Table: ti.name, Column: c.Name, RowID: r.id,
					Err: fmt.Errorf("%w: %v", store.ErrBadValue, err)}
			}
		}
		if nulls {
			binary.BigEndian.PutUint32(p.b[flag:], 1)
		}
		p.end(arrayOIDs[elem])
	}
	return pipeStmt{oids: p.oids, params: p.params(), n: len(g.rows)}, nil
}

// receiptParams encodes the parameters of the receipts statement.
func receiptParams(org string, ids []string, syncedAt time.Time) pipeStmt {
	p := paramBuf{}
	p.text(org)
	p.arrayHeader(oidText, len(ids))
	for _, id := range ids {
		p.b = appendField(p.b, []byte(id))
	}
	p.end(arrayOIDs[oidText])
	p.b = binary.BigEndian.AppendUint64(p.b, uint64(pgMicros(syncedAt)))
	p.end(oidTimestamptz)
	return pipeStmt{oids: p.oids, params: p.params(), n: -1}
}

// pgMicros is t in microseconds since 2000-01-01 UTC (see appendTimestamp).
func pgMicros(t time.Time) int64 {
	return (t.Unix()-pgEpoch.Unix())*1_000_000 + int64(t.Nanosecond()/1000)
}

// stmtName names a prepared statement after a hash of its text, so that
// each connection prepares each text once.
func stmtName(sql string) string {
	h := fnv.New64a()
	h.Write([]byte(sql))
	return "sfsync_" + strconv.FormatUint(h.Sum64(), 36)
}

var (
	binaryFormats = func() []int16 {
		f := make([]int16, 256)
		for i := range f {
			f[i] = 1
		}
		return f
	}()
	binaryResult = []int16{1}
)

// formats is the format codes of n binary parameters.
func formats(n int) []int16 {
	if n <= len(binaryFormats) {
		return binaryFormats[:n:n]
	}
	f := make([]int16, n)
	for i := range f {
		f[i] = 1
	}
	return f
}

// errParamTypes reports a statement whose parameter types, as the
// server describes them, differ from the encoded ones: a bug, caught
// before anything is sent.
var errParamTypes = errors.New("statement parameter types differ from the encoded values")

// sendPipeline prepares the statements on conn (once per connection),
// sends them with one Sync and adds what their RETURNING (xmax = 0) rows
// say to res: true for an insert, false for an update; rows not returned
// were stale. Outside a transaction block, PostgreSQL runs everything up
// to the Sync as one implicit transaction and commits it there.
func sendPipeline(ctx context.Context, conn *pgx.Conn, stmts []pipeStmt, res *store.UpsertResult) error {
	sds := make([]*pgconn.StatementDescription, len(stmts))
	for i, st := range stmts {
		sd, err := conn.Prepare(ctx, stmtName(st.sql), st.sql)
		if err != nil {
			return err
		}
		if len(sd.ParamOIDs) != len(st.oids) {
			return fmt.Errorf("%w: %d parameters, want %d", errParamTypes, len(st.oids), len(sd.ParamOIDs))
		}
		for k, oid := range sd.ParamOIDs {
			if oid != st.oids[k] {
				return fmt.Errorf("%w: parameter %d is type %d, encoded %d", errParamTypes, k+1, oid, st.oids[k])
			}
		}
		sds[i] = sd
	}
	p := conn.PgConn().StartPipeline(ctx)
	for i, st := range stmts {
		p.SendQueryStatement(sds[i], st.params, formats(len(st.params)), binaryResult)
	}
	if err := p.Sync(); err != nil {
		p.Close()
		return err
	}
	var acc store.UpsertResult
	err := func() error {
		for _, st := range stmts {
			r, err := p.GetResults()
			if err != nil {
				return err
			}
			rr, ok := r.(*pgconn.ResultReader)
			if !ok {
				return fmt.Errorf("pipeline: unexpected result %T", r)
			}
			got, ins := 0, 0
			for rr.NextRow() {
				if v := rr.Values(); len(v) == 1 && len(v[0]) == 1 && v[0][0] == 1 {
					ins++
				}
				got++
			}
			if _, err := rr.Close(); err != nil {
				return err
			}
			if st.n >= 0 {
				acc.Inserted += ins
				acc.Updated += got - ins
				acc.Stale += st.n - got
			}
		}
		r, err := p.GetResults()
		if err != nil {
			return err
		}
		if _, ok := r.(*pgconn.PipelineSync); !ok {
			return fmt.Errorf("pipeline: unexpected result %T, want the sync", r)
		}
		return nil
	}()
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	res.Inserted += acc.Inserted
	res.Updated += acc.Updated
	res.Stale += acc.Stale
	return nil
}
