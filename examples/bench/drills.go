package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Drill outcomes.
const (
	statusPass = "PASS"
	statusFail = "FAIL"
	statusSkip = "SKIP"
)

// errSkip marks a drill whose prerequisite is missing; the error
// wrapping it says which.
var errSkip = errors.New("skipped")

// drillResult is the outcome of one drill.
type drillResult struct {
	Name    string  `json:"name"`
	Status  string  `json:"status"`
	Seconds float64 `json:"seconds"`
	Detail  string  `json:"detail"`
}

// drill is one fault drill. run returns what it observed on success,
// an error wrapping errSkip when a prerequisite is missing, or the
// failure.
type drill struct {
	name    string
	timeout time.Duration
	run     func(ctx context.Context, d *drillEnv) (string, error)
}

// drillEnv is what a drill gets: a private directory and a logger.
type drillEnv struct {
	dir  string
	logf func(format string, args ...any)
}

// drills lists every fault drill, in the order they run; each is also
// a test (drills_test.go).
var drills = []drill{
	{name: "api-limit-mid-sync", timeout: 60 * time.Second, run: drillAPILimit},
	{name: "api-reserve-mid-sync", timeout: 60 * time.Second, run: drillAPIReserve},
	{name: "refresh-revoked-mid-sync", timeout: 60 * time.Second, run: drillRevoked},
	{name: "db-locked-during-webhooks", timeout: 90 * time.Second, run: drillDBLocked},
	{name: "db-full-during-webhooks", timeout: 90 * time.Second, run: drillDBFull},
	{name: "hostile-webhooks-under-load", timeout: 90 * time.Second, run: drillHostile},
	{name: "kill9-during-full-sync", timeout: 3 * time.Minute, run: drillKillFullSync},
	{name: "kill9-during-webhook-storm", timeout: 3 * time.Minute, run: drillKillWebhooks},
}

// runDrills runs every drill and returns their outcomes.
func runDrills(ctx context.Context, dir, only string, logf func(string, ...any)) []drillResult {
	var out []drillResult
	for i, d := range drills {
		if !strings.Contains(d.name, only) {
			continue
		}
		logf("drill %s", d.name)
		out = append(out, runDrill(ctx, d, &drillEnv{dir: fmt.Sprintf("%s/drill-%d", dir, i), logf: logf}))
	}
	return out
}

func runDrill(ctx context.Context, d drill, env *drillEnv) drillResult {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	start := time.Now()
	if err := os.MkdirAll(env.dir, 0o700); err != nil {
		return drillResult{Name: d.name, Status: statusFail, Detail: err.Error()}
	}
	detail, err := d.run(ctx, env)
	r := drillResult{Name: d.name, Status: statusPass, Seconds: time.Since(start).Seconds(), Detail: detail}
	switch {
	case errors.Is(err, errSkip):
		r.Status, r.Detail = statusSkip, err.Error()
	case err != nil:
		r.Status, r.Detail = statusFail, err.Error()
	}
	return r
}
