package main

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/kendallqn/kendall/validate"
)

// sweepProgress reports, on stderr, which rate and which stage the sweep is
// at and about how long is left: redrawn in place on a terminal, a line per
// stage otherwise.
type sweepProgress struct {
	e       *env
	n       int
	perRate time.Duration // the measurement's share of a rate
	start   time.Time

	mu         sync.Mutex // set is called from the simulation's and the attack's goroutines
	drawn      time.Time
	lastIndex  int
	lastStaged string
}

func newSweepProgress(e *env, n int, c validateConfig, measuring bool) *sweepProgress {
	p := &sweepProgress{e: e, n: n, start: time.Now(), lastIndex: -1}
	if measuring {
		p.perRate = c.warmup + c.duration
	}
	return p
}

// set reports where the sweep is.
func (p *sweepProgress) set(s validate.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	left := time.Duration(float64(p.n-s.Index-1) * float64(p.perRate+2*time.Second))
	if s.Stage == validate.StageMeasuring {
		left += time.Duration((1 - s.Done) * float64(p.perRate))
	} else {
		left += p.perRate
	}
	line := fmt.Sprintf("[%d/%d] %s (%.0f%% of max): %s", s.Index+1, p.n, rate(s.Rate), 100*s.Fraction, s.Stage)
	if s.Done > 0 {
		line += fmt.Sprintf(" %3.0f%%", 100*math.Min(s.Done, 1))
	}
	line += fmt.Sprintf(" — about %s left", left.Round(time.Second))
	same := s.Index == p.lastIndex && s.Stage == p.lastStaged
	if p.e.interactive {
		if time.Since(p.drawn) < 200*time.Millisecond && same {
			return
		}
		fmt.Fprintf(p.e.stderr, "\r\033[K%s", line)
		p.drawn = time.Now()
	} else if !same {
		fmt.Fprintln(p.e.stderr, line)
	}
	p.lastIndex, p.lastStaged = s.Index, s.Stage
}

func (p *sweepProgress) done() {
	if p.e.interactive {
		fmt.Fprint(p.e.stderr, "\r\033[K")
	}
	fmt.Fprintf(p.e.stderr, "sweep finished in %s\n", time.Since(p.start).Round(time.Second))
}
