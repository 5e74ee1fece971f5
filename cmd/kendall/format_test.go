package main

import (
	"strings"
	"testing"
)

// TestFormat pins how numbers are written in tables and messages, at the
// everyday sizes and at the edges: a number is never a 300-digit string.
func TestFormat(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"sig3 small", sig3(0.1234), "0.123"},
		{"sig3 rate", sig3(120), "120"},
		{"sig3 rounds up", sig3(9.9996), "10.0"},
		{"sig3 thousands", sig3(276000), "276000"},
		{"sig3 huge", sig3(3e300), "3.00e+300"},
		{"sig3 million", sig3(9145440001), "9.15e+09"},
		{"sig3 tiny", sig3(1.09e-10), "1.09e-10"},
		{"sig3 denormal", sig3(5e-324), "4.94e-324"},
		{"rate tiny", rate(1.09e-10), "1.09e-10 req/s"},
		{"secs ms", secs(0.00139), "1.39ms"},
		{"secs minutes", secs(700), "11.7min"},
		{"secs hours", secs(3 * 3600), "3.00h"},
		{"secs days", secs(5 * 86400), "5.00d"},
		{"secs years", secs(290 * 365.25 * 86400), "290y"},
		{"secs huge", secs(1e300), "3.17e+292y"},
		{"pct", pct(0.48), "48.0%"},
		{"pct huge", pct(9.1e9), "9.10e+11%"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// TestWrap: notes break at spaces within wrapWidth columns, counted in
// runes (the notes have µ, − and ρ), with their prefixes; a word longer
// than a line stays whole.
func TestWrap(t *testing.T) {
	long := strings.Repeat("x", wrapWidth+5)
	tests := []struct {
		text, first, rest, want string
	}{
		{"a b c", "  ", "    ", "  a b c\n"},
		{"", "  ", "  ", "\n"},
		{long + " y", "", "  ", long + "\n  y\n"},
		{strings.Repeat("µµµµ ", 25), "", "-", strings.TrimSpace(strings.Repeat("µµµµ ", 20)) + "\n-" + strings.TrimSpace(strings.Repeat("µµµµ ", 5)) + "\n"},
	}
	for _, tc := range tests {
		if got := wrap(tc.text, tc.first, tc.rest); got != tc.want {
			t.Errorf("wrap(%q, %q, %q) =\n%q\nwant\n%q", tc.text, tc.first, tc.rest, got, tc.want)
		}
	}
}
