// Package sqlite is the default, embedded store.Store, on SQLite.
package sqlite
