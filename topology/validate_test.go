package topology

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNewRejects checks that a topology built by a program obeys every rule
// a file does: New is how generators and tests reach the model and the
// simulator without a file, so it must not let through what Parse rejects.
func TestNewRejects(t *testing.T) {
	svc := func(name string) *Service { return &Service{Name: name, ServiceTime: time.Millisecond} }
	one := []Workload{{Entry: "a", Rate: 1}}
	tests := []struct {
		name     string
		topo     string
		workload []Workload
		services []*Service
		want     []string
	}{
		{"empty entry", "gen", []Workload{{Entry: "", Rate: 1}}, []*Service{svc("a")}, []string{
			"gen: workload[0].entry: is empty; name the service where these requests arrive; the services are a",
		}},
		{"empty callee", "gen", one, []*Service{
			{Name: "a", ServiceTime: time.Millisecond, Calls: []Call{{To: "", Probability: 1}}}, svc("b"),
		}, []string{
			"gen: services.a.calls[0].to: is empty; name the service called; the services are a, b",
		}},
		{"empty service name", "gen", one, []*Service{svc("a"), svc("")}, []string{
			`gen: services."": a service has an empty name; give it one`,
		}},
		{"service name with a line break", "gen", one, []*Service{svc("a"), svc("b\nc")}, []string{
			`gen: services."b\nc": "b\nc" has an unprintable character (U+000A); names appear in every report's tables, so use printable characters only, e.g. "b c"`,
		}},
		{"service name that is not UTF-8", "gen", one, []*Service{svc("a"), svc("b\xff")}, []string{
			`gen: services."b\xff": "b\xff" is not valid UTF-8; names appear in every report's tables, so use printable characters only, e.g. "b"`,
		}},
		{"service name with a leading space", "gen", one, []*Service{svc("a"), svc(" b")}, []string{
			`gen: services." b": " b" begins or ends with a space, which no table shows; remove it: "b"`,
		}},
		{"topology name with a tab", "gen\t1", one, []*Service{svc("a")}, []string{
			`"gen\t1": name: "gen\t1" has an unprintable character (U+0009); names appear in every report's tables, so use printable characters only, e.g. "gen 1"`,
		}},
		{"rate below the smallest", "gen", []Workload{{Entry: "a", Rate: 5e-324}}, []*Service{svc("a")}, []string{
			"gen: workload[0].rate: 5e-324 req/s is below the smallest rate kendall handles, 1e-06 req/s (one request every 11.6 days); give a rate of at least 1e-06",
		}},
		{"rate above the largest", "gen", []Workload{{Entry: "a", Rate: math.Inf(1)}}, []*Service{svc("a")}, []string{
			"gen: workload[0].rate: +Inf req/s is above the largest rate kendall handles, 1e+09 req/s (a billion a second); give a rate of at most 1e+09",
		}},
		{"rate not a number", "gen", []Workload{{Entry: "a", Rate: math.NaN()}}, []*Service{svc("a")}, []string{
			"gen: workload[0].rate: NaN is not a positive rate; requests per second must be more than zero",
		}},
		{"zero service time", "gen", one, []*Service{{Name: "a"}}, []string{
			"gen: services.a.service_time: 0s is not positive; give a duration more than zero",
		}},
		{"lognormal cv below the smallest", "gen", one, []*Service{
			{Name: "a", ServiceTime: time.Millisecond, Distribution: Distribution{Kind: Lognormal, CV: 1e-300}},
		}, []string{
			"gen: services.a.cv: 1e-300 is below 0.01, the smallest coefficient of variation kendall handles: a service time whose standard deviation is under 1% of its mean is constant for every figure kendall reports, so use distribution: deterministic",
		}},
		{"lognormal cv above the largest", "gen", one, []*Service{
			{Name: "a", ServiceTime: time.Millisecond, Distribution: Distribution{Kind: Lognormal, CV: math.Inf(1)}},
		}, []string{
			"gen: services.a.cv: +Inf is above 100, the largest coefficient of variation kendall handles: beyond it no figure can be computed or simulated with any accuracy; use a cv of at most 100",
		}},
		{"lognormal cv not a number", "gen", one, []*Service{
			{Name: "a", ServiceTime: time.Millisecond, Distribution: Distribution{Kind: Lognormal, CV: math.NaN()}},
		}, []string{
			"gen: services.a.cv: NaN is not a coefficient of variation; use a positive number (1 is as variable as the exponential)",
		}},
		{"erlang with too many phases", "gen", one, []*Service{
			{Name: "a", ServiceTime: time.Millisecond, Distribution: Distribution{Kind: Erlang, K: 1 << 40}},
		}, []string{
			"gen: services.a.k: 1099511627776 phases; kendall handles up to 10000, and an Erlang with more phases has a standard deviation under 1% of its mean, constant for every figure kendall reports, so use distribution: deterministic",
		}},
		// The rules a file's endpoint, listen address and distribution
		// obey are New's too.
		{"unknown distribution", "gen", one, []*Service{
			{Name: "a", ServiceTime: time.Millisecond, Distribution: Distribution{Kind: "Lognormal", CV: 1}},
		}, []string{
			`gen: services.a.distribution: unknown distribution "Lognormal" (did you mean "lognormal"?); use one of exponential, deterministic, lognormal, erlang`,
		}},
		{"endpoint not a URL", "gen", one, []*Service{
			{Name: "a", ServiceTime: time.Millisecond, Endpoint: "localhost:8080"},
		}, []string{
			`gen: services.a.endpoint: "localhost:8080" is not an http or https URL; write one such as http://127.0.0.1:8080/checkout`,
		}},
		{"listen without a port", "gen", one, []*Service{
			{Name: "a", ServiceTime: time.Millisecond, Listen: "127.0.0.1"},
		}, []string{
			`gen: services.a.listen: "127.0.0.1" has no port; write host:port such as 127.0.0.1:8081`,
		}},
		{"count beyond 32 bits", "gen", one, []*Service{
			{Name: "a", ServiceTime: time.Millisecond, Calls: []Call{{To: "b", Probability: 1, Count: 1<<32 + 1}}}, svc("b"),
		}, []string{
			"gen: services.a.calls[0].count: 4294967297 calls in a row; kendall handles up to 1000000, which it simulates one by one; use a count of at most 1000000",
		}},
		{"negative replicas", "gen", one, []*Service{{Name: "a", ServiceTime: time.Millisecond, Replicas: -1}}, []string{
			"gen: services.a.replicas: -1 replicas; a service runs at least 1 (the default)",
		}},
		{"too many replicas", "gen", one, []*Service{{Name: "a", ServiceTime: time.Millisecond, Replicas: MaxReplicas + 1}}, []string{
			"gen: services.a.replicas: 10001 replicas; kendall handles up to 10000 per service, each served on a port of its own",
		}},
		// New takes the policies as the constants spell them; a file's
		// are read in any case.
		{"balancer in another case", "gen", one, []*Service{{Name: "a", ServiceTime: time.Millisecond, Replicas: 2, Balancer: "Random"}}, []string{
			`gen: services.a.balancer: unknown balancer "Random" (did you mean "random"?); use one of random, round-robin, least-requests, power-of-two`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.topo, tc.workload, tc.services)
			if err == nil {
				t.Fatal("no error")
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.ReplaceAll(got, "\n", "\n  "), strings.ReplaceAll(want, "\n", "\n  "))
			}
		})
	}
}

// TestNewAcceptsTheEdges checks that the limits themselves are accepted.
func TestNewAcceptsTheEdges(t *testing.T) {
	_, err := New("edges", []Workload{{Entry: "a", Rate: MinRate}, {Entry: "b", Rate: MaxRate}}, []*Service{
		{Name: "a", ServiceTime: time.Nanosecond, Distribution: Distribution{Kind: Lognormal, CV: MinCV},
			Calls: []Call{{To: "b", Probability: 1, Count: MaxCount}}},
		{Name: "b", Servers: MaxServers, ServiceTime: time.Duration(math.MaxInt64), Distribution: Distribution{Kind: Lognormal, CV: MaxCV}},
		{Name: "c d", ServiceTime: time.Millisecond, Distribution: Distribution{Kind: Erlang, K: MaxPhases},
			Replicas: MaxReplicas, Balancer: BalancerPowerOfTwo},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNewDefaults: a service given without replicas or a balancer has one
// replica, balanced at random, as in a file.
func TestNewDefaults(t *testing.T) {
	a := &Service{Name: "a", ServiceTime: time.Millisecond}
	b := &Service{Name: "b", ServiceTime: time.Millisecond, Replicas: 3, Balancer: BalancerRoundRobin}
	_, err := New("gen", []Workload{{Entry: "a", Rate: 1}}, []*Service{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if a.Replicas != 1 || a.Balancer != BalancerRandom || a.Servers != 1 {
		t.Errorf("a: replicas %d, balancer %q, servers %d; want 1, random, 1", a.Replicas, a.Balancer, a.Servers)
	}
	if b.Replicas != 3 || b.Balancer != BalancerRoundRobin {
		t.Errorf("b: replicas %d, balancer %q", b.Replicas, b.Balancer)
	}
}

// TestVisitsBounded: counts that multiply along a chain into more visits
// than anything can simulate, or float64 hold, are refused with the entry
// and the service named.
func TestVisitsBounded(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("workload: [{entry: s0, rate: 1}]\nservices:\n")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&doc, "  s%d: {service_time: 1ms, calls: [{to: s%d, count: 1000000}]}\n", i, i+1)
	}
	doc.WriteString("  s60: {service_time: 1ms}\n")
	_, err := Parse("chain.yaml", []byte(doc.String()))
	want := "chain.yaml:1: workload[0].entry: a request at s0 makes +Inf visits on average"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "kendall handles up to 10000000 visits per request") {
		t.Errorf("got %v, want %q", err, want)
	}
	// Within the bound: fine.
	ok := "workload: [{entry: a, rate: 1}]\nservices:\n  a: {service_time: 1ms, calls: [{to: b, count: 1000}]}\n  b: {service_time: 1ms, calls: [{to: c, count: 1000}]}\n  c: {service_time: 1ms}\n"
	if _, err := Parse("ok.yaml", []byte(ok)); err != nil {
		t.Error(err)
	}
}

// TestParseAndNewAgree checks that a file and a program that make the same
// mistake are told the same thing: each rule is written once, in validate,
// and only the file has lines to point to.
func TestParseAndNewAgree(t *testing.T) {
	svc := func(name string, calls ...Call) *Service {
		return &Service{Name: name, ServiceTime: time.Millisecond, Calls: calls}
	}
	one := []Workload{{Entry: "a", Rate: 1}}
	tests := []struct {
		name     string
		file     string // services: and what follows
		workload []Workload
		services []*Service
	}{
		{"servers", "a: {service_time: 1ms, servers: 5000000}", one,
			[]*Service{{Name: "a", ServiceTime: time.Millisecond, Servers: 5_000_000}}},
		{"distribution", "a: {service_time: 1ms, distribution: erlng}", one,
			[]*Service{{Name: "a", ServiceTime: time.Millisecond, Distribution: Distribution{Kind: "erlng"}}}},
		{"cv", "a: {service_time: 1ms, distribution: lognormal, cv: 1e-6}", one,
			[]*Service{{Name: "a", ServiceTime: time.Millisecond, Distribution: Distribution{Kind: Lognormal, CV: 1e-6}}}},
		{"k", "a: {service_time: 1ms, distribution: erlang, k: 0}", one,
			[]*Service{{Name: "a", ServiceTime: time.Millisecond, Distribution: Distribution{Kind: Erlang}}}},
		{"endpoint", "a: {service_time: 1ms, endpoint: ftp://x}", one,
			[]*Service{{Name: "a", ServiceTime: time.Millisecond, Endpoint: "ftp://x"}}},
		{"listen", "a: {service_time: 1ms, listen: \"x:99999\"}", one,
			[]*Service{{Name: "a", ServiceTime: time.Millisecond, Listen: "x:99999"}}},
		{"probability and count", "a: {service_time: 1ms, calls: [{to: b, probability: 1.5, count: -1}]}\n  b: {service_time: 1ms}", one,
			[]*Service{svc("a", Call{To: "b", Probability: 1.5, Count: -1}), svc("b")}},
		{"callee", "a: {service_time: 1ms, calls: [{to: bb}, {to: \"\"}]}\n  b: {service_time: 1ms}", one,
			[]*Service{svc("a", Call{To: "bb", Probability: 1}, Call{To: "", Probability: 1}), svc("b")}},
		{"cycle", "a: {service_time: 1ms, calls: [{to: a}]}", one,
			[]*Service{svc("a", Call{To: "a", Probability: 1})}},
		{"replicas", "a: {service_time: 1ms, replicas: -3}", one,
			[]*Service{{Name: "a", ServiceTime: time.Millisecond, Replicas: -3}}},
		{"balancer", "a: {service_time: 1ms, replicas: 2, balancer: power-of-too}", one,
			[]*Service{{Name: "a", ServiceTime: time.Millisecond, Replicas: 2, Balancer: "power-of-too"}}},
		{"duplicate name", "a: {service_time: 1ms}\n  a: {service_time: 1ms}", one,
			[]*Service{svc("a"), svc("a")}},
		{"name", "a: {service_time: 1ms}\n  \"b\\tc\": {service_time: 1ms}", one,
			[]*Service{svc("a"), svc("b\tc")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := "workload: [{entry: a, rate: 1}]\nservices:\n  " + tc.file + "\n"
			_, perr := Parse("f.yaml", []byte(doc))
			_, nerr := New("f.yaml", tc.workload, tc.services)
			if perr == nil || nerr == nil {
				t.Fatalf("Parse: %v\nNew: %v", perr, nerr)
			}
			// The file's problems without their lines.
			fromFile := regexp.MustCompile(`(?m)^f\.yaml:\d+: `).ReplaceAllString(perr.Error(), "f.yaml: ")
			if fromFile != nerr.Error() {
				t.Errorf("Parse says:\n  %s\nNew says:\n  %s", strings.ReplaceAll(fromFile, "\n", "\n  "), strings.ReplaceAll(nerr.Error(), "\n", "\n  "))
			}
		})
	}
}
