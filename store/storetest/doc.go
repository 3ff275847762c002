// Package storetest is the conformance suite every store.Store must pass.
//
// A backend's test calls Run with a function that opens a fresh, empty
// Store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		}, storetest.RunOptions{Reopen: reopen})
//	}
//
// Each case runs as a named subtest on its own Store and says in its
// comment which rule it checks. The suite closes every Store it gets at
// the end of the case. A backend that can be closed and opened again on
// the same data sets RunOptions.Reopen so that the durability case runs;
// for others that case is skipped with a message.
//
// The suite is itself tested against deliberately broken stores (see
// storetest_test.go): each must make it fail.
package storetest
