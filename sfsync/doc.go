// Package sfsync is the sync engine: full and incremental sync of
// Salesforce objects into a store.Store, deletes, applying Outbound
// Messages, and scheduling. It wires packages oauth, soql, metadata and
// outbound together.
package sfsync
