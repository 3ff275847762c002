package main

import (
	"context"
	"errors"
	"testing"
)

// TestDrills runs every fault drill of the -drills table as a subtest
// (go test -run 'TestDrills/kill9' runs one). A drill whose
// prerequisite is missing (the go command, to build examples/server)
// skips with the reason.
func TestDrills(t *testing.T) {
	for _, d := range drills {
		t.Run(d.name, func(t *testing.T) {
			logf := func(format string, args ...any) { t.Logf(format, args...) }
			ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
			defer cancel()
			detail, err := d.run(ctx, &drillEnv{dir: t.TempDir(), logf: logf})
			switch {
			case errors.Is(err, errSkip):
				t.Skip(err)
			case err != nil:
				t.Fatal(err)
			}
			t.Log(detail)
		})
	}
}
