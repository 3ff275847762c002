package postgres

import (
	"context"
	"testing"

	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/storetest"
)

// TestConformance runs the suite every Store passes, each case on a
// schema of its own; Reopen opens a new Store on the same schema.
func TestConformance(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t)
	}, storetest.RunOptions{Reopen: func(t *testing.T, s store.Store) store.Store {
		schema := s.(*Store).Schema()
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		s2, err := Open(context.Background(), testDSN(t), WithSchema(schema), WithMaxConns(4))
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		return s2
	}})
}
