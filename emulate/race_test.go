//go:build race

package emulate

// raceEnabled is true when the race detector is on: it makes every HTTP
// request several times more expensive in CPU.
const raceEnabled = true
