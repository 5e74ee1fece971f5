package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/kendallqn/kendall/emulate"
	"github.com/kendallqn/kendall/topology"
)

func init() {
	register(&command{
		name:    "serve",
		args:    "FILE [--seed N] [--allow-non-loopback] [--json]",
		summary: "serve the topology as real HTTP services, one per service, until Ctrl-C",
		help: `serve turns every service of the topology into a real HTTP server on
127.0.0.1: at the service's listen: address, or at a free port, printed.
A request waits in the service's one FIFO queue for one of its workers,
holds it for a service time drawn from the service's distribution, then
makes the service's calls in order, as real HTTP requests to the callees'
servers, with their probabilities and counts: the semantics the model and
the simulator assume, served for real.

Service times are waited to a deadline on a precise timer, with the
overshoot of each carried into the next, so their mean is the file's; each
server reports its requests, busy workers, queue length and the mean and
coefficient of variation of its realized service times in Prometheus text
format at /metrics.

Each server answers two paths: / is the service (any method), and
/metrics its counters (GET or HEAD); any other path is 404. A request still
in service when serve stops gets 503 and is left out of the realized
service times.

Point 'kendall attack' (or any load generator) at the entries' URLs. serve
binds 127.0.0.1 only: a listen: address on another interface is refused
unless --allow-non-loopback is given. Ctrl-C stops the servers and prints
the service times they realized.

Examples:
  kendall serve examples/shop.yaml
  kendall serve examples/shop.yaml --json > addresses.json
  kendall attack "$(jq -r '.entries[0].url' addresses.json)" --rate 120`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			seed := fs.Uint64("seed", 1, "random `seed` of the service times and of the calls' probabilities")
			allow := fs.Bool("allow-non-loopback", false, "honour listen: addresses that are not on 127.0.0.1 (binding other\ninterfaces exposes the servers to the network)")
			jsonFlag := fs.Bool("json", false, "print the addresses as JSON")
			return func(ctx context.Context, e *env, args []string) error {
				t, err := loadTopology(args, nil)
				if err != nil {
					return err
				}
				em, err := emulate.Start(ctx, t, emulate.Options{Seed: *seed, AllowNonLoopback: *allow})
				if err != nil {
					return flagHint(err)
				}
				defer em.Close()
				if *jsonFlag {
					err = writeJSON(e.stdout, serveAddresses(t, em))
				} else {
					printServing(e.stdout, t, em, *allow)
				}
				if err != nil {
					return err
				}
				<-ctx.Done()
				if err := em.Close(); err != nil {
					fmt.Fprintf(e.stderr, "kendall serve: %v\n", err)
				}
				fmt.Fprintln(e.stderr, "\nStopped. Service times realized:")
				printRealized(e.stderr, em.Stats())
				return nil // Ctrl-C is how serve ends
			}
		},
	})
}

// serveJSON is serve --json: where each service and entry answers.
type serveJSON struct {
	Topology string             `json:"topology"`
	Services []serveServiceJSON `json:"services"`
	Entries  []serveEntryJSON   `json:"entries"`
}

type serveServiceJSON struct {
	Name         string  `json:"name"`
	URL          string  `json:"url"`
	MetricsURL   string  `json:"metrics_url"`
	Servers      int     `json:"servers"`
	ServiceTime  float64 `json:"service_time"`
	Distribution string  `json:"distribution"`
}

type serveEntryJSON struct {
	Entry string  `json:"entry"`
	URL   string  `json:"url"`
	Rate  float64 `json:"rate"`
}

func serveAddresses(t *topology.Topology, em *emulate.Emulation) serveJSON {
	out := serveJSON{Topology: t.Name, Services: []serveServiceJSON{}, Entries: []serveEntryJSON{}}
	for _, s := range em.Stats() {
		out.Services = append(out.Services, serveServiceJSON{s.Name, s.URL, s.MetricsURL, s.Servers, s.ServiceTime, s.Distribution})
	}
	for _, w := range t.Workload {
		out.Entries = append(out.Entries, serveEntryJSON{w.Entry, em.URL(w.Entry), w.Rate})
	}
	return out
}

func printServing(w io.Writer, t *topology.Topology, em *emulate.Emulation, allowNonLoopback bool) {
	stats := em.Stats()
	where := "on 127.0.0.1"
	for _, s := range stats {
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || (allowNonLoopback && strings.HasPrefix(t.Service(s.Name).Listen, ":")) {
			where = "at the addresses below, not only on loopback"
		}
	}
	fmt.Fprintf(w, "Serving %s: %d %s %s (timer: %s). Ctrl-C stops.\n\n", t.Name, len(stats), plural(len(stats), "service", "services"), where, stats[0].Timer)
	tb := newTable(w, "SERVICE", "WORKERS", "SERVICE TIME", "URL", "METRICS")
	for _, s := range stats {
		tb.row(s.Name, strconv.Itoa(s.Servers), secs(s.ServiceTime)+" "+s.Distribution, s.URL, s.MetricsURL)
	}
	tb.flush()
	fmt.Fprintln(w)
	for _, e := range t.Workload {
		fmt.Fprintf(w, "Entry %s, %s in the workload: kendall attack %s --rate %s --duration 30s\n", e.Entry, rate(e.Rate), em.URL(e.Entry), strconv.FormatFloat(math.Round(e.Rate*1000)/1000, 'f', -1, 64))
	}
}
