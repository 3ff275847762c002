// Package sfsync is the sync engine: full and incremental sync of
// Salesforce objects into a store.Store, deletes, applying Outbound
// Messages, and scheduling. It wires packages oauth, soql, metadata and
// outbound together.
//
// # Syncing an org
//
// A Syncer (New) syncs the selected objects of an org, several at once
// (Config.Concurrency). For each object it describes the object, creates
// or evolves its table (a new custom field becomes a column without a
// reload), stores the describe (store.ObjectMeta), and then:
//
//   - with no watermark, or in ModeFull, extracts every record ordered by
//     Id, through REST query or, from Config.BulkThreshold records, Bulk
//     API 2.0. A checkpoint (the last committed Id) is saved with every
//     batch, so an extract stopped by a crash, a cancel, an expired query
//     locator or the API budget goes on where it stopped;
//   - else fetches the records whose SystemModstamp is in
//     (watermark - Lookback, now - Lag], and the deletes queryAll reports
//     in the same window.
//
// "now" is Salesforce's clock, read from the Date header of the API's
// versions resource, never the local clock. Should Salesforce send no
// usable Date header, a window has no upper bound and the next one starts
// from the newest timestamp the object held when this one began (one
// extra query), never from the newest record read. A watermark is saved
// only when it advances, after the rows are committed. While one batch is
// written the next is fetched. A full sync over rows already synced also
// compares Id sets afterwards, so it drops the rows of records deleted
// for good.
//
// Deletes that queryAll can no longer see (purged from the recycle bin,
// or hard-deleted) are found by comparing Id sets, when a watermark is
// older than RecycleBinHorizon and every Config.ReconcileInterval. An Id
// listing that fails marks nothing deleted; one that returns fewer Ids
// than the object holds is skipped (logged, in Stats.RecentErrors).
// Formula and roll-up fields, which change without moving
// SystemModstamp, are re-read every Config.CalculatedInterval.
//
// Progress goes to Config.Progress as Events, to the job record in the
// Store (at most every second), and to the logger: a line when an object
// starts and finishes, and at most every few seconds while it runs.
//
// # Outbound Messages
//
// Apply stores the records of an Outbound Message; OutboundHandler wires
// Verify, Apply and Applied into an outbound.Handler. Rows get only the
// delivered fields plus the action's listed fields that were absent
// (NULL), guarded by timestamp; without a timestamp or a known field list
// the records are read again by Id (through queryAll: a record in the
// recycle bin, or no longer returned at all, becomes a tombstone). Receipts are written in the same
// transaction as the rows, before the acknowledgement.
//
// # Scheduling
//
// Run syncs every connected org incrementally every Config.Interval,
// jittered, and never runs two syncs of one org at once: in its process
// by construction, and across processes through store.Locker when the
// Store implements it.
package sfsync

// BUG(values): a value the Store refuses as not fitting its column (such
// as a number beyond the field's precision) is left out of its row by a
// sync, rather than failing the whole object for good: the column keeps
// its stored value (NULL for a new row). The loss is logged at Warn,
// counted in Stats.ValuesLeftOut, listed in Stats.RecentErrors and named
// in the object's progress Error of the job record. An Outbound Message
// with such a value fails instead (Salesforce delivers it again), so that
// an acknowledgement always means the message was stored whole.

// BUG(incremental): an incremental window stopped by the API budget is
// fetched again from its start on the next run (only full extracts keep a
// checkpoint); the upserts are idempotent, so this costs calls, not data.
