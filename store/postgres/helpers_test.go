package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfsync/salesforce-sync/store"
)

// dsnEnv names the environment variable with the test server's DSN.
const dsnEnv = "SFSYNC_POSTGRES_DSN"

func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skip(dsnEnv + " is not set: these tests need a PostgreSQL server " +
			"(.ci/run starts one and sets it, e.g. postgres://postgres@127.0.0.1:5432/sfsync_test?sslmode=disable)")
	}
	return dsn
}

// newSchema returns a schema name no other test uses, and drops that
// schema when the test ends.
func newSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "sfsync_test_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+quoteIdent(name)+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// openSchema opens a Store on schema, closed when the test ends.
func openSchema(tb testing.TB, schema string, opts ...Option) *Store {
	tb.Helper()
	opts = append([]Option{WithSchema(schema), WithMaxConns(4)}, opts...)
	s, err := Open(context.Background(), testDSN(tb), opts...)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// openTest opens a Store on a fresh schema of its own.
func openTest(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	return openSchema(tb, newSchema(tb), opts...)
}

func ms(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

const (
	org1 = "00D000000000001AAA"
	org2 = "00D000000000002AAA"
)

// accountTable has the columns most tests use.
var accountTable = store.Table{Name: "Account", Columns: []store.Column{
	{Name: "Id", Type: store.Text},
	{Name: "Name", Type: store.Text},
	{Name: "AnnualRevenue", Type: store.Numeric, Precision: 18, Scale: 2},
	{Name: "NumberOfEmployees", Type: store.Integer},
	{Name: "IsDeleted", Type: store.Boolean},
	{Name: "LastModifiedDate", Type: store.DateTime},
	{Name: "SystemModstamp", Type: store.DateTime},
}}

func mustEnsure(tb testing.TB, s store.Store, t store.Table) {
	tb.Helper()
	if err := s.EnsureTable(context.Background(), t); err != nil {
		tb.Fatalf("ensure %s: %v", t.Name, err)
	}
}

func mustUpsert(tb testing.TB, s store.Store, u store.Upsert) store.UpsertResult {
	tb.Helper()
	res, err := s.Upsert(context.Background(), u)
	if err != nil {
		tb.Fatalf("upsert %s: %v", u.Object, err)
	}
	return res
}

// readOne returns the row with the given Id, deleted or not, or nil.
func readOne(tb testing.TB, s store.Store, org, object, id string) map[string]any {
	tb.Helper()
	rows, err := s.ReadRows(context.Background(), store.ReadQuery{OrgID: org, Object: object, IncludeDeleted: true})
	if err != nil {
		tb.Fatalf("read %s: %v", object, err)
	}
	for _, r := range rows {
		if r.ID == id {
			return r.Values
		}
	}
	return nil
}
