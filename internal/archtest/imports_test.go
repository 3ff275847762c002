package archtest

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/sfsync/salesforce-sync"

// rule says what one package may import besides the standard library:
// packages of this module and outside modules, by prefix.
type rule struct {
	dir     string   // package folder, relative to the module root
	module  []string // allowed packages of this module (prefixes, relative)
	outside []string // allowed outside modules (prefixes)
}

// rules are the import rules of DESIGN.md. A package not listed here is
// not checked; every package DESIGN.md names is.
var rules = []rule{
	{dir: "store"},
	{dir: "rest"},
	{dir: "outbound", outside: []string{"github.com/beevik/etree"}},
	{dir: "soql", module: []string{"rest"}},
	{dir: "metadata", module: []string{"rest", "store"}},
	{dir: "oauth", module: []string{"store", "rest"}, outside: []string{"golang.org/x/oauth2"}},
	{dir: "store/sqlite", module: []string{"store"}, outside: []string{"github.com/mattn/go-sqlite3"}},
	{dir: "store/postgres", module: []string{"store"}, outside: []string{"github.com/jackc/pgx/v5"}},
	{dir: "store/memory", module: []string{"store"}},
	{dir: "store/storetest", module: []string{"store"}, outside: []string{"github.com/google/go-cmp"}},
	{dir: "sfsync", module: []string{"oauth", "rest", "soql", "metadata", "outbound", "store"}},
	{dir: "sftest", module: []string{"sftest/internal/"}},
	{dir: "sftest/internal/fakeauth"},
	{dir: "sftest/internal/fakeoutbound"},
}

// TestImports checks each package's non-test imports against its rule:
// imports point downward, sftest is independent of the client packages
// it tests, and the database drivers stay in their store backends.
func TestImports(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		t.Run(r.dir, func(t *testing.T) {
			pkg, err := build.ImportDir(filepath.Join(root, r.dir), 0)
			if err != nil {
				t.Fatalf("read %s: %v", r.dir, err)
			}
			for _, imp := range pkg.Imports {
				if !allowed(r, imp) {
					t.Errorf("%s imports %s, which DESIGN.md does not allow", r.dir, imp)
				}
			}
		})
	}
}

func allowed(r rule, imp string) bool {
	if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
		return slices.ContainsFunc(r.module, func(p string) bool {
			return rel == p || strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p)
		})
	}
	first, _, _ := strings.Cut(imp, "/")
	if !strings.Contains(first, ".") {
		return true // the standard library
	}
	return slices.ContainsFunc(r.outside, func(p string) bool { return imp == p || strings.HasPrefix(imp, p+"/") })
}

// TestAllowedRejects keeps the checker honest: the imports DESIGN.md
// forbids are reported.
func TestAllowedRejects(t *testing.T) {
	for _, c := range []struct {
		r   rule
		imp string
	}{
		{rule{dir: "store"}, module + "/rest"},
		{rule{dir: "soql", module: []string{"rest"}}, module + "/sfsync"},
		{rule{dir: "oauth", module: []string{"store"}}, "github.com/mattn/go-sqlite3"},
		{rule{dir: "sftest", module: []string{"sftest/internal/"}}, module + "/outbound"},
		{rule{dir: "store/sqlite", outside: []string{"github.com/mattn/go-sqlite3"}}, "github.com/jackc/pgx/v5"},
	} {
		if allowed(c.r, c.imp) {
			t.Errorf("%s may import %s: the rule should forbid it", c.r.dir, c.imp)
		}
	}
}
