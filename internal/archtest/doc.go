// Package archtest holds a test of the module's import rules (DESIGN.md:
// imports point downward only, and each dependency stays in its place).
// It has no code of its own.
package archtest
