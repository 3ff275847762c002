// Package postgres is a store.Store on PostgreSQL (through pgx v5), for
// several sfsync instances sharing one database.
//
// # Layout
//
// Everything lives in one schema, DefaultSchema ("salesforce") unless
// WithSchema names another: one table per object, named with the object's
// API name (quoted, so Order, Group and acme__Shipment__c need no care),
// with a column per field, and the internal tables _sfsync_* (connections,
// sync state, jobs, receipts, the describes in _sfsync_objects and
// _sfsync_fields, leases, the declared columns and the schema version).
// Every object table has the primary key (_org_id, "Id"), both with the
// "C" collation so that Ids order by bytes, and the columns _synced_at and
// _deleted_at. Object names in _sfsync_sync_state and _sfsync_objects are
// unique per org on lower(name), as Salesforce API names are
// case-insensitive; query them with lower(object) = lower('account').
//
// Columns have native types: text, bigint, numeric(p,s) from the
// column's precision and scale (numeric unbounded when the precision is
// zero), double precision, boolean, date, timestamptz, time(3), jsonb and
// bytea. Values are checked by store.CheckValue, the rules every backend
// shares, and convert without loss: a decimal that the column's scale
// would round or its precision cannot hold is refused. What PostgreSQL
// itself cannot store is refused too, as a *store.ValueError wrapping
// store.ErrBadValue: text with a NUL character, JSON holding \u0000.
//
// Two things read back normalised. A numeric(p,s) column returns its
// decimals at scale s ("12.5" in numeric(18,2) reads "12.50"), and an
// unbounded one drops leading zeros ("007.50" reads "7.50"); the value is
// exact either way. jsonb keeps a JSON value, not its text: objects come
// back with jsonb's key order and spacing ({"b": 1, "a": [1, 2]} becomes
// {"a": [1, 2], "b": 1}).
//
// # Migrations
//
// The internal tables are created by versioned migrations embedded in the
// binary (migrations/NNNN_*.sql), applied in order in one transaction and
// recorded in _sfsync_schema_version. Open takes a transaction-level
// advisory lock keyed by the schema name around them, so instances that
// start at once migrate one after the other.
//
// # Writes
//
// Upsert checks every row before anything is sent, then writes the batch
// in one transaction (retried when PostgreSQL reports a deadlock or a
// serialization failure). Rows are grouped by the columns they set; an Id
// that appears twice in a batch is applied in order, in a later
// statement. A group of fewer than DefaultCopyThreshold rows, the shape
// of a webhook, is one INSERT ... SELECT FROM unnest($arrays) ... ON
// CONFLICT DO UPDATE ... WHERE guard, one array parameter per column, so
// that the statement stays prepared whatever the number of rows; the
// statements of a batch and its receipts go out as one pipeline, their
// parameters encoded by the Store in PostgreSQL's binary formats. A batch
// of such statements only is sent without BEGIN and COMMIT: PostgreSQL
// runs a pipeline up to its Sync message as one implicit transaction and
// commits it there, as durably as a COMMIT, so a webhook costs one round
// trip. Each connection prepares each statement text (one per table and
// column set) once. A larger
// group, the shape of a full sync, is copied with COPY into a temporary
// table and merged by one INSERT ... ON CONFLICT DO UPDATE ... WHERE
// guard. RETURNING (xmax = 0) counts the inserts and updates; the rest of
// a group was stale. The first large group of a batch is first copied
// straight into the table, in a savepoint, unless its lowest or highest
// Id is stored: when none of its Ids is stored (a first full sync) that
// is the whole write; when one is (or a concurrent writer inserts one
// meanwhile), the primary key refuses the COPY at that row, the
// savepoint is rolled back and the group goes through the stage and
// merge.
//
// # Several instances
//
// Two Stores on one schema (in one process or many) are safe together:
// every write is one transaction whose guard is evaluated by PostgreSQL
// against the latest committed row, connection saves check the version in
// the same statement, EnsureTable serialises on an advisory lock per
// table, and a schema cached by one instance is reloaded when a row names
// a column another instance added. Store implements store.Locker with
// lease rows (see TryLock), so that a sync of an org runs on one instance
// at a time and a crashed instance's lease expires.
package postgres
