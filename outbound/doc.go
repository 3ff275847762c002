// Package outbound decodes Salesforce Outbound Messages (SOAP 1.1
// webhooks), gives them a JSON form, writes the acknowledgement and fault
// responses, and serves them with an http.Handler that acknowledges a
// message only after it has been applied.
//
// It imports nothing of this module but the standard library and
// github.com/beevik/etree, and it never logs: Handler.OnError reports
// failures to the caller.
//
// # Decoding
//
// Decode reads the envelope of SALESFORCE.md 5.2 into a Message: the
// OrganizationId, ActionId, SessionId (a Secret, redacted when printed),
// EnterpriseUrl and PartnerUrl, and up to 100 Notifications, each with its
// Id (the key to deduplicate on) and an SObject whose Type comes from
// xsi:type and whose Fields keep message order. Elements are matched by
// namespace URI, never by prefix. Values stay strings: typing them needs
// the object's describe. A nil value is null (xsi:nil="true" or an empty
// element); a field that is absent is not in Fields at all.
//
// Salesforce's own layout is read by a strict, allocation-light scanner;
// anything else (other prefixes and declarations are fine, but comments,
// CDATA, character references, a SOAP Header, unknown elements, or any
// error) goes through an etree document, which gives the same result for
// what both accept and alone reports errors. Every error wraps a sentinel
// (ErrNotXML, ErrNotEnvelope, ErrNotNotifications, ErrMalformed,
// ErrTooManyNotifications, ErrBadNotification, ErrBadSObject, ErrDoctype,
// ErrLimit, ErrTooLarge) and never quotes a field value or the session id.
//
// Hostile input: a DOCTYPE is refused outright, so there are no external
// entities and no entity expansion; only UTF-8 is read; a Decoder bounds
// size (16 MiB by default), depth and element count before any tree is
// built.
//
// # JSON form
//
// json.Marshal of a Message gives
//
//	{"organizationId":"00D...","actionId":"04k...","sessionId":null,
//	 "enterpriseUrl":"...","partnerUrl":"...",
//	 "notifications":[{"id":"04l...","sObject":{"type":"Account",
//	 "fields":{"Id":"001...","Name":"Acme","Tier__c":null}}}]}
//
// with sessionId "[redacted]" when set; Message.JSON(true) reveals it.
// DecodeJSON reads the same shape, for custom webhooks.
//
// # Field lists
//
// Salesforce leaves a selected field out of a notification when it is
// null, so an absent field means "null" only if the action selected it.
// ParseWSDL reads the WSDL Setup offers for an outbound message into an
// Action (object and fields); Actions keys them by ActionId and can also
// be filled by hand.
//
// # Serving
//
// Handler answers 200 with the acknowledgement of SALESFORCE.md 5.4
// (WriteAck) only after Apply returned nil, and a SOAP fault (WriteFault)
// otherwise, so Salesforce keeps the message and retries it for up to 24
// hours. Notifications that Applied reports as already applied are
// acknowledged without being applied again. Verify decides which orgs and
// actions are accepted; StaticVerify covers fixed lists.
//
// # Security
//
// The OrganizationId check in Verify is the main defence against forged
// messages: anyone can reach a public URL, and Salesforce's IP ranges
// prove only that a message came from some org. Two more layers are
// available:
//
//   - Handler.PathToken: a long random secret as the last segment of the
//     endpoint URL configured in Salesforce; other paths get a bare 404.
//   - Mutual TLS: in Setup, require the endpoint to see Salesforce's
//     client certificate ("Download Client Certificate" under API), and
//     serve with MutualTLSConfig, pinning that certificate. TLS then
//     refuses any client without it before a byte of the message is read.
//
// For the JSON form, Handler.SigningSecret enables it and every request
// must carry SignatureHeader, an HMAC-SHA256 of the body (Sign,
// CheckSignature, compared in constant time).
//
// # Zero values
//
// The zero Decoder decodes with the default limits. A Handler's zero
// value is safe but refuses everything with a 500 fault (so Salesforce
// keeps the messages queued) until Verify and Apply are set; every other
// field's zero value is a default or "off", as its comment says. A nil
// Actions is empty and must not be added to; make one with Actions{}.
//
// # Salesforce documentation
//
// [Understanding Outbound Messaging] describes delivery and retries,
// [Understanding the Outbound Messaging WSDL] the message and WSDL
// ParseWSDL reads, and [Building a Listener] the acknowledgement.
//
// [Understanding Outbound Messaging]: https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-understanding.html
// [Understanding the Outbound Messaging WSDL]: https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html
// [Building a Listener]: https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-listener.html
package outbound

// BUG(json): the JSON form's signature covers the body only, with no
// timestamp, so a captured request can be replayed. Replays carry the same
// notification ids and are acknowledged without being applied again while
// their receipts are kept; after receipts are pruned, only the engine's
// SystemModstamp guard keeps an old replay from overwriting newer data.

// BUG(decode): a Message decoded from Salesforce's usual layout shares
// memory with the request body, so keeping any of its strings keeps the
// whole body (up to MaxBodyBytes) alive; copy what you keep past Apply.
