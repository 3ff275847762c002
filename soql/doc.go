// Package soql builds safe SOQL and runs it: literals and a small builder
// that cannot produce an injection, Query and QueryAll as streaming
// iterators that follow nextRecordsUrl, full-object extracts that split
// wide field lists, and Bulk API 2.0 query jobs streamed from CSV.
//
// # Building queries
//
// Values reach a statement only through the Literal constructors (String,
// ID, Int, Float, Decimal, Bool, Null, Date, DateTime, RelativeDate) and
// the LIKE patterns (Contains, HasPrefix, HasSuffix, Exactly, Wildcard),
// which escape and format them as SOQL requires (SOQL.md 2.4, "What a
// builder must guarantee"): backslash first, then quotes, control
// characters as \n, \r, \t or \uXXXX, % and _ escaped in LIKE patterns,
// numbers in plain decimal notation, datetimes in UTC. Identifiers cannot
// be escaped in SOQL, so they are validated: each dot-separated segment is
// an ASCII letter followed by letters, digits and underscores, not a
// reserved word, at most five relationship levels. Conditions are always
// parenthesised, so AND and OR never mix at one level.
//
// # Reading records
//
// Client.Query and Client.QueryAll return a Cursor whose Records method is
// an iter.Seq2 that fetches one page at a time (Sforce-Query-Options
// batchSize), so memory is bounded by a page whatever the row count. Pages
// are decoded by a scanner built for Salesforce's record shape rather than
// by encoding/json into maps: each record's JSON is copied once into its
// own string and every string or number value without escapes is a slice
// of it (so a kept record holds its own text, never the whole page).
// Values are ordinary interface values (the package uses no unsafe), so a
// page costs one allocation per string or number value and a few per
// record.
//
// A Record keeps the fields in response order and their JSON types:
// json.Number keeps a number's digits, parent relationships are *Record,
// child relationships *Subquery, compound fields map[string]any, and
// Raw gives the record's JSON. Type and URL expose attributes.
//
// Errors are typed: an expired locator matches rest.ErrInvalidQueryLocator
// (restart from a checkpoint with Extract.AfterID), an expired session
// rest.ErrSessionExpired (the oauth client refreshes and the same
// nextRecordsUrl is fetched again, transparently to the cursor).
//
// # Extracting objects
//
// Extract reads an object ordered by Id. When the query URI would pass
// MaxURILength (Salesforce allows 16,384 bytes of URI plus headers), the
// field list is split into several queries, each selecting Id and ordered
// by Id, whose rows are merged by Id while streaming. BulkExtract runs a
// Bulk API 2.0 job instead: create, poll with growing waits, stream the
// CSV result sets by locator, check the row count. Choose and ExtractAuto
// pick between them by a COUNT() against a threshold
// (DefaultBulkThreshold, 10,000) and fall back to REST when Bulk refuses
// the object or its fields.
package soql
