// Package soql builds safe SOQL and runs it: literals and a small builder
// that cannot produce an injection, Query and QueryAll as streaming
// iterators that follow nextRecordsUrl, and Bulk API 2.0 query jobs
// streamed from CSV.
package soql
