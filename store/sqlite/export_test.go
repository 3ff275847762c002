package sqlite

// SetValidateInWriter switches the benchmarks between validating rows on
// the caller's goroutine (false, the Store's behaviour) and inside the
// writer (true, the former behaviour), for a comparison in one run.
func SetValidateInWriter(on bool) { validateInWriter = on }
