package main

// What several commands share: reading the topology and --rate, the verdict
// on a prediction, the emulation's realized service times, and the flags
// that fix the errors of the packages.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kendallqn/kendall/emulate"
	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

// loadTopology reads the one FILE argument ("-" for standard input) and
// applies --rate, if given (r may be nil).
func loadTopology(args []string, r *rateValue) (*topology.Topology, error) {
	if len(args) != 1 {
		return nil, usagef("want one topology FILE, got %d arguments", len(args))
	}
	var t *topology.Topology
	var err error
	if args[0] == "-" { // the topology on standard input, for pipes
		data, rerr := io.ReadAll(os.Stdin)
		if rerr != nil {
			return nil, fmt.Errorf("reading standard input: %w", rerr)
		}
		t, err = topology.Parse("stdin", data)
	} else {
		t, err = topology.Load(args[0])
	}
	if err != nil {
		return nil, err
	}
	if r == nil || !r.set {
		return t, nil
	}
	return t.WithRate(r.rate)
}

// rateValue is a --rate flag, parsed when it is set: a bad rate is a usage
// error at once, and an empty one (--rate "") is an error, not taken for a
// flag that was not given.
type rateValue struct {
	rate float64
	set  bool
}

// rateVar declares the --rate flag on fs.
func rateVar(fs *flag.FlagSet, usage string) *rateValue {
	v := &rateValue{}
	fs.Var(v, "rate", usage)
	return v
}

func (v *rateValue) String() string {
	if v == nil || !v.set {
		return ""
	}
	return strconv.FormatFloat(v.rate, 'g', -1, 64)
}

func (v *rateValue) Set(s string) error {
	r, err := topology.ParseRate(s)
	if err != nil {
		return err
	}
	v.rate, v.set = r, true
	return nil
}

// printVerdict says in words where the bottleneck is and how much headroom
// is left, or which services saturate and by how much.
func printVerdict(w io.Writer, t *topology.Topology, p *result.Prediction) {
	if p.Stable && t.Index(p.Bottleneck) < 0 { // nothing is loaded: no service can saturate
		fmt.Fprintln(w, "No service is loaded: the topology has no bottleneck at this rate.")
		return
	}
	if p.Stable {
		b := p.Services[t.Index(p.Bottleneck)]
		fmt.Fprintf(w, "Bottleneck: %s, at %s utilization. The topology sustains up to %s in this mix,\n",
			b.Name, pct(b.Utilization), rate(p.MaxRate))
		fmt.Fprintf(w, "%.2f× the current %s (headroom %s); past that, %s's queue grows without bound.\n",
			p.Headroom, rate(p.Rate), pct(1-1/p.Headroom), b.Name)
		return
	}
	var saturated []result.Service
	for _, s := range p.Services {
		if s.Utilization >= 1 {
			saturated = append(saturated, s)
		}
	}
	fmt.Fprintf(w, "UNSTABLE at %s: %d of %d services saturate, so queues grow without bound and no latency exists:\n",
		rate(p.Rate), len(saturated), len(p.Services))
	for _, s := range saturated {
		need := int(math.Floor(s.ArrivalRate*s.ServiceTime)) + 1
		total := s.Servers * max(s.Replicas, 1)
		what, needs := fmt.Sprintf("%d workers", total), fmt.Sprintf("%d workers", need)
		if s.Replicas > 1 {
			what = fmt.Sprintf("%d replicas of %d worker", s.Replicas, s.Servers)
			if s.Servers > 1 {
				what += "s"
			}
			needs = fmt.Sprintf("%d replicas", (need+s.Servers-1)/s.Servers)
		}
		fmt.Fprintf(w, "  %s: offered %s of its capacity (%s for %s); it needs at least %s at this rate\n",
			s.Name, pct(s.Utilization), rate(float64(total)/s.ServiceTime), what, needs)
	}
	fmt.Fprintf(w, "The topology sustains at most %s in this mix (%s of the offered rate); %s saturates first.\n",
		rate(p.MaxRate), pct(p.MaxRate/p.Rate), p.Bottleneck)
}

// printRealized prints each service's service times: the file's mean, the
// mean of the times drawn from its distribution (which strays from the
// file's by sampling), and the mean of the times realized (how long the
// workers were actually held), with the emulation's own error between the
// last two.
func printRealized(w io.Writer, stats []emulate.ServiceStats) {
	tb := newTable(w, "SERVICE", "REQUESTS", "SERVICE TIME", "DRAWN MEAN", "REALIZED MEAN", "REALIZED−DRAWN", "FILE CV", "REALIZED CV")
	for _, s := range stats {
		drawn, realized, diff, rcv := "-", "-", "-", "-"
		if s.DrawnMean != nil {
			drawn = secs(*s.DrawnMean)
		}
		if s.RealizedMean != nil {
			realized = secs(*s.RealizedMean)
			diff = fmt.Sprintf("%+.2f%%", 100*(*s.RealizedMean / *s.DrawnMean - 1))
		}
		if s.RealizedCV != nil {
			rcv = strconv.FormatFloat(*s.RealizedCV, 'f', 3, 64)
		}
		tb.row(s.Name, strconv.FormatInt(s.Requests, 10), secs(s.ServiceTime)+" "+s.Distribution, drawn, realized, diff,
			strconv.FormatFloat(s.TargetCV, 'f', 3, 64), rcv)
	}
	tb.flush()
}

// flagHint adds to an error of a package the command-line way to fix it:
// the packages name their own options, or none, and kendall's users know
// its flags.
func flagHint(err error) error {
	switch {
	case errors.Is(err, emulate.ErrNotLoopback):
		return fmt.Errorf("%w (kendall serve --allow-non-loopback)", err)
	case errors.Is(err, loadgen.ErrNoEndpoint):
		return fmt.Errorf("%w, or emulate the topology (kendall attack --emulate)", err)
	}
	return err
}

// wrapWidth is the width notes in words are wrapped to: wide enough for
// the tables above them, narrow enough to read.
const wrapWidth = 100

// wrap breaks text into lines of at most wrapWidth columns at spaces, the
// first line after first and the others after rest, each ending in a
// newline. A word longer than a line stays whole.
func wrap(text, first, rest string) string {
	var b strings.Builder
	line, prefix := 0, first
	for _, word := range strings.Fields(text) {
		n := utf8.RuneCountInString(word)
		if line > 0 && line+1+n > wrapWidth {
			b.WriteByte('\n')
			line, prefix = 0, rest
		}
		if line == 0 {
			b.WriteString(prefix)
			line = utf8.RuneCountInString(prefix)
		} else {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += n
	}
	b.WriteByte('\n')
	return b.String()
}
