package sfsync

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sfsync/salesforce-sync/metadata"
	"github.com/sfsync/salesforce-sync/rest"
	"github.com/sfsync/salesforce-sync/soql"
)

// orgClients are the API clients of one org for one job or message. They
// are built fresh each time, so that the API usage a job stopped at is
// read again from Salesforce rather than remembered; the describe cache
// (If-Modified-Since) is kept per org across them.
type orgClients struct {
	orgID string
	rest  *rest.Client
	meta  *metadata.Client
	soql  *soql.Client
}

// orgClients returns new clients of an org at its current instance URL
// (it changes on a pod migration or a new login).
func (s *Syncer) orgClients(ctx context.Context, orgID string) (*orgClients, error) {
	conn, err := s.cfg.Connections.Connection(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", orgID, err)
	}
	hc, err := s.cfg.Connections.Client(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("client %s: %w", orgID, err)
	}
	s.mu.Lock()
	cache := s.describes[orgID]
	if cache == nil {
		cache = &metadata.MemoryCache{}
		s.describes[orgID] = cache
	}
	s.mu.Unlock()
	rc := &rest.Client{InstanceURL: conn.InstanceURL, HTTPClient: hc, LimitReserve: s.cfg.LimitReserve}
	return &orgClients{
		orgID: orgID,
		rest:  rc,
		meta:  &metadata.Client{REST: rc, Cache: cache},
		soql:  &soql.Client{REST: rc, BatchSize: s.cfg.QueryBatchSize},
	}, nil
}

// clock is Salesforce's time at the start of a job.
type clock struct {
	now time.Time
	ok  bool // false: the server sent no Date header
}

// serverNow reads Salesforce's clock from the Date header of the API
// versions resource (one light call). The local clock is never used for
// windows and watermarks: it may drift from Salesforce's.
func (oc *orgClients) serverNow(ctx context.Context) (time.Time, bool) {
	resp, err := oc.rest.Do(ctx, &rest.Request{Method: http.MethodGet, Path: "/services/data/"})
	if err != nil {
		return time.Time{}, false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	t, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// selectObjects lists the configured objects, or those Selection picks
// from describeGlobal.
func (s *Syncer) selectObjects(ctx context.Context, oc *orgClients) ([]string, error) {
	if len(s.cfg.Objects) > 0 {
		return s.cfg.Objects, nil
	}
	g, err := oc.meta.DescribeGlobal(ctx)
	if err != nil {
		return nil, fmt.Errorf("describe global: %w", err)
	}
	return s.cfg.Selection.Select(g), nil
}
