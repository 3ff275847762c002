package rest

import (
	"context"
	"net/http"
	"testing"
)

// TestLimitsKeepsNewest sends two calls at once whose answers arrive out
// of order: the stale, lower reading must not replace the newer one. A
// call sent after that, whose answer reports less usage (the rolling
// window dropped old calls), is newer and does replace it.
func TestLimitsKeepsNewest(t *testing.T) {
	c, mt := newClient(t)
	slowStarted := make(chan struct{})
	release := make(chan struct{})
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/slow", func(req *http.Request) (*http.Response, error) {
		close(slowStarted)
		<-release
		return respond(200, `{}`, "Sforce-Limit-Info", "api-usage=10/100")(req)
	})
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/fast", respond(200, `{}`, "Sforce-Limit-Info", "api-usage=20/100"))
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/later", respond(200, `{}`, "Sforce-Limit-Info", "api-usage=5/100"))
	ctx := context.Background()

	done := make(chan error, 1)
	go func() { done <- c.GetJSON(ctx, "slow", nil, nil) }()
	<-slowStarted
	if err := c.GetJSON(ctx, "fast", nil, nil); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if l := c.Limits(); l.Used != 20 || l.Max != 100 {
		t.Fatalf("after out-of-order answers: %+v, want 20/100", l)
	}

	if err := c.GetJSON(ctx, "later", nil, nil); err != nil {
		t.Fatal(err)
	}
	if l := c.Limits(); l.Used != 5 {
		t.Fatalf("after a later call: %+v, want 5/100", l)
	}
}

// TestLimitsFromErrorResponses checks that a failed answer's header counts
// too, and that a response without the header changes nothing.
func TestLimitsFromErrorResponses(t *testing.T) {
	c, mt := newClient(t)
	c.Retry = &RetryPolicy{}
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/x",
		respond(403, `[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}]`, "Sforce-Limit-Info", "api-usage=100/100"))
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/none", respond(200, `{}`))
	ctx := context.Background()
	_ = c.GetJSON(ctx, "x", nil, nil)
	if err := c.GetJSON(ctx, "none", nil, nil); err != nil {
		t.Fatal(err)
	}
	if l := c.Limits(); l.Used != 100 || l.Max != 100 {
		t.Fatalf("limits %+v, want 100/100", l)
	}
}
