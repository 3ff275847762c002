// Package postgres is a store.Store on PostgreSQL, for several sfsync
// instances sharing one database.
package postgres
