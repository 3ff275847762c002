// Package rest is the transport shared by the Salesforce API clients:
// versioned URLs, JSON decoding, the typed *Error for failed responses,
// Sforce-Limit-Info, and retries with backoff for idempotent calls.
package rest
