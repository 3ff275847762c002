package sfsync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/salesforce-sync/rest"
	"github.com/sfsync/salesforce-sync/store"
)

func TestCheckpointRoundTrip(t *testing.T) {
	start := time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.UTC)
	tests := []struct {
		name string
		id   string
		at   time.Time
		text string
	}{
		{"with start", "001000000000001AAA", start, "001000000000001AAA 2026-03-04T05:06:07.891Z"},
		{"no clock", "001000000000001AAA", time.Time{}, "001000000000001AAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formatCheckpoint(tt.id, tt.at)
			if got != tt.text {
				t.Fatalf("format = %q, want %q", got, tt.text)
			}
			cp := parseCheckpoint(got)
			if cp.id != tt.id || !cp.start.Equal(tt.at) {
				t.Fatalf("parse(%q) = %+v", got, cp)
			}
		})
	}
	if cp := parseCheckpoint(""); cp.id != "" || !cp.start.IsZero() {
		t.Fatalf("empty checkpoint parsed as %+v", cp)
	}
}

func TestNewestKeepsOneRowPerID(t *testing.T) {
	t1 := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	t2 := t1.Add(time.Second)
	rows := []store.Row{
		{ID: "a", Values: map[string]any{"SystemModstamp": t2, "Name": "new"}},
		{ID: "b", Values: map[string]any{"Name": "b"}},
		{ID: "a", Values: map[string]any{"SystemModstamp": t1, "Name": "old"}},
		{ID: "b", Values: map[string]any{"Name": "b2"}},
	}
	got := newest(rows)
	want := []store.Row{
		{ID: "a", Values: map[string]any{"SystemModstamp": t2, "Name": "new"}},
		{ID: "b", Values: map[string]any{"Name": "b2"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("newest (-want +got):\n%s", d)
	}
}

func TestValidName(t *testing.T) {
	tests := map[string]bool{
		"Account": true, "Invoice__c": true, "acme__Shipment__c": true, "A1": true,
		"": false, "1abc": false, "_x": false, "Acc ount": false, "Account;DROP": false, "Account'": false,
	}
	for in, want := range tests {
		if got := validName(in); got != want {
			t.Errorf("validName(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestJobState(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want store.JobState
	}{
		{"ok", context.Background(), nil, store.JobSucceeded},
		{"reserve", context.Background(), fmt.Errorf("query: %w", rest.ErrLimitReserve), store.JobPaused},
		{"limit", context.Background(), fmt.Errorf("query: %w", rest.ErrRequestLimit), store.JobPaused},
		{"canceled", canceled, context.Canceled, store.JobCanceled},
		{"failed", context.Background(), errors.New("boom"), store.JobFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jobState(tt.ctx, tt.err, nil); got != tt.want {
				t.Fatalf("jobState = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFirstErrorPrefersBudget(t *testing.T) {
	budget := fmt.Errorf("x: %w", rest.ErrLimitReserve)
	if got := firstError([]error{nil, errors.New("other"), budget}); got != budget {
		t.Fatalf("firstError = %v, want the budget error", got)
	}
	if got := firstError([]error{nil, nil}); got != nil {
		t.Fatalf("firstError of nils = %v", got)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := (&Config{}).withDefaults()
	if c.Concurrency != DefaultConcurrency || c.BatchSize != DefaultBatchSize || c.BulkThreshold != DefaultBulkThreshold ||
		c.Lookback != DefaultLookback || c.Lag != DefaultLag || c.Interval != DefaultInterval || c.Logger == nil {
		t.Fatalf("defaults: %+v", c)
	}
	c = (&Config{Lookback: -1, Lag: -1}).withDefaults()
	if c.Lookback != 0 || c.Lag != 0 {
		t.Fatalf("negative lookback/lag should mean none: %v %v", c.Lookback, c.Lag)
	}
}

func TestSameID(t *testing.T) {
	if !sameID("04k000000000001", "04k000000000001AAA") || sameID("04k000000000001", "04k000000000002AAA") {
		t.Fatal("sameID compares the 15-character form")
	}
}

// FuzzParseCheckpoint: a checkpoint read back from any database text
// never panics, and a formatted one round-trips.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add("001000000000001AAA 2026-03-04T05:06:07.891Z")
	f.Add("001000000000001AAA")
	f.Add(" x y z ")
	f.Fuzz(func(t *testing.T, s string) {
		cp := parseCheckpoint(s)
		if cp.id == "" || strings.ContainsAny(cp.id, " \t\n") {
			return
		}
		again := parseCheckpoint(formatCheckpoint(cp.id, cp.start))
		if again.id != cp.id || !again.start.Equal(cp.start) {
			t.Fatalf("round trip of %q: %+v then %+v", s, cp, again)
		}
	})
}
