// Package fakeoutbound models Salesforce Outbound Messages for the fake org
// (sftest), written from SALESFORCE.md section 5.
//
// A [Definition] gets an ActionId (04k...) and a generated WSDL in the
// layout of section 5.3. [Queue.Enqueue] queues a notification (04l...);
// the definition's delivery goroutine batches what is queued, up to 100
// notifications per request, into the SOAP envelope of section 5.2 (Id
// first, the other selected fields in Salesforce's case-sensitive
// alphabetical order, null and empty fields left out, values taken from
// Config.Snapshot at send time) and POSTs it with the headers of 5.1.
//
// Only the acknowledgement of section 5.4 counts (see [CheckAck]). After
// any other answer the message is retried as a unit: InitialRetryInterval
// (15 s) after the first failure, doubling each time, at most
// MaxRetryInterval (2 h) apart, until it is MaxAge (24 h) old, when it is
// dropped (5.5). Config.TimeScale scales all of these, so that a test runs
// the whole 24-hour schedule in under a second. Every HTTP attempt is
// recorded in [Queue.Deliveries]; [Queue.Wait] waits until every queued
// notification is acknowledged. [Queue.SetChaos] adds the duplicates and
// reordering that Salesforce's at-least-once delivery allows.
//
// Known deviation: a definition with IncludeSessionID may use an http://
// endpoint, which Salesforce refuses (5.1), so that tests can use
// httptest servers.
//
// The queue is safe for concurrent use. Each definition has one delivery
// goroutine, which [Queue.Close] stops.
package fakeoutbound
