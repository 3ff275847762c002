// Package sqlite is the default, embedded store.Store, on SQLite (through
// github.com/mattn/go-sqlite3, which needs cgo).
//
//	s, err := sqlite.Open(ctx, "sfsync.db")
//
// # Durability and concurrency
//
// The file uses the WAL journal, foreign keys and a busy timeout. The
// single writer connection runs with synchronous=FULL, under which a
// commit that returned survives a power loss (with NORMAL, WAL mode may
// lose the last commits). All writes go through one goroutine that owns
// that connection; reads use a separate pool of query-only connections
// and run in parallel with the writer.
//
// Group commit: concurrent writes (webhooks applying a few rows each)
// that are waiting when the writer becomes free share one transaction,
// each inside its own SAVEPOINT, so one WAL sync serves them all. A write
// whose statements fail is rolled back to its savepoint and gets its
// error; the others commit. Every call returns after its commit. Schema
// changes (EnsureTable) run in a transaction of their own.
//
// Every row of a batch is validated and converted on the caller's
// goroutine before the batch is submitted, so a bad row fails the call
// without touching the database, and the conversion runs in parallel
// with the writer instead of holding it (a 2,000-row full-sync batch
// would otherwise delay every webhook queued behind it).
//
// Prepared statements are cached per (table, column set), least recently
// used dropped first past a bound, and emptied when EnsureTable changes a
// table.
//
// WAL checkpoints run in the background on a connection of their own
// (PASSIVE, every CheckpointInterval while writes happen), so commits do
// not wait for them; the writer checkpoints by itself only if the WAL
// passes 200 MB.
//
// # Tables a user can query
//
// Each synced object is a table named with its API name ("Account",
// "acme__Shipment__c"), with a column per field named with the field's
// API name, plus "_org_id", "_synced_at" and "_deleted_at" (NULL while
// the record exists); the primary key is ("_org_id", "Id"). Identifiers
// are always quoted, so write them quoted in SQL too: SELECT "Name" FROM
// "Order". Values are stored as:
//
//	Text, Time      TEXT ("15:04:05.000Z" for a Time)
//	Integer         INTEGER
//	Numeric         TEXT, exactly as Salesforce gave it ("1234.50")
//	Real            REAL
//	Boolean         INTEGER 0 or 1
//	Date            TEXT "2006-01-02"
//	DateTime        TEXT "2006-01-02T15:04:05.000Z", always UTC, so text order is time order
//	JSON            TEXT (readable with SQLite's json functions)
//	Blob            BLOB
//
// The describe of every synced object is kept per org in _sfsync_objects
// (org_id, name, label, custom, updated_at) and _sfsync_fields (org_id,
// object, position, name, label, type, custom, length, precision, scale,
// nillable, reference_to, relationship_name, picklist_values; the lists
// as JSON arrays). For example, the custom fields of Account:
//
//	SELECT name, label, type FROM _sfsync_fields
//	WHERE object = 'Account' AND custom = 1 ORDER BY position;
//
// The other internal tables are _sfsync_connections (sealed tokens only),
// _sfsync_tables and _sfsync_columns (the stored schemas),
// _sfsync_sync_state, _sfsync_jobs, _sfsync_receipts and
// _sfsync_schema_version. Object names are COLLATE NOCASE in the keys of
// _sfsync_tables, _sfsync_objects and _sfsync_sync_state, as Salesforce
// API names are case-insensitive. They are created by versioned migrations
// embedded in the binary (migrations/*.sql), applied in order at Open; a
// file written by a newer version is refused.
package sqlite
