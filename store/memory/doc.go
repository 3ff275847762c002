// Package memory is an in-memory store.Store, for tests and experiments.
package memory
