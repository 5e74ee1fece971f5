package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kendallqn/kendall/emulate"
	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/registry"
	"github.com/kendallqn/kendall/topology"
)

func init() {
	register(&command{
		name:    "attack",
		args:    "FILE|URL|etcd://HOST:PORT/kendall/TOPOLOGY/ENTRY [--rate R] [--duration D] [--warmup D] [--arrivals poisson|constant] [--emulate | --registry etcd://HOST:PORT] [--balancer POLICY] [--output FILE] [--json]",
		summary: "measure real HTTP services: send requests at a rate, open-loop, and record their latency",
		help: `attack sends HTTP requests and measures their latency, as an open system:
requests arrive on a schedule fixed in advance, whether or not the earlier
ones have been answered, the way users arrive, so a slow server cannot slow
the load down and hide its own latency (coordinated omission). Arrivals are
Poisson by default, the model's assumption; --arrivals constant spaces them
evenly. The schedule comes from --seed: the same seed, the same arrivals.

The target is either a topology FILE, whose workload entries are attacked
each at its own rate (--rate scales the total, keeping the mix), at their
services' endpoint: URLs or, with --emulate, at the topology emulated in
this process as by 'kendall serve', or, with --registry, at the replicas
registered by 'kendall serve --registry' processes; or a bare URL, attacked
at --rate with --method, --header and --body.

A target in a registry, etcd://HOST:PORT/kendall/TOPOLOGY/ENTRY (the
registry's URL, its prefix, then the topology's and the entry service's
names), is attacked at --rate, its requests spread over the entry's
replicas by --balancer; a topology FILE with --registry attacks each
workload entry so, with the entry's own balancer: and rate. The replicas
are followed while the attack runs: one that is registered gets requests
from then on, one that goes away gets no more (its requests in flight
finish or fail, and are counted either way), and the result lists every
replica the entry had, with what was sent to it, what failed, and when it
came or went. An entry with no replica registered is an error before the
attack.

The attack runs for --warmup then --duration, and ends then, whatever
the rate: requests still in flight get at most --timeout more. The figures
cover the requests sent during --duration. Latency is from the moment a
request is sent to the end of its response, over the successful ones
(status 2xx or 3xx). Failures are counted by class (connection refused,
connection reset, timeout, TLS, EOF, DNS, too many open files, status
500, ...) with one example message each, never hidden. An unreachable
target is reported before the attack starts; an https target with a
self-signed certificate needs --insecure.

The run checks itself: the rate actually sent, the coefficient of
variation of the gaps between requests (about 1 for Poisson arrivals, 0 for
constant ones), and how far sends fell behind their schedule. A run whose
sends fell behind by more than --max-lag is NOT TRUSTWORTHY: the machine
running kendall, not the target, limited the load. At most --max-in-flight
requests are in flight at once; a request due while that many are, or more
than a second late, is not sent, counted as NOT SENT, and the run is not
trustworthy: memory and connections stay bounded at any rate.

Exit status 1 when every request failed, when nothing was sent, or when an
entry's success ratio is below --min-success.

--output writes every result in vegeta's format, for 'vegeta report' and
'vegeta plot'. Ctrl-C stops the attack and prints what was measured so far.

Examples:
  kendall attack http://127.0.0.1:8080/ --rate 200 --duration 30s
  kendall attack http://127.0.0.1:8080/api --rate 50 --method POST \
      --header 'Content-Type: application/json' --body @order.json
  kendall attack examples/shop.yaml --emulate --warmup 5s --duration 60s
  kendall attack shop.yaml --rate 300 --output results.bin && vegeta report results.bin
  kendall attack examples/shop.yaml --emulate --json | jq '.entries[0].percentiles.p99'
  kendall attack etcd://127.0.0.1:2379/kendall/etcd-demo/front --rate 50 --duration 10s
  kendall attack examples/etcd-demo.yaml --registry etcd://127.0.0.1:2379 --duration 10s`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			rateFlag := rateVar(fs, "arrival `rate` in requests per second (e.g. 200 or 200/s): for a URL,\nrequired; for a topology, the new total, keeping the workload's mix")
			duration := fs.String("duration", "30s", "how long to measure, a `duration` such as 30s or 2m, after the warm-up")
			warmup := fs.String("warmup", "0s", "how long to attack before measuring (a `duration`): excluded from the figures")
			arrivals := fs.String("arrivals", "poisson", "arrival `process`: poisson or constant")
			seed := fs.Uint64("seed", 1, "random `seed` of the arrival schedule (and of the emulation)")
			timeout := fs.String("timeout", loadgen.DefaultTimeout.String(), "longest wait for a response (a `duration`); longer is an error")
			maxLag := fs.String("max-lag", loadgen.DefaultMaxLag.String(), "largest lag of a send behind its schedule (a `duration`) for a\ntrustworthy run")
			emulateFlag := fs.Bool("emulate", false, "emulate the topology in this process and attack it (as kendall serve)")
			registryFlag := fs.String("registry", "", "attack the topology FILE's entries at the replicas registered in etcd\n(kendall serve --registry): a `URL` etcd://HOST:PORT[/PREFIX]")
			balancerFlag := fs.String("balancer", "", "`policy` spreading an etcd:// target's requests over its replicas:\nrandom, round-robin, least-requests or power-of-two (default random)")
			method := fs.String("method", "GET", "HTTP `method` of the requests")
			var headers headerFlag
			fs.Var(&headers, "header", "request `header` 'Name: value' (repeatable)")
			body := fs.String("body", "", "request `body`, or @FILE to read it from a file")
			output := fs.String("output", "", "write every result to `FILE` in vegeta's format (- for stdout)")
			jsonFlag := fs.Bool("json", false, "print JSON: predict's entries, measured, with a \"run\" object")
			insecure := fs.Bool("insecure", false, "do not verify the TLS certificates of https targets (for self-signed\nones, as curl -k)")
			maxInFlight := fs.Int("max-in-flight", 0, "most requests in flight at once, `N`; a request due while N are in\nflight is not sent, and counted (0: 10,000, or what the open-file limit allows)")
			minSuccess := fs.Float64("min-success", 0, "fail (exit 1) when fewer than this `fraction` of an entry's requests\nsucceed, as a k6 threshold (0.99 for 99%); every request failing always fails")
			return func(ctx context.Context, e *env, args []string) error {
				a := attackCmd{e: e}
				var err error
				if a.opts, err = attackOptions(*duration, *warmup, *arrivals, *timeout, *maxLag); err != nil {
					return err
				}
				a.opts.Seed = *seed
				a.opts.Insecure = *insecure
				a.opts.Warn = func(msg string) { fmt.Fprintf(e.stderr, "warning: %s\n", msg) }
				if *maxInFlight < 0 {
					return usagef("--max-in-flight %d: give a positive number, or 0 for the default", *maxInFlight)
				}
				a.opts.MaxInFlight = *maxInFlight
				if !(*minSuccess >= 0 && *minSuccess <= 1) {
					return usagef("--min-success %v: give a fraction from 0 to 1, such as 0.99 for 99%%", *minSuccess)
				}
				a.minSuccess = *minSuccess
				if len(args) != 1 {
					return usagef("want one topology FILE or URL to attack, got %d arguments", len(args))
				}
				tmpl := loadgen.Target{Method: strings.ToUpper(*method), Header: http.Header(headers)}
				if strings.HasPrefix(*body, "@") {
					if tmpl.Body, err = os.ReadFile((*body)[1:]); err != nil {
						return fmt.Errorf("--body: %w", err)
					}
				} else if *body != "" {
					tmpl.Body = []byte(*body)
				}
				if strings.HasPrefix(args[0], "etcd://") || *registryFlag != "" {
					err = a.resolveRegistry(ctx, args[0], *registryFlag, *balancerFlag, rateFlag, *emulateFlag, tmpl)
				} else if *balancerFlag != "" {
					err = balancerMisplaced(args[0])
				} else {
					err = a.resolve(ctx, args[0], rateFlag, *emulateFlag, *seed, tmpl)
				}
				if err != nil {
					a.close()
					return err
				}
				defer a.close()
				return a.run(ctx, *output, *jsonFlag)
			}
		},
	})
}

// attackCmd is one run of kendall attack.
type attackCmd struct {
	e          *env
	minSuccess float64 // the --min-success threshold
	opts       loadgen.Options
	topo       *topology.Topology // nil for a bare URL
	em         *emulate.Emulation // with --emulate
	reg        *registry.Registry // with a target in a registry
	list       []loadgen.Target   // what to attack
}

// resolveRegistry works out what to attack in a registry: one entry named
// by an etcd:// URL, or a topology FILE's entries with --registry.
func (a *attackCmd) resolveRegistry(ctx context.Context, arg, regURL, balancer string, rateFlag *rateValue, emulated bool, tmpl loadgen.Target) error {
	if emulated {
		return usagef("--emulate serves the topology in this process; a registry finds it served by kendall serve --registry: give one or the other")
	}
	var targets []loadgen.Target
	var topo string
	if strings.HasPrefix(arg, "etcd://") {
		if regURL != "" {
			return usagef("--registry is for a topology FILE; %s names its registry already", arg)
		}
		var entry string
		var err error
		if regURL, topo, entry, err = parseEntryTarget(arg); err != nil {
			return err
		}
		if !rateFlag.set {
			return usagef("--rate is required with an etcd:// target: give the requests per second, e.g. --rate 100")
		}
		if balancer != "" && !slices.Contains(topology.Balancers, topology.Balancer(balancer)) {
			names := make([]string, len(topology.Balancers))
			for i, b := range topology.Balancers {
				names[i] = string(b)
			}
			return usagef("--balancer %q%s: use one of %s", balancer, topology.Suggest(balancer, names), strings.Join(names, ", "))
		}
		t := tmpl
		t.Name, t.Rate, t.Balancer = entry, rateFlag.rate, topology.Balancer(balancer)
		targets = []loadgen.Target{t}
	} else {
		if strings.Contains(arg, "://") || looksLikeHostPort(arg) {
			return usagef("--registry attacks a topology FILE's entries; %s is a URL (an entry in a registry is etcd://HOST:PORT/kendall/TOPOLOGY/ENTRY)", arg)
		}
		if balancer != "" {
			return balancerMisplaced(arg)
		}
		t, err := loadTopology([]string{arg}, rateFlag)
		if err != nil {
			return err
		}
		a.topo, topo = t, t.Name
		for _, w := range t.Workload {
			targets = append(targets, loadgen.Target{Name: w.Entry, Rate: w.Rate, Balancer: t.Service(w.Entry).Balancer,
				Method: tmpl.Method, Header: tmpl.Header, Body: tmpl.Body})
		}
	}
	reg, err := openRegistry(ctx, a.e, regURL)
	if err != nil {
		return err
	}
	a.reg = reg
	log := newReplicaLog(reg.Scope(topo), a.e.stderr, func(string) bool { return true })
	for i := range targets {
		entry := targets[i].Name
		targets[i].Discover = func(ctx context.Context, update func([]string)) error {
			err := log.Watch(ctx, entry, update)
			if errors.Is(err, context.Canceled) {
				return nil // the attack is over
			}
			return err
		}
	}
	a.list = targets
	return nil
}

// balancerMisplaced is the usage error of --balancer without an etcd://
// target: a topology FILE's entries are balanced by their own balancer:
// field, and a URL is one replica.
func balancerMisplaced(arg string) error {
	if strings.Contains(arg, "://") || looksLikeHostPort(arg) {
		return usagef("--balancer spreads the requests of an etcd:// target over its replicas; %s is one URL: give the entry as etcd://HOST:PORT/kendall/TOPOLOGY/ENTRY to balance over its replicas", arg)
	}
	return usagef("--balancer is for an etcd:// target; the entries of %s are balanced over their replicas by their own balancer: field in the file: set it there, and drop --balancer", arg)
}

// attackOptions reads the timing flags.
func attackOptions(duration, warmup, arrivals, timeout, maxLag string) (loadgen.Options, error) {
	var o loadgen.Options
	var err error
	if o.Duration, err = flagDuration("--duration", duration, false); err != nil {
		return o, err
	}
	if o.Warmup, err = flagDuration("--warmup", warmup, true); err != nil {
		return o, err
	}
	if o.Timeout, err = flagDuration("--timeout", timeout, false); err != nil {
		return o, err
	}
	if o.MaxLag, err = flagDuration("--max-lag", maxLag, false); err != nil {
		return o, err
	}
	if o.Arrivals, err = loadgen.ParseArrivals(arrivals); err != nil {
		return o, usagef("--arrivals: %v", err)
	}
	return o, nil
}

// flagDuration reads a duration flag, with a message that says how to write
// one.
func flagDuration(name, s string, zeroOK bool) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if _, err := strconv.ParseFloat(s, 64); err == nil && s != "0" {
		return 0, usagef("%s %s has no unit; write a duration such as %ss or %sms", name, s, s, s)
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, usagef("%s %q is not a duration; write one such as 30s, 2m or 500ms", name, s)
	case d < 0:
		return 0, usagef("%s %s is negative; give a positive duration such as 30s", name, s)
	case d == 0 && !zeroOK:
		return 0, usagef("%s %s: must be more than zero, such as 30s", name, s)
	}
	return d, nil
}

// resolve works out what to attack: a URL, or a topology's entries at their
// endpoints or emulated.
func (a *attackCmd) resolve(ctx context.Context, arg string, rateFlag *rateValue, emulated bool, seed uint64, tmpl loadgen.Target) error {
	if strings.Contains(arg, "://") || looksLikeHostPort(arg) {
		if emulated {
			return usagef("--emulate needs a topology FILE, not a URL")
		}
		if err := loadgen.CheckURL(arg); err != nil {
			return usagef("%v", err)
		}
		if !rateFlag.set {
			return usagef("--rate is required with a URL: give the requests per second, e.g. --rate 100")
		}
		t := tmpl
		t.Name, t.URL, t.Rate = arg, arg, rateFlag.rate
		a.list = []loadgen.Target{t}
		return nil
	}
	t, err := loadTopology([]string{arg}, rateFlag)
	if err != nil {
		return err
	}
	a.topo = t
	var targets []loadgen.Target
	if emulated {
		if a.em, err = emulate.Start(ctx, t, emulate.Options{Seed: seed}); err != nil {
			return flagHint(err)
		}
		if targets, err = loadgen.TargetsAtReplicas(t, a.em.URLs); err != nil {
			return err
		}
		// An entry of several replicas follows them, so that one stopped
		// (POST /admin/stop) gets no more requests.
		for i := range targets {
			if len(targets[i].Replicas) > 1 {
				em, entry := a.em, targets[i].Name
				targets[i].Discover = func(ctx context.Context, update func([]string)) error {
					err := em.WatchReplicas(ctx, entry, update)
					if errors.Is(err, context.Canceled) {
						return nil // the attack is over
					}
					return err
				}
			}
		}
	} else if targets, err = loadgen.TopologyTargets(t); err != nil {
		return flagHint(err)
	}
	for i := range targets {
		targets[i].Method, targets[i].Header, targets[i].Body = tmpl.Method, tmpl.Header, tmpl.Body
	}
	a.list = targets
	return nil
}

// looksLikeHostPort reports whether s is a URL written without its scheme,
// such as 127.0.0.1:8080/ or localhost:8080, so that it is reported as a
// URL, not as a missing file.
func looksLikeHostPort(s string) bool {
	host, rest, ok := strings.Cut(s, ":")
	if !ok || host == "" || strings.ContainsAny(host, "/\\") {
		return false
	}
	port, _, _ := strings.Cut(rest, "/")
	_, err := strconv.Atoi(port)
	return err == nil
}

func (a *attackCmd) close() {
	if a.em != nil {
		a.em.Close()
	}
	if a.reg != nil {
		a.reg.Close()
	}
}

func (a *attackCmd) run(ctx context.Context, output string, jsonOut bool) error {
	e := a.e
	report := e.stdout
	keep := func() error { return nil } // puts --output FILE in place
	if output != "" {
		w := e.stdout
		if output == "-" {
			if jsonOut {
				return usagef("--output - and --json both want stdout; write the results to a file")
			}
			report = e.stderr // the results take stdout, for a pipe into vegeta
		} else {
			f, err := newOutputFile(output)
			if err != nil {
				return err
			}
			defer f.abandon() // unless kept below: an earlier file stays as it was
			w = f.tmp
			keep = f.keep
		}
		a.opts.Output = w
	}
	if !jsonOut {
		a.printPlan(report)
	}
	if e.interactive {
		a.opts.Progress = func(p loadgen.Progress) {
			phase := ""
			if p.Elapsed < a.opts.Warmup {
				phase = " (warm-up)"
			}
			fmt.Fprintf(e.stderr, "\rattacking: %4.0fs of %.0fs%s  sent %d  answered %d  failed %d  in flight %d  not sent %d  lag max %s   ",
				p.Elapsed.Seconds(), p.Total.Seconds(), phase, p.Sent, p.Completed, p.Failed, p.InFlight, p.NotSent, secs(p.MaxLag.Seconds()))
		}
	}
	res, err := loadgen.Attack(ctx, a.list, a.opts)
	if e.interactive {
		fmt.Fprint(e.stderr, "\r\033[K") // clear the progress line
	}
	if res == nil {
		return err // nothing was sent: --output FILE is left as it was
	}
	if kerr := keep(); kerr != nil {
		return kerr
	}
	var services []emulate.ServiceStats
	if a.em != nil {
		services = a.em.Stats()
	}
	if jsonOut {
		out := attackJSON{Result: res, Services: services}
		if a.topo != nil {
			out.Topology = a.topo.Name
		}
		if werr := writeJSON(e.stdout, out); werr != nil {
			return werr
		}
	} else {
		printAttack(report, res, services)
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if res.Run.Interrupted {
		return ctx.Err() // printed what was measured; now say it was interrupted
	}
	return judgeSuccess(res, a.minSuccess)
}

// judgeSuccess fails an attack in which every request failed, or nothing
// was sent, or an entry's success ratio fell below minSuccess: the figures
// printed are then not the latency of a working service.
func judgeSuccess(res *loadgen.Result, minSuccess float64) error {
	r := res.Run
	switch {
	case r.Requests == 0:
		return fmt.Errorf("no request was sent during the measurement window (%d due were not sent); nothing was measured", r.NotSent)
	case res.AllFailed():
		return fmt.Errorf("every request failed: none of the %d sent succeeded (see the failures above)", r.Requests)
	}
	var below []string
	for _, e := range res.Entries {
		if e.Requests > 0 && e.SuccessRatio < minSuccess {
			below = append(below, fmt.Sprintf("%s: %s of %d", e.Entry, successPct(e.SuccessRatio), e.Requests))
		}
	}
	if len(below) > 0 {
		return fmt.Errorf("fewer requests succeeded than --min-success %s asks: %s", pct(minSuccess), strings.Join(below, "; "))
	}
	return nil
}

// attackJSON is attack --json: the measured entries in predict's shape, the
// run, and with --emulate the services' realized service times.
type attackJSON struct {
	Topology string `json:"topology,omitempty"`
	*loadgen.Result
	Services []emulate.ServiceStats `json:"services,omitempty"`
}

func (a *attackCmd) printPlan(w io.Writer) {
	var total float64
	for _, t := range a.list {
		total += t.Rate
	}
	what := a.list[0].URL
	if a.reg != nil && a.topo == nil {
		what = fmt.Sprintf("%s in %s", a.list[0].Name, a.reg.Target())
	}
	if a.topo != nil {
		what = fmt.Sprintf("%s (%d %s", a.topo.Name, len(a.list), plural(len(a.list), "entry", "entries"))
		if a.em != nil {
			what += ", emulated"
		}
		if a.reg != nil {
			what += ", registered in " + a.reg.Target().String()
		}
		what += ")"
	}
	warm := ""
	if a.opts.Warmup > 0 {
		warm = " after a " + a.opts.Warmup.String() + " warm-up"
	}
	fmt.Fprintf(w, "Attacking %s: %s arrivals, %s in all, for %s%s (seed %d).\n",
		what, a.opts.Arrivals, rate(total), a.opts.Duration, warm, a.opts.Seed)
	if a.em != nil {
		for _, s := range a.em.Stats() {
			if slices.ContainsFunc(a.list, func(t loadgen.Target) bool { return t.URL == s.URL }) {
				fmt.Fprintf(w, "  %s at %s\n", s.Name, s.URL)
			}
		}
	}
	fmt.Fprintln(w)
}

func printAttack(w io.Writer, res *loadgen.Result, services []emulate.ServiceStats) {
	r := res.Run
	if r.Interrupted {
		fmt.Fprintf(w, "INTERRUPTED: the figures cover the %s measured before Ctrl-C.\n\n", secs(r.Duration))
	}
	tb := newTable(w, "END TO END", "RATE", "REQUESTS", "SUCCESS", "MEAN", "p50", "p90", "p95", "p99", "p99.9")
	for _, e := range res.Entries {
		success := "-"
		if e.Requests > 0 {
			success = pct(e.SuccessRatio)
		}
		q := e.Percentiles
		if q == nil {
			tb.row(e.Entry, rate(e.Rate), strconv.FormatInt(e.Requests, 10), success, secsPtr(e.Mean), "-", "-", "-", "-", "-")
			continue
		}
		tb.row(e.Entry, rate(e.Rate), strconv.FormatInt(e.Requests, 10), success, secsPtr(e.Mean),
			secs(q.P50), secs(q.P90), secs(q.P95), secs(q.P99), secs(q.P999))
	}
	tb.flush()
	fmt.Fprintln(w)

	for _, e := range res.Entries {
		prefix := ""
		if len(res.Entries) > 1 {
			prefix = e.Entry + ": "
		}
		fmt.Fprintf(w, "%sstatus %s", prefix, countsLine(e.StatusCodes, "×"))
		if e.NotSent > 0 {
			fmt.Fprintf(w, "; %d due but NOT SENT", e.NotSent)
		}
		fmt.Fprintln(w)
		for _, c := range e.Errors {
			fmt.Fprintf(w, "%s  failed: %s ×%d, e.g. %q\n", prefix, c.Class, c.Count, c.Example)
		}
	}
	fmt.Fprintln(w)
	printReplicas(w, res)

	cv := "-"
	if r.InterarrivalCV != nil {
		cv = strconv.FormatFloat(*r.InterarrivalCV, 'f', 3, 64)
	}
	mark := map[string]string{"poisson": "1 for Poisson", "constant": "0 for constant"}[r.Arrivals]
	fmt.Fprintf(w, "Run: sent %s of the %s asked; inter-arrival cv %s (%s).\n", rate(r.RateAchieved), rate(r.RateRequested), cv, mark)
	verdict := "trustworthy"
	if !r.Trustworthy {
		verdict = "NOT TRUSTWORTHY"
	}
	late := ""
	if r.LateFraction > 0 {
		late = ", exceeded by " + pct(r.LateFraction) + " of sends"
	}
	fmt.Fprintf(w, "Sends behind schedule: at most %s, p99 %s (bound %s%s): %s.\n", secs(r.MaxLag), secs(r.LagP99), secs(r.MaxLagAllowed), late, verdict)
	if r.NotSent > 0 || r.NotSentWarmup > 0 {
		fmt.Fprintf(w, "Not sent: %d requests due in the window (%d in the warm-up): %d more than %s late, %d while %d were in flight (the cap); at most %d were in flight.\n",
			r.NotSent, r.NotSentWarmup, r.NotSentBehind, secs(r.SkipAfter), r.NotSentAtCap, r.MaxInFlight, r.PeakInFlight)
	}

	if len(services) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Emulated services: the service times drawn (they stray from the file's by sampling), and as realized.")
		printRealized(w, services)
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w)
		for _, msg := range r.Warnings {
			fmt.Fprintf(w, "WARNING: %s.\n", msg)
		}
	}
}

// printReplicas lists, for each entry of several replicas, or whose
// replicas came from a registry, what was sent to each replica over the
// whole attack (warm-up and drain included), what failed there, and when
// a replica came or went.
func printReplicas(w io.Writer, res *loadgen.Result) {
	printed := false
	for _, e := range res.Entries {
		if len(e.Replicas) == 0 {
			continue
		}
		tb := newTable(w, "REPLICA OF "+e.Entry, "SENT", "FAILED", "WHEN")
		for _, r := range e.Replicas {
			var note []string
			if r.Joined > 0 {
				note = append(note, fmt.Sprintf("registered at %s", secs(r.Joined)))
			}
			if r.Left > 0 {
				note = append(note, fmt.Sprintf("gone at %s", secs(r.Left)))
			}
			if len(note) == 0 {
				note = append(note, "throughout")
			}
			tb.row(r.URL, strconv.FormatInt(r.Sent, 10), strconv.FormatInt(r.Failed, 10), strings.Join(note, ", "))
		}
		tb.flush()
		printed = true
	}
	if printed {
		fmt.Fprintln(w, "(sent over the whole attack, warm-up included; times from its start)")
		fmt.Fprintln(w)
	}
}

// countsLine writes counts as "200×598, 503×2", largest first.
func countsLine(m map[string]int64, sep string) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		if sep == "×" {
			parts[i] = k + "×" + strconv.FormatInt(m[k], 10)
		} else {
			parts[i] = strconv.FormatInt(m[k], 10) + sep + k
		}
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// headerFlag collects repeated --header 'Name: value' flags.
type headerFlag http.Header

func (h *headerFlag) String() string { return "" }

func (h *headerFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("%q: write a header as 'Name: value'", s)
	}
	if *h == nil {
		*h = headerFlag{}
	}
	http.Header(*h).Add(name, strings.TrimSpace(value))
	return nil
}

// outputFile is --output FILE under construction: results go to a
// temporary file beside it, renamed over FILE only once the attack has run,
// so that a run that fails before sending anything never destroys the
// results of an earlier one.
type outputFile struct {
	path string
	tmp  *os.File
	done bool
}

func newOutputFile(path string) (*outputFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("--output %s: is a directory; give a file name", path)
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("--output: %w", err)
	}
	return &outputFile{path: path, tmp: tmp}, nil
}

// keep closes the temporary file and renames it to the path asked for.
func (o *outputFile) keep() error {
	if err := o.tmp.Close(); err != nil {
		return fmt.Errorf("--output %s: %w", o.path, err)
	}
	if err := os.Chmod(o.tmp.Name(), 0o644); err != nil { // CreateTemp makes it private
		return fmt.Errorf("--output %s: %w", o.path, err)
	}
	if err := os.Rename(o.tmp.Name(), o.path); err != nil {
		return fmt.Errorf("--output %s: %w (the results are in %s)", o.path, err, o.tmp.Name())
	}
	o.done = true
	return nil
}

// abandon removes the temporary file unless keep has put it in place.
func (o *outputFile) abandon() {
	if !o.done {
		o.tmp.Close()
		os.Remove(o.tmp.Name())
	}
}
