package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kendallqn/kendall/emulate"
	"github.com/kendallqn/kendall/registry"
	"github.com/kendallqn/kendall/topology"
)

func init() {
	register(&command{
		name:    "serve",
		args:    "FILE [--registry etcd://HOST:PORT [--services A,B]] [--seed N] [--allow-non-loopback] [--json]",
		summary: "serve the topology as real HTTP services, one per replica, until Ctrl-C",
		help: `serve turns every service of the topology into a real HTTP server on
127.0.0.1, one per replica: at the service's listen: address (its replicas
on the ports after it), or at a free port, printed. A request waits in the
replica's one FIFO queue for one of its workers, holds it for a service
time drawn from the service's distribution, then makes the service's calls
in order, as real HTTP requests to the callees' replicas (each picked by
the callee's balancer:), with their probabilities and counts: the
semantics the model and the simulator assume, served for real.

Service times are waited to a deadline on a precise timer, with the
overshoot of each carried into the next, so their mean is the file's; each
server reports its requests, busy workers, queue length and the mean and
coefficient of variation of its realized service times in Prometheus text
format at /metrics, and, for each service it calls, the replicas its
balancer knows and the calls it sent each.

Each server answers three paths: / is the service (any method), /metrics
its counters (GET or HEAD), and POST /admin/stop stops that replica (it is
withdrawn from its callers, serves on for a second while they learn of it,
then stops; the others go on); any other path is 404. A request still in
service when serve stops gets 503 and is left out of the realized service
times.

Several processes: with --registry etcd://HOST:PORT, every replica served
is registered in etcd under the topology's name and its service's (kept
alive by a lease, withdrawn at once when serve stops, and within seconds
if it dies), and callers find the replicas of the services they call by
watching etcd: a replica that starts is called as soon as it is
registered, one that stops is called no more. --services A,B serves only
those services, every replica of each, so that one topology runs in
several processes, each serving its part and finding the rest through
etcd. A service is served by one process: a second one serving it is
refused, with the first's pid. A callee that no process serves yet is not
an error (its process may start later): serve warns, and the calls to it
fail at once with 502 "no replica registered" until it is served.
Without --registry everything runs in this process and calls go
straight to the callees' servers.

Point 'kendall attack' (or any load generator) at the URL of an entry of
one replica, or, with a registry, at etcd://HOST:PORT/kendall/TOPOLOGY/ENTRY,
which follows the entry's replicas (or attack FILE --registry, every entry
balanced by its balancer:). An entry of several replicas has no one URL:
one would send the whole load to one replica. Without a registry, attack
the topology emulated in one process instead of serving it (kendall attack
FILE --emulate), or, for an entry whose balancer is random, each replica at
its share of the rate with a --seed of its own (a random split of Poisson
arrivals is Poisson arrivals at each replica; the other balancers' is
not). serve prints these commands, and --json gives such an entry's
replicas and balancer in place of its url. serve binds 127.0.0.1 only: a listen: address on
another interface is refused unless --allow-non-loopback is given. Ctrl-C
stops the servers and prints the service times they realized.

Examples:
  kendall serve examples/shop.yaml
  kendall serve examples/shop.yaml --json > addresses.json
  kendall attack "$(jq -r '.entries[0].url' addresses.json)" --rate 120   # gateway: one replica
  jq -r '.entries[] | select(.replicas) | .entry' addresses.json          # entries of several: no url
  etcd --data-dir "$(mktemp -d)" --listen-client-urls http://127.0.0.1:2379 \
      --advertise-client-urls http://127.0.0.1:2379 &
  kendall serve examples/etcd-demo.yaml --services front --registry etcd://127.0.0.1:2379 &
  kendall serve examples/etcd-demo.yaml --services back --registry etcd://127.0.0.1:2379 &
  kendall attack etcd://127.0.0.1:2379/kendall/etcd-demo/front --rate 50 --duration 10s`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			seed := fs.Uint64("seed", 1, "random `seed` of the service times and of the calls' probabilities")
			allow := fs.Bool("allow-non-loopback", false, "honour listen: addresses that are not on 127.0.0.1 (binding other\ninterfaces exposes the servers to the network)")
			jsonFlag := fs.Bool("json", false, "print the addresses as JSON")
			registryFlag := fs.String("registry", "", "register the replicas served in etcd, and find the callees' there: a\n`URL` etcd://HOST:PORT[/PREFIX] (prefix /kendall by default)")
			servicesFlagValue := fs.String("services", "", "serve only these `services` (comma-separated), every replica of each;\nthe others are found through --registry")
			return func(ctx context.Context, e *env, args []string) error {
				if *servicesFlagValue != "" && *registryFlag == "" {
					return usagef("--services serves part of the topology, and the processes that serve the rest are found through a registry: add --registry etcd://127.0.0.1:2379 (with etcd running there), or drop --services to serve every service in this process")
				}
				t, err := loadTopology(args, nil)
				if err != nil {
					return err
				}
				sv := serving{t: t, file: args[0], allowNonLoopback: *allow}
				if *servicesFlagValue != "" {
					if sv.services, err = servicesFlag(t, *servicesFlagValue); err != nil {
						return err
					}
				}
				opts := emulate.Options{Seed: *seed, AllowNonLoopback: *allow, Services: sv.services,
					Warn: func(msg string) { fmt.Fprintf(e.stderr, "warning: %s\n", msg) }}
				if *registryFlag != "" {
					reg, err := openRegistry(ctx, e, *registryFlag)
					if err != nil {
						return err
					}
					defer func() {
						if err := reg.Close(); err != nil {
							fmt.Fprintf(e.stderr, "kendall serve: %v\n", err)
						}
					}()
					sv.reg = reg
					sv.log = newReplicaLog(reg.Scope(t.Name), e.stderr, func(service string) bool {
						return sv.services != nil && !slices.Contains(sv.services, service) // served elsewhere
					})
					opts.Discovery = sv.log
				}
				em, err := emulate.Start(ctx, t, opts)
				if err != nil {
					return flagHint(err)
				}
				defer em.Close()
				sv.em = em
				if *jsonFlag {
					err = writeJSON(e.stdout, sv.addresses())
				} else {
					sv.print(e.stdout)
				}
				if err != nil {
					return err
				}
				sv.warnUnserved(e.stderr)
				<-ctx.Done()
				if sv.reg != nil {
					// Revoking the lease withdraws every replica at once,
					// in one request: one timeout at most with etcd gone,
					// and the emulation's own withdrawals have nothing
					// left to do.
					if err := sv.reg.Close(); err != nil {
						fmt.Fprintf(e.stderr, "kendall serve: %v\n", err)
					}
				}
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

// serving is one run of kendall serve: what it serves, and where it finds
// the rest.
type serving struct {
	t                *topology.Topology
	file             string // FILE, as given
	em               *emulate.Emulation
	services         []string           // --services; nil for all
	reg              *registry.Registry // --registry; nil without
	log              *replicaLog        // the replicas seen through reg
	allowNonLoopback bool
}

// elsewhere are the services of the topology that this process does not
// serve, in the topology's order.
func (sv *serving) elsewhere() []string {
	var out []string
	for _, s := range sv.t.Services {
		if !sv.em.Serves(s.Name) {
			out = append(out, s.Name)
		}
	}
	return out
}

// warnUnserved warns of each callee served elsewhere with no replica
// registered yet: its callers' calls fail until one is.
func (sv *serving) warnUnserved(w io.Writer) {
	if sv.log == nil {
		return
	}
	for _, name := range sv.elsewhere() {
		if urls, watched := sv.log.known(name); watched && len(urls) == 0 {
			fmt.Fprintf(w, "warning: no process serves %s yet (nothing registered in %s); the calls to it fail with 502 until one does: kendall serve %s --services %s --registry %s\n",
				name, sv.reg.Target(), sv.file, name, sv.reg.Target())
		}
	}
}

// serveJSON is serve --json: where each service and entry answers.
type serveJSON struct {
	Topology string             `json:"topology"`
	Registry string             `json:"registry,omitempty"`
	Services []serveServiceJSON `json:"services"`
	// Elsewhere are the services served by other processes, found
	// through the registry.
	Elsewhere []serveElsewhereJSON `json:"elsewhere,omitempty"`
	Entries   []serveEntryJSON     `json:"entries"`
}

type serveServiceJSON struct {
	Name         string  `json:"name"`
	URL          string  `json:"url"`
	MetricsURL   string  `json:"metrics_url"`
	Servers      int     `json:"servers"`
	ServiceTime  float64 `json:"service_time"`
	Distribution string  `json:"distribution"`
	// Replicas are the URLs of each replica, replica 0 first, for a
	// service of several.
	Replicas []serveReplicaJSON `json:"replicas,omitempty"`
}

type serveReplicaJSON struct {
	URL        string `json:"url"`
	MetricsURL string `json:"metrics_url"`
}

type serveElsewhereJSON struct {
	Name string `json:"name"`
	// Replicas are the URLs registered when serve started; null for a
	// service that no service served here calls.
	Replicas []string `json:"replicas"`
}

type serveEntryJSON struct {
	Entry string `json:"entry"`
	// URL is where the entry answers, for an entry of one replica served
	// here: "" when served elsewhere, and for one of several replicas,
	// whose load no one URL spreads.
	URL  string  `json:"url,omitempty"`
	Rate float64 `json:"rate"`
	// Replicas are the URLs of an entry of several replicas served here,
	// replica 0 first, and Balancer the policy that spreads its requests
	// over them (kendall attack FILE --emulate or --registry balance so).
	Replicas []string `json:"replicas,omitempty"`
	Balancer string   `json:"balancer,omitempty"`
	// Target is the entry in the registry, for kendall attack.
	Target string `json:"target,omitempty"`
}

// entryBalancer is the policy of a service's balancer, its default
// spelled out.
func entryBalancer(s *topology.Service) string {
	if s.Balancer == "" {
		return string(topology.BalancerRandom)
	}
	return string(s.Balancer)
}

func (sv *serving) addresses() serveJSON {
	t, em := sv.t, sv.em
	out := serveJSON{Topology: t.Name, Services: []serveServiceJSON{}, Entries: []serveEntryJSON{}}
	if sv.reg != nil {
		out.Registry = sv.reg.Target().String()
	}
	for _, s := range em.Stats() {
		js := serveServiceJSON{s.Name, s.URL, s.MetricsURL, s.Servers, s.ServiceTime, s.Distribution, nil}
		for _, r := range s.Replicas {
			js.Replicas = append(js.Replicas, serveReplicaJSON{r.URL, r.MetricsURL})
		}
		out.Services = append(out.Services, js)
	}
	for _, name := range sv.elsewhere() {
		urls, _ := sv.log.known(name)
		out.Elsewhere = append(out.Elsewhere, serveElsewhereJSON{name, urls})
	}
	for _, w := range t.Workload {
		je := serveEntryJSON{Entry: w.Entry, URL: em.URL(w.Entry), Rate: w.Rate}
		if urls := em.URLs(w.Entry); len(urls) > 1 {
			je.URL, je.Replicas, je.Balancer = "", urls, entryBalancer(t.Service(w.Entry))
		}
		if sv.reg != nil {
			je.Target = entryTarget(sv.reg, t.Name, w.Entry)
		}
		out.Entries = append(out.Entries, je)
	}
	return out
}

func (sv *serving) print(w io.Writer) {
	t, em := sv.t, sv.em
	stats := em.Stats()
	where := "on 127.0.0.1"
	replicas := 0
	for _, s := range stats {
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || (sv.allowNonLoopback && strings.HasPrefix(t.Service(s.Name).Listen, ":")) {
			where = "at the addresses below, not only on loopback"
		}
		replicas += max(len(s.Replicas), 1)
	}
	what := fmt.Sprintf("%d %s", len(stats), plural(len(stats), "service", "services"))
	if replicas > len(stats) {
		what += fmt.Sprintf(" (%d replicas)", replicas)
	}
	if sv.services != nil {
		what += fmt.Sprintf(" of %d", len(t.Services))
	}
	fmt.Fprintf(w, "Serving %s: %s %s (timer: %s). Ctrl-C stops.\n", t.Name, what, where, stats[0].Timer)
	if sv.reg != nil {
		fmt.Fprintf(w, "Registered in %s under %s, kept alive while serve runs.\n", sv.reg.Target(), t.Name)
	}
	fmt.Fprintln(w)
	tb := newTable(w, "SERVICE", "WORKERS", "SERVICE TIME", "URL", "METRICS")
	for _, s := range stats {
		if len(s.Replicas) == 0 {
			tb.row(s.Name, strconv.Itoa(s.Servers), secs(s.ServiceTime)+" "+s.Distribution, s.URL, s.MetricsURL)
			continue
		}
		for i, r := range s.Replicas {
			tb.row(fmt.Sprintf("%s[%d]", s.Name, i), strconv.Itoa(s.Servers), secs(s.ServiceTime)+" "+s.Distribution, r.URL, r.MetricsURL)
		}
	}
	tb.flush()
	if sv.reg != nil {
		if others := sv.elsewhere(); len(others) > 0 {
			fmt.Fprintf(w, "\nServed elsewhere, found through %s:\n", sv.reg.Target())
			for _, name := range others {
				urls, watched := sv.log.known(name)
				state := "not called from here"
				if watched {
					state = replicasPhrase(urls)
				}
				fmt.Fprintf(w, "  %s: %s\n", name, state)
			}
		}
	}
	fmt.Fprintln(w)
	sv.printEntries(w)
}

// printEntries says how to attack each workload entry. An entry of one
// replica is attacked at its URL, one in a registry at its etcd:// target
// with its balancer. One of several replicas without a registry has no
// one URL, which would send its whole load to one replica: the commands
// that balance it as the file says are the topology attacked emulated, or
// served with a registry; and, for a random balancer only, each replica
// attacked at its share with a seed of its own, since a random split of
// Poisson arrivals is independent Poisson arrivals at each replica (the
// other policies' splits are not Poisson, and depend on the responses).
func (sv *serving) printEntries(w io.Writer) {
	t, em := sv.t, sv.em
	num := func(x float64) string { return strconv.FormatFloat(math.Round(x*1000)/1000, 'f', -1, 64) }
	replicated := false
	for _, e := range t.Workload {
		r := num(e.Rate)
		s := t.Service(e.Entry)
		switch urls := em.URLs(e.Entry); {
		case sv.reg != nil:
			bal := ""
			if s.Replicas > 1 {
				bal = " --balancer " + entryBalancer(s)
			}
			fmt.Fprintf(w, "Entry %s, %s in the workload: kendall attack %s --rate %s%s --duration 30s\n", e.Entry, rate(e.Rate), entryTarget(sv.reg, t.Name, e.Entry), r, bal)
		case len(urls) > 1:
			replicated = true
			policy := entryBalancer(s)
			fmt.Fprintf(w, "Entry %s, %s in the workload, has %d replicas behind its %s balancer: no one URL spreads its load (one would take all of it)", e.Entry, rate(e.Rate), len(urls), policy)
			if policy != string(topology.BalancerRandom) {
				fmt.Fprintf(w, ", and Poisson arrivals at each replica are not what %s sends it.\n", policy)
				break
			}
			fmt.Fprintf(w, ".\n  Its balancer is random: attacking each replica at %s, all at once and each with a seed of its own, is the same Poisson load:\n", rate(e.Rate/float64(len(urls))))
			for i, u := range urls {
				fmt.Fprintf(w, "    kendall attack %s --rate %s --seed %d --duration 30s\n", u, num(e.Rate/float64(len(urls))), i+1)
			}
		case len(urls) == 1:
			fmt.Fprintf(w, "Entry %s, %s in the workload: kendall attack %s --rate %s --duration 30s\n", e.Entry, rate(e.Rate), urls[0], r)
		}
	}
	switch {
	case sv.reg != nil && len(t.Workload) > 1:
		fmt.Fprintf(w, "Every entry at once, each balanced by its balancer: kendall attack %s --registry %s --duration 30s\n", sv.file, sv.reg.Target())
	case replicated:
		fmt.Fprintf(w, "To attack the entries balanced as %s says: kendall attack %[1]s --emulate --duration 30s, which emulates the topology itself (in place of this serve); or serve it with --registry etcd://HOST:PORT and run kendall attack %[1]s --registry etcd://HOST:PORT --duration 30s.\n", sv.file)
	}
}
