package storetest_test

import (
	"context"
	"errors"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// plainStore turns every error of the wrapped store into a plain error
// with the same text: nothing matches a sentinel or *store.ValueError.
type plainStore struct{ s store.Store }

func plainErrors(s store.Store) store.Store { return plainStore{s} }

func plain(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(err.Error())
}

func plain1[T any](v T, err error) (T, error) { return v, plain(err) }

func (p plainStore) Close() error { return plain(p.s.Close()) }
func (p plainStore) SaveConnection(ctx context.Context, c *store.Connection) error {
	return plain(p.s.SaveConnection(ctx, c))
}
func (p plainStore) Connection(ctx context.Context, org string) (*store.Connection, error) {
	return plain1(p.s.Connection(ctx, org))
}
func (p plainStore) Connections(ctx context.Context) ([]*store.Connection, error) {
	return plain1(p.s.Connections(ctx))
}
func (p plainStore) DeleteConnection(ctx context.Context, org string) error {
	return plain(p.s.DeleteConnection(ctx, org))
}
func (p plainStore) EnsureTable(ctx context.Context, t store.Table) error {
	return plain(p.s.EnsureTable(ctx, t))
}
func (p plainStore) Table(ctx context.Context, name string) (store.Table, error) {
	return plain1(p.s.Table(ctx, name))
}
func (p plainStore) Tables(ctx context.Context) ([]store.Table, error) {
	return plain1(p.s.Tables(ctx))
}
func (p plainStore) Upsert(ctx context.Context, u store.Upsert) (store.UpsertResult, error) {
	return plain1(p.s.Upsert(ctx, u))
}
func (p plainStore) Delete(ctx context.Context, d store.Delete) (store.DeleteResult, error) {
	return plain1(p.s.Delete(ctx, d))
}
func (p plainStore) Count(ctx context.Context, org, object string, del bool) (int64, error) {
	return plain1(p.s.Count(ctx, org, object, del))
}
func (p plainStore) ReadRows(ctx context.Context, q store.ReadQuery) ([]store.Row, error) {
	return plain1(p.s.ReadRows(ctx, q))
}
func (p plainStore) IDs(ctx context.Context, org, object string) ([]string, error) {
	return plain1(p.s.IDs(ctx, org, object))
}
func (p plainStore) HasReceipts(ctx context.Context, org string, ids []string) (map[string]bool, error) {
	return plain1(p.s.HasReceipts(ctx, org, ids))
}
func (p plainStore) PruneReceipts(ctx context.Context, before time.Time) (int, error) {
	return plain1(p.s.PruneReceipts(ctx, before))
}
func (p plainStore) SaveObjectMeta(ctx context.Context, org string, m store.ObjectMeta) error {
	return plain(p.s.SaveObjectMeta(ctx, org, m))
}
func (p plainStore) ObjectMetas(ctx context.Context, org string) ([]store.ObjectMeta, error) {
	return plain1(p.s.ObjectMetas(ctx, org))
}
func (p plainStore) SyncState(ctx context.Context, org, object string) (store.SyncState, error) {
	return plain1(p.s.SyncState(ctx, org, object))
}
func (p plainStore) SaveSyncState(ctx context.Context, st store.SyncState) error {
	return plain(p.s.SaveSyncState(ctx, st))
}
func (p plainStore) SaveJob(ctx context.Context, j *store.Job) error {
	return plain(p.s.SaveJob(ctx, j))
}
func (p plainStore) Job(ctx context.Context, id string) (*store.Job, error) {
	return plain1(p.s.Job(ctx, id))
}
func (p plainStore) Jobs(ctx context.Context, f store.JobFilter) ([]*store.Job, error) {
	return plain1(p.s.Jobs(ctx, f))
}
