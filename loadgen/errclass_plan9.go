package loadgen

// errnoClass is "": Plan 9's system errors are strings, which
// classifyMessage reads.
func errnoClass(error) string { return "" }
