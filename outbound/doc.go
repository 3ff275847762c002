// Package outbound decodes Salesforce Outbound Messages (SOAP 1.1
// webhooks), gives them a JSON form, writes the acknowledgement and fault
// responses, and serves them with an http.Handler that acknowledges a
// message only after it has been applied.
package outbound
