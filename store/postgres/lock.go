package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// releaseTimeout bounds the statement that gives a lease back.
const releaseTimeout = 5 * time.Second

// lease is a held lock of TryLock and its renewer.
type lease struct {
	s      *Store
	name   string
	holder string
	ttl    time.Duration
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// TryLock takes the lease called name for ttl, or reports false when
// another holder has it; it implements store.Locker. The lease is a row of
// _sfsync_locks with an expiry on the database's clock (so clocks of the
// instances need not agree). While it is held, the Store renews it every
// ttl/3; release (or Close) deletes the row. When the holding process
// dies its lease ends ttl later, and another instance takes it over. The
// lock is not reentrant: a second TryLock of a held name reports false,
// also from the same Store.
//
// A lease row was chosen over PostgreSQL's session advisory locks: an
// advisory lock would pin one pooled connection per held lock for the
// length of a sync, and would vanish silently with that connection (a
// network blip, a server restart) while its holder went on working. A
// lease survives reconnects and states its expiry in a table an
// operator can read.
func (s *Store) TryLock(ctx context.Context, name string, ttl time.Duration) (release func(), ok bool, err error) {
	if err := s.checkOpen(); err != nil {
		return nil, false, err
	}
	if name == "" || checkText(name) != nil {
		return nil, false, fmt.Errorf("try lock: invalid lease name %q", name)
	}
	if ttl < time.Millisecond {
		return nil, false, fmt.Errorf("try lock %s: ttl %v is too short", name, ttl)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, false, fmt.Errorf("try lock %s: %w", name, err)
	}
	l := &lease{s: s, name: name, holder: hex.EncodeToString(b[:]), ttl: ttl,
		stop: make(chan struct{}), done: make(chan struct{})}
	var got string
	err = s.pool.QueryRow(ctx, `INSERT INTO `+s.qschema+`._sfsync_locks AS l (name, holder, expires_at)
		VALUES ($1, $2, now() + $3 * interval '1 millisecond')
		ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
		WHERE l.expires_at <= now()
		RETURNING holder`, name, l.holder, ttl.Milliseconds()).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.wrap("try lock "+name, err)
	}
	s.leaseMu.Lock()
	s.leases[l] = struct{}{}
	s.leaseMu.Unlock()
	if s.renew {
		go l.renewLoop()
	} else {
		close(l.done)
	}
	return l.release, true, nil
}

// renewLoop extends the lease every ttl/3 until release, or until the
// lease is found taken over (its renewals failed for longer than ttl).
func (l *lease) renewLoop() {
	defer close(l.done)
	t := time.NewTicker(max(l.ttl/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl)
		tag, err := l.s.pool.Exec(ctx, `UPDATE `+l.s.qschema+`._sfsync_locks
			SET expires_at = now() + $3 * interval '1 millisecond'
			WHERE name = $1 AND holder = $2`, l.name, l.holder, l.ttl.Milliseconds())
		cancel()
		if err == nil && tag.RowsAffected() == 0 {
			return // lost: another holder has it now
		}
	}
}

// release stops the renewals and deletes the lease row if it is still
// this holder's. Calling it again does nothing.
func (l *lease) release() {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		defer cancel()
		// An error leaves the row to expire after ttl, which is safe.
		_, _ = l.s.pool.Exec(ctx, `DELETE FROM `+l.s.qschema+`._sfsync_locks
			WHERE name = $1 AND holder = $2`, l.name, l.holder)
		l.s.leaseMu.Lock()
		delete(l.s.leases, l)
		l.s.leaseMu.Unlock()
	})
}
