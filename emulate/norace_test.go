//go:build !race

package emulate

const raceEnabled = false
