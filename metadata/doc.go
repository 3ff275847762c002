// Package metadata reads Salesforce object metadata (describeGlobal and
// describe, cached with If-Modified-Since), decides which objects can be
// synced, and maps Salesforce field types to store columns.
package metadata
