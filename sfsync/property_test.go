package sfsync_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
)

var propertyRuns = flag.Int("sfsync.property", 3, "random sequences the property test runs")

// TestPropertyConverges runs random sequences of creates, updates (with
// nulls) and deletes in the fake org, delivered by Outbound Messages with
// random duplicates and reordering, interleaved with random incremental
// syncs. Whatever the sequence, once the deliveries are acknowledged the
// records they cover equal the org's (so a fault of the webhook path is
// not hidden by the sync that follows), and after one more incremental
// sync the local tables equal the org's data: every field of every row,
// NULLs included (calculated fields, which follow the clock, excepted).
func TestPropertyConverges(t *testing.T) {
	for run := range *propertyRuns {
		seed := uint64(run + 1)
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			t.Parallel()
			propertyRun(t, seed)
		})
	}
}

func propertyRun(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed*7919))
	// Contact has no Outbound Message: only syncs carry its changes, so
	// a fault of the incremental window is not hidden by the deliveries.
	objects := []string{"Account", "Invoice__c", "Contact"}
	e := newEnv(t, sftest.Options{Records: 12, Seed: int64(seed)}, func(c *sfsync.Config) { c.Objects = objects })
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)

	acctFields := []string{"Id", "Name", "Phone", "Industry", "Tier__c", "AnnualRevenue", "SystemModstamp"}
	id := e.sf.AddOutboundMessage(sftest.OutboundMessage{Name: "acct", Object: "Account", Fields: acctFields, EndpointURL: e.web.URL + "/webhook"})
	e.sync.SetAction(id, outboundAction("Account", acctFields))
	e.sf.AddOutboundMessage(sftest.OutboundMessage{Name: "inv", Object: "Invoice__c",
		Fields: []string{"Id", "Name", "Amount__c", "Status__c"}, EndpointURL: e.web.URL + "/webhook"})
	e.sf.SetOutboundChaos(r.Float64()*0.6, r.Float64()*0.8)

	var log []string
	undeleted := map[string]bool{} // no notification tells of an undelete
	defer func() {
		if t.Failed() {
			t.Logf("seed %d operations: %v", seed, log)
		}
	}()
	for step := range 40 {
		object := objects[r.IntN(len(objects))]
		live := e.ids(object)
		e.tick()
		switch op := r.IntN(11); {
		case op < 2 || len(live) == 0:
			f := map[string]any{"Name": fmt.Sprintf("new-%d", step)}
			if object == "Contact" {
				f = map[string]any{"LastName": fmt.Sprintf("new-%d", step)}
			}
			_, err := e.sf.Org.Create(object, f)
			log = append(log, "create "+object)
			check(t, err)
		case op < 7:
			id := live[r.IntN(len(live))]
			f := randomFields(r, object)
			log = append(log, fmt.Sprintf("update %s %v", id, f))
			check(t, e.sf.Org.Update(object, id, f))
		case op < 8:
			id := live[r.IntN(len(live))]
			log = append(log, "delete "+id)
			check(t, e.sf.Org.Delete(object, id))
		case op < 9:
			if gone := deletedIDs(e, object); len(gone) > 0 {
				id := gone[r.IntN(len(gone))]
				log = append(log, "undelete "+id)
				check(t, e.sf.Org.Undelete(object, id))
				undeleted[id] = true
			}
		default:
			log = append(log, "sync")
			e.run(sfsync.Request{}, store.JobSucceeded)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.sf.WaitOutbound(ctx); err != nil {
		t.Fatalf("deliveries not acknowledged: %v", err)
	}
	// What the deliveries alone stored, before a sync can repair it:
	// the listed fields of the direct action, every field of the one
	// read again by Id.
	e.assertLiveEqual("Account", acctFields, undeleted)
	e.assertLiveEqual("Invoice__c", nil, undeleted)
	e.settle()
	e.run(sfsync.Request{}, store.JobSucceeded)
	for _, o := range objects {
		e.assertEqual(o)
	}
}

func randomFields(r *rand.Rand, object string) map[string]any {
	maybeNil := func(v any) any {
		if r.IntN(4) == 0 {
			return nil
		}
		return v
	}
	if object == "Contact" {
		return map[string]any{
			"Title":      maybeNil([]string{"CEO", "CFO", "Engineer", "Buyer"}[r.IntN(4)]),
			"Department": maybeNil(fmt.Sprintf("dept %d", r.IntN(100))),
			"LastName":   fmt.Sprintf("Last%d", r.IntN(1000)),
		}
	}
	if object == "Account" {
		return map[string]any{
			"Phone":         maybeNil(fmt.Sprintf("+1 555 %04d", r.IntN(10000))),
			"Tier__c":       maybeNil([]string{"Platinum", "Gold", "Silver", "Bronze"}[r.IntN(4)]),
			"AnnualRevenue": maybeNil(float64(r.IntN(1_000_000))),
		}
	}
	return map[string]any{
		"Amount__c": maybeNil(float64(r.IntN(100000)) / 100),
		"Status__c": maybeNil([]string{"Draft", "Sent", "Paid", "Overdue"}[r.IntN(4)]),
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// deletedIDs lists the records of object in the recycle bin.
func deletedIDs(e *env, object string) []string {
	live := map[string]bool{}
	for _, id := range e.ids(object) {
		live[id] = true
	}
	var out []string
	for _, r := range e.sf.Org.Records(object, true) {
		if id := r["Id"].(string); !live[id] {
			out = append(out, id)
		}
	}
	return out
}
