// Package sftest is a fake Salesforce org served over HTTP, for tests and
// demos: OAuth 2.0, REST query and queryAll, describe, Bulk API 2.0 query,
// Outbound Message delivery with retries, API limits and fault injection.
//
// It imports nothing from this module: it is an independent model of
// Salesforce written from Salesforce's documented wire formats, so that a
// misreading in the client packages is not repeated in the fake that
// tests them.
package sftest
