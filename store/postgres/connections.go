package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfsync/salesforce-sync/store"
)

const connColumns = `org_id, user_id, username, instance_url, identity_url, login_url,
	scopes, status, issued_at, sealed, version, created_at, updated_at`

// SaveConnection inserts c when c.Version is 0 and none is stored, or
// updates it when c.Version equals the stored version; then c.Version,
// c.CreatedAt and c.UpdatedAt hold what was stored. Otherwise it returns
// store.ErrVersionConflict and changes nothing. The check and the write
// are one statement, so two instances refreshing one token cannot both
// win.
func (s *Store) SaveConnection(ctx context.Context, c *store.Connection) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if c.OrgID == "" || checkText(c.OrgID) != nil {
		return &store.ValueError{Table: "connections", Column: "OrgID",
			Err: fmt.Errorf("%w: org ID %q", store.ErrBadValue, c.OrgID)}
	}
	for _, v := range []string{c.UserID, c.Username, c.InstanceURL, c.IdentityURL, c.LoginURL, string(c.Status)} {
		if err := checkText(v); err != nil {
			return &store.ValueError{Table: "connections", RowID: c.OrgID,
				Err: fmt.Errorf("%w: %v", store.ErrBadValue, err)}
		}
	}
	at := now()
	args := []any{c.OrgID, c.UserID, c.Username, c.InstanceURL, c.IdentityURL, c.LoginURL,
		emptyToNil(c.Scopes), string(c.Status), dbTime(c.IssuedAt), c.Sealed, c.Version, at}
	var sql string
	if c.Version == 0 {
		sql = `INSERT INTO ` + s.qschema + `._sfsync_connections (` + connColumns + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 + 1, $12, $12)
			ON CONFLICT (org_id) DO NOTHING
			RETURNING version, created_at, updated_at`
	} else {
		sql = `UPDATE ` + s.qschema + `._sfsync_connections SET
			user_id = $2, username = $3, instance_url = $4, identity_url = $5, login_url = $6,
			scopes = $7, status = $8, issued_at = $9, sealed = $10, version = $11 + 1, updated_at = $12
			WHERE org_id = $1 AND version = $11
			RETURNING version, created_at, updated_at`
	}
	var version int64
	var created, updated time.Time
	err := s.pool.QueryRow(ctx, sql, args...).Scan(&version, &created, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("save connection %s: %w", c.OrgID, store.ErrVersionConflict)
	}
	if err != nil {
		return s.wrap("save connection "+c.OrgID, err)
	}
	c.Version, c.CreatedAt, c.UpdatedAt = version, created.UTC(), updated.UTC()
	return nil
}

// Connection returns the connection of orgID, or store.ErrNotFound.
func (s *Store) Connection(ctx context.Context, orgID string) (*store.Connection, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+connColumns+` FROM `+s.qschema+
		`._sfsync_connections WHERE org_id = $1`, orgID)
	if err != nil {
		return nil, s.wrap("connection "+orgID, err)
	}
	cs, err := collectConnections(rows)
	if err != nil {
		return nil, s.wrap("connection "+orgID, err)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("connection %s: %w", orgID, store.ErrNotFound)
	}
	return cs[0], nil
}

// Connections lists every connection, ordered by org ID.
func (s *Store) Connections(ctx context.Context) ([]*store.Connection, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+connColumns+` FROM `+s.qschema+
		`._sfsync_connections ORDER BY org_id`)
	if err != nil {
		return nil, s.wrap("connections", err)
	}
	cs, err := collectConnections(rows)
	if err != nil {
		return nil, s.wrap("connections", err)
	}
	return cs, nil
}

// DeleteConnection removes the connection, or returns store.ErrNotFound.
func (s *Store) DeleteConnection(ctx context.Context, orgID string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM `+s.qschema+`._sfsync_connections WHERE org_id = $1`, orgID)
	if err != nil {
		return s.wrap("delete connection "+orgID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete connection %s: %w", orgID, store.ErrNotFound)
	}
	return nil
}

func collectConnections(rows pgx.Rows) ([]*store.Connection, error) {
	defer rows.Close()
	var out []*store.Connection
	for rows.Next() {
		var (
			c      store.Connection
			status string
			issued *time.Time
		)
		if err := rows.Scan(&c.OrgID, &c.UserID, &c.Username, &c.InstanceURL, &c.IdentityURL,
			&c.LoginURL, &c.Scopes, &status, &issued, &c.Sealed, &c.Version, &c.CreatedAt,
			&c.UpdatedAt); err != nil {
			return nil, err
		}
		c.Status = store.ConnectionStatus(status)
		c.IssuedAt = goTime(issued)
		c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
		c.Scopes = emptyToNil(c.Scopes)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// emptyToNil stores and returns an empty list as nil, so that a list
// reads back as it was written whether it was nil or empty.
func emptyToNil(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}
