// Package metadata reads Salesforce object metadata (describeGlobal and
// describe, cached with If-Modified-Since), decides which objects can be
// synced, and maps Salesforce field types to store columns.
//
// # Describes and the cache
//
// Client.DescribeGlobal and Client.Describe keep every response with its
// Last-Modified header in a Cache (in memory unless the caller supplies a
// persistent one) and send it back as If-Modified-Since. A 304 answer
// returns the value decoded before, without decoding anything. When the
// server sends no Last-Modified, nothing is cached. Field types this
// package does not know decode as they are and map to a JSON column.
//
// # Selection
//
// Syncable says whether an object can be extracted at all; DefaultSelection
// (the zero Selection) picks the common standard objects of
// DefaultStandardObjects plus every custom object (__c), each queryable,
// retrieveable, replicateable and not deprecated, and leaves out custom
// settings, custom metadata, Share, History and Feed objects, events, big
// and external objects. A Selection of Names or a Match predicate
// overrides it.
//
// # The mapper
//
// One table (typeMap in mapper.go) maps every field type of the WSDL
// enumeration to a store column. Numbers with a precision and scale are
// Numeric and keep their exact digits; compound parents (address,
// location) and base64 have no column (their components are ordinary
// fields; base64 comes back from a query only as a URL); anyType, json,
// complexvalue and future types are JSON and are selected through REST
// only. RESTFields and BulkFields list what each API selects, Value turns
// a raw value from either API into the store value of a column, and
// Compare lists what changed between two describes so that tables can
// evolve.
package metadata
