// Package sftest is a fake Salesforce org served over HTTP, for tests and
// demos: OAuth 2.0, REST query and queryAll, describe, getUpdated and
// getDeleted, Bulk API 2.0 query, Outbound Message delivery with retries,
// API limits and fault injection.
//
// It imports nothing from this module: it is an independent model of
// Salesforce written from Salesforce's documented wire formats, so that a
// misreading in the client packages is not repeated in the fake that
// tests them.
//
// # Use
//
//	s := sftest.NewServer(sftest.Options{Records: 500})
//	defer s.Close()
//	access, _ := s.NewSession() // or run the OAuth flow against s.URL
//	// GET s.URL + "/services/data/v62.0/query?q=..." with
//	// "Authorization: Bearer " + access
//
// s.URL is both the login URL and the instance URL. Server.Org is the
// data: tests seed it (Create, Generate), change it (Update, Delete,
// Undelete, HardDelete, PurgeRecycleBin, AddField) and move its clock
// (SetNow, Advance). Every timestamp the fake writes, every session
// timeout and every locator lifetime runs on that clock, which only moves
// when a test moves it.
//
// # Schema
//
// Account (BillingAddress and ShippingAddress compounds with their
// components, custom Tier__c picklist, formula Account_Age_Days__c),
// Contact, Opportunity, Lead, Case, User, Task (polymorphic WhoId and
// WhatId), Invoice__c (lookup Account__c, relationship Account__r, and a
// field of every custom field type including a geolocation compound
// Location__c and a formula Days_Open__c) and the namespaced
// acme__Shipment__c. Ids are 18 characters with the object's key prefix
// and the case-safe suffix. Formula fields change with the clock without
// changing SystemModstamp, as in Salesforce.
//
// # Endpoints
//
// Under /services/data: the version list, vNN.N/query and /queryAll with
// nextRecordsUrl paging (queryAll continues under /query/ too), /sobjects/
// (describeGlobal), /sobjects/X/describe with Last-Modified and
// If-Modified-Since, /sobjects/X/{id}, /sobjects/X/updated and /deleted,
// /limits and /jobs/query (Bulk API 2.0). Under /services/oauth2: authorize
// (HTML pages a browser can complete; Server.Authorize approves without
// one), token, revoke, userinfo, and the identity URL /id/{org}/{user}.
// Generated outbound WSDLs are at /sftest/outbound/{actionID}/wsdl.
//
// Every call under /services/data/vNN.N needs a live access token (401
// INVALID_SESSION_ID otherwise), counts against the daily API limit (403
// REQUEST_LIMIT_EXCEEDED past it) and reports Sforce-Limit-Info. A request
// whose URI passes 16,384 bytes gets 414, whose URI and headers do, 431.
//
// # Outbound messages
//
// AddOutboundMessage defines a workflow outbound message (object, fields,
// endpoint, session id, criterion) and returns its ActionId; its WSDL is
// OutboundWSDL. Every Create or Update of a matching record queues a
// notification, sent in the background as Salesforce sends them: SOAP
// envelopes of up to 100 notifications carrying the record's values at
// send time, retried with exponential backoff (up to 2 hours apart, for
// 24 hours) until the listener returns a proper acknowledgement.
// Options.OutboundTimeScale shrinks the retry delays so tests run in
// seconds, Options.OutboundTimeout bounds the wait for one
// acknowledgement (60 s by default), SetOutboundChaos adds duplicate and
// out-of-order deliveries, Deliveries is the log of every attempt, and
// WaitOutbound blocks until every queued notification is acknowledged.
//
// # Faults and counters
//
// ExpireAccessTokens, RevokeRefreshToken, FailNext (503
// SERVER_UNAVAILABLE or any status and code), SetLatency, SetAPIUsage and
// ExhaustAPILimit, and ExpireLocators inject failures; Calls and APICalls
// count requests by endpoint, so tests can assert what work costs.
//
// # SOQL
//
// The fake parses and evaluates what sync tools send: field lists with
// parent paths (Owner.Name, Account__r.Tier__c, polymorphic Who.Name and
// What.Type), COUNT(), the aggregate functions with or without GROUP BY
// (AggregateResult rows, expr0 names, aliases), WHERE with AND,
// OR, NOT and parentheses (never mixed at one level), = != < <= > >= IN
// NOT IN LIKE INCLUDES EXCLUDES, string, number, boolean, null, date,
// datetime and relative date literals, ORDER BY with ASC/DESC and NULLS
// FIRST/LAST, LIMIT and OFFSET. It rejects what Salesforce rejects with
// Salesforce's error codes and messages, and rejects what it does not
// implement rather than accepting it silently.
//
// BUG(soql): HAVING, ROLLUP and CUBE, parent-to-child subqueries,
// semi-joins, TYPEOF, FIELDS(), time literals and functions (toLabel,
// FORMAT, date functions) are rejected with MALFORMED_QUERY; so are
// currency literals (the org is not multicurrency). Text comparison uses a simple Unicode
// case fold, not the user's locale; the user is in UTC, weeks start on
// Sunday and the fiscal year is the calendar year.
//
// BUG(limits): the daily API usage never decays (Salesforce's window is a
// rolling 24 hours); SetAPIUsage resets it.
//
// BUG(records): deleting a parent cascades to nothing (Salesforce deletes
// an Account's Contacts and Opportunities with it), and a lookup to a record in the recycle bin keeps its Id
// (Salesforce clears it and restores it on undelete); the related record
// reads as null.
package sftest
