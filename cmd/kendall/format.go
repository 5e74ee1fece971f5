package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
)

// version is the module version kendall was built from, as go install
// records it.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// secs formats a time in seconds with three significant digits and a unit a
// person reads at a glance: 950ns, 315µs, 1.39ms, 2.31s.
func secs(s float64) string {
	switch {
	case math.IsNaN(s):
		return "-"
	case math.IsInf(s, 1):
		return "∞"
	case s == 0:
		return "0"
	}
	// Round to three significant digits before choosing the unit, so that
	// 0.9999996ms is 1.00ms, not 1000µs.
	s, _ = strconv.ParseFloat(strconv.FormatFloat(s, 'g', 3, 64), 64)
	abs := math.Abs(s)
	switch {
	case abs < 1e-9:
		return "<1ns"
	case abs < 1e-6:
		return sig3(s*1e9) + "ns"
	case abs < 1e-3:
		return sig3(s*1e6) + "µs"
	case abs < 1:
		return sig3(s*1e3) + "ms"
	case abs < 600:
		return sig3(s) + "s"
	case abs < 2*hour:
		return sig3(s/60) + "min"
	case abs < 2*day:
		return sig3(s/hour) + "h"
	case abs < 2*year:
		return sig3(s/day) + "d"
	default:
		return sig3(s/year) + "y"
	}
}

// Lengths of time in seconds, for secs.
const (
	hour = 3600
	day  = 24 * hour
	year = 365.25 * day // the Julian year
)

// secsPtr is secs for a figure that may not exist.
func secsPtr(s *float64) string {
	if s == nil {
		return "-"
	}
	return secs(*s)
}

// sig3 formats v with three significant digits: without exponent from
// 0.001 to under a million, the sizes tables show, and with one beyond, so
// that no number is written with hundreds of digits.
func sig3(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	// Round first, so that 9.9996 becomes 10.0, not 10.00.
	v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	if a := math.Abs(v); a >= 1e6 || a < 1e-3 {
		return strconv.FormatFloat(v, 'e', 2, 64)
	}
	digits := 2 - int(math.Floor(math.Log10(math.Abs(v))))
	if digits < 0 {
		digits = 0
	}
	return strconv.FormatFloat(v, 'f', digits, 64)
}

// rate formats requests per second.
func rate(r float64) string {
	if math.IsInf(r, 1) {
		return "unbounded"
	}
	return sig3(r) + " req/s"
}

// pct formats a fraction as a percentage.
func pct(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 0.0001:
		return "<0.01%"
	case f < 0.1:
		return strconv.FormatFloat(f*100, 'f', 2, 64) + "%"
	case f >= 1e4:
		return sig3(f*100) + "%"
	default:
		return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
	}
}

// pctPtr is pct for a figure that may not exist.
func pctPtr(f *float64) string {
	if f == nil {
		return "-"
	}
	return pct(*f)
}

// table writes aligned columns; rows are tab-separated cells.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *table) flush() error { return t.tw.Flush() }

// writeJSON prints v as indented JSON, the machine-readable form of every
// command's output.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
