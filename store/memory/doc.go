// Package memory is an in-memory store.Store, for tests and experiments.
//
// It implements the same rules as the SQL backends and passes the same
// conformance suite (store/storetest): the timestamp guard, partial
// columns, soft and hard deletes, validation with *store.ValueError, all
// or nothing batches, optimistic connection versions. Values are copied in
// and out, and timestamps are kept in UTC with millisecond precision, as a
// SQL backend keeps them, so a test that passes on it means the same on
// SQLite. Nothing survives the process; a Store cannot be reopened.
package memory
