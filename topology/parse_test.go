package topology

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseShop(t *testing.T) {
	topo, err := Load(filepath.Join("..", "examples", "shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if topo.Name != "shop" {
		t.Errorf("name %q", topo.Name)
	}
	if len(topo.Workload) != 1 || topo.Workload[0].Entry != "gateway" || topo.Workload[0].Rate != 120 {
		t.Errorf("workload %+v", topo.Workload)
	}
	var names []string
	for _, s := range topo.Services {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "gateway,catalog,cart,db" {
		t.Errorf("services in file order: got %s", got)
	}
	gw := topo.Service("gateway")
	if gw.Servers != 4 || gw.ServiceTime != 2*time.Millisecond || !gw.Distribution.IsExponential() {
		t.Errorf("gateway %+v", gw)
	}
	want := []Call{{To: "catalog", Probability: 1, Count: 1}, {To: "cart", Probability: 0.3, Count: 1}}
	for i, c := range gw.Calls {
		c.Line = 0
		if c != want[i] {
			t.Errorf("gateway call %d = %+v, want %+v", i, c, want[i])
		}
	}
	if c := topo.Service("catalog").Calls[0]; c.To != "db" || c.Count != 2 {
		t.Errorf("catalog call %+v", c)
	}
	if db := topo.Service("db"); db.Servers != 4 || db.ServiceTime != 1500*time.Microsecond || db.Calls != nil && len(db.Calls) != 0 {
		t.Errorf("db %+v", db)
	}
	if cart := topo.Service("cart"); cart.Servers != 1 || cart.Line != 27 {
		t.Errorf("cart servers %d, line %d (want 1, 27)", cart.Servers, cart.Line)
	}
}

// TestJSONEquivalent checks that the same document written as JSON, tab
// indented, parses to the same topology.
func TestJSONEquivalent(t *testing.T) {
	y := `name: n
workload: [{entry: a, rate: 10}]
services:
  a: {servers: 2, service_time: 3ms, distribution: lognormal, cv: 1.5, calls: [{to: b, probability: 0.5, count: 2}]}
  b: {service_time: 1ms, distribution: erlang, k: 3, endpoint: "http://127.0.0.1:9000/b", listen: "127.0.0.1:0"}
`
	j := "{\n\t\"name\": \"n\",\n\t\"workload\": [{\"entry\": \"a\", \"rate\": 10}],\n\t\"services\": {\n\t\t\"a\": {\"servers\": 2, \"service_time\": \"3ms\", \"distribution\": \"lognormal\", \"cv\": 1.5, \"calls\": [{\"to\": \"b\", \"probability\": 0.5, \"count\": 2}]},\n\t\t\"b\": {\"service_time\": \"1ms\", \"distribution\": \"erlang\", \"k\": 3, \"endpoint\": \"http://127.0.0.1:9000/b\", \"listen\": \"127.0.0.1:0\"}\n\t}\n}\n"
	ty, err := Parse("n.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	tj, err := Parse("n.json", []byte(j))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ty.Services {
		a, b := *ty.Services[i], *tj.Services[i]
		a.Line, b.Line = 0, 0
		for k := range a.Calls {
			a.Calls[k].Line, b.Calls[k].Line = 0, 0
		}
		if a.Name != b.Name || a.Servers != b.Servers || a.ServiceTime != b.ServiceTime || a.Distribution != b.Distribution ||
			a.Endpoint != b.Endpoint || a.Listen != b.Listen || len(a.Calls) != len(b.Calls) {
			t.Errorf("service %d: YAML %+v, JSON %+v", i, a, b)
		}
		for k := range a.Calls {
			if a.Calls[k] != b.Calls[k] {
				t.Errorf("call %d: YAML %+v, JSON %+v", k, a.Calls[k], b.Calls[k])
			}
		}
	}
	if d := ty.Service("a").Distribution; d.Kind != Lognormal || d.CV != 1.5 || d.SCV() != 2.25 {
		t.Errorf("lognormal %+v", d)
	}
	if d := ty.Service("b").Distribution; d.Kind != Erlang || d.K != 3 || d.SCV() != 1.0/3 {
		t.Errorf("erlang %+v", d)
	}
}

// TestBadFiles pins the exact message each mistake gets: file, line, field,
// what is wrong and how to fix it.
func TestBadFiles(t *testing.T) {
	const head = "workload: [{entry: a, rate: 10}]\nservices:\n"
	tests := []struct {
		name string
		file string
		want []string // every line of the error, in order
	}{
		{"misspelt service field", head + "  a: {service_tme: 1ms}\n", []string{
			`f.yaml:3: services.a.service_tme: unknown field (did you mean "service_time"?); the fields here are servers, service_time, distribution, cv, k, endpoint, listen, calls`,
			"f.yaml:3: services.a.service_time: missing; give the mean service time as a duration, e.g. service_time: 5ms",
		}},
		{"unknown top-level field", "workloads: []\n" + head[len("workload: [{entry: a, rate: 10}]\n"):] + "  a: {service_time: 1ms}\n", []string{
			`f.yaml:1: workloads: unknown field (did you mean "workload"?); the fields here are name, workload, services`,
			"f.yaml:1: workload: missing; add a workload such as [{entry: a, rate: 100}] to say where requests arrive and how fast",
		}},
		{"unknown callee", head + "  a: {service_time: 1ms, calls: [{to: bb}]}\n  b: {service_time: 1ms}\n", []string{
			`f.yaml:3: services.a.calls[0].to: unknown service "bb" (did you mean "b"?); the services are a, b`,
		}},
		{"unknown entry", "workload: [{entry: gatewy, rate: 10}]\nservices:\n  gateway: {service_time: 1ms}\n", []string{
			`f.yaml:1: workload[0].entry: unknown service "gatewy" (did you mean "gateway"?); the services are gateway`,
		}},
		{"cycle", head + "  a: {service_time: 1ms, calls: [{to: b}]}\n  b: {service_time: 1ms, calls: [{to: c}]}\n  c: {service_time: 1ms, calls: [{to: a}]}\n", []string{
			"f.yaml:5: services.c.calls[0].to: calls form a cycle: a → b → c → a; calls must form a directed acyclic graph, so remove one of these calls",
		}},
		{"self call", head + "  a: {service_time: 1ms, calls: [{to: a}]}\n", []string{
			"f.yaml:3: services.a.calls[0].to: calls form a cycle: a → a; calls must form a directed acyclic graph, so remove one of these calls",
		}},
		{"zero service time", head + "  a: {service_time: 0s}\n", []string{
			"f.yaml:3: services.a.service_time: 0s is not positive; a service time must be more than zero",
		}},
		{"negative service time", head + "  a: {service_time: -2ms}\n", []string{
			"f.yaml:3: services.a.service_time: -2ms is not positive; a service time must be more than zero",
		}},
		{"service time without unit", head + "  a: {service_time: 5}\n", []string{
			"f.yaml:3: services.a.service_time: 5 has no unit; write a duration such as 5ms or 5us",
		}},
		{"service time not a duration", head + "  a: {service_time: fast}\n", []string{
			`f.yaml:3: services.a.service_time: "fast" is not a duration; write one such as 5ms, 1500us or 1.2s`,
		}},
		{"zero servers", head + "  a: {servers: 0, service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.servers: 0 workers; a service needs at least 1",
		}},
		{"fractional servers", head + "  a: {servers: 2.5, service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.servers: 2.5 is not a whole number; use an integer",
		}},
		{"negative rate", "workload: [{entry: a, rate: -5}]\nservices:\n  a: {service_time: 1ms}\n", []string{
			"f.yaml:1: workload[0].rate: -5 is not a positive rate; requests per second must be more than zero",
		}},
		{"zero rate", "workload: [{entry: a, rate: 0}]\nservices:\n  a: {service_time: 1ms}\n", []string{
			"f.yaml:1: workload[0].rate: 0 is not a positive rate; requests per second must be more than zero",
		}},
		{"probability above one", head + "  a: {service_time: 1ms, calls: [{to: b, probability: 1.5}]}\n  b: {service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.calls[0].probability: 1.5 is not a probability; use a number from 0 to 1",
		}},
		{"negative probability", head + "  a: {service_time: 1ms, calls: [{to: b, probability: -0.1}]}\n  b: {service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.calls[0].probability: -0.1 is not a probability; use a number from 0 to 1",
		}},
		{"zero count", head + "  a: {service_time: 1ms, calls: [{to: b, count: 0}]}\n  b: {service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.calls[0].count: 0; a call is made at least once (to skip it, remove it or use probability)",
		}},
		{"no workload", "services:\n  a: {service_time: 1ms}\n", []string{
			"f.yaml:1: workload: missing; add a workload such as [{entry: a, rate: 100}] to say where requests arrive and how fast",
		}},
		{"empty workload", "workload: []\nservices:\n  a: {service_time: 1ms}\n", []string{
			"f.yaml:1: workload: is empty; add at least one entry such as {entry: a, rate: 100}",
		}},
		{"workload entry without rate", "workload: [{entry: a}]\nservices:\n  a: {service_time: 1ms}\n", []string{
			"f.yaml:1: workload[0].rate: missing; give the arrival rate in requests per second, e.g. rate: 100",
		}},
		{"duplicate entry", "workload: [{entry: a, rate: 1}, {entry: a, rate: 2}]\nservices:\n  a: {service_time: 1ms}\n", []string{
			`f.yaml:1: workload[1].entry: "a" has a workload already; merge the two into one entry whose rate is their sum`,
		}},
		{"no services", "workload: [{entry: a, rate: 10}]\n", []string{
			"f.yaml:1: services: missing; list the services under services:, each with at least service_time",
		}},
		{"unknown distribution", head + "  a: {service_time: 1ms, distribution: lognorml}\n", []string{
			`f.yaml:3: services.a.distribution: unknown distribution "lognorml" (did you mean "lognormal"?); use one of exponential, deterministic, lognormal, erlang`,
		}},
		{"lognormal without cv", head + "  a: {service_time: 1ms, distribution: lognormal}\n", []string{
			"f.yaml:3: services.a.cv: missing; a lognormal distribution needs its coefficient of variation, e.g. cv: 1.5",
		}},
		{"erlang without k", head + "  a: {service_time: 1ms, distribution: erlang}\n", []string{
			"f.yaml:3: services.a.k: missing; an Erlang distribution needs its number of phases, e.g. k: 4",
		}},
		{"cv on exponential", head + "  a: {service_time: 1ms, cv: 2}\n", []string{
			"f.yaml:3: services.a.cv: applies only to distribution: lognormal; remove it or set distribution: lognormal",
		}},
		{"negative cv", head + "  a: {service_time: 1ms, distribution: lognormal, cv: -1}\n", []string{
			"f.yaml:3: services.a.cv: -1 is not a coefficient of variation; use a positive number (1 is as variable as the exponential)",
		}},
		{"bad endpoint", head + "  a: {service_time: 1ms, endpoint: localhost:8080}\n", []string{
			`f.yaml:3: services.a.endpoint: "localhost:8080" is not an http or https URL; write one such as http://127.0.0.1:8080/checkout`,
		}},
		{"bad listen", head + "  a: {service_time: 1ms, listen: 127.0.0.1}\n", []string{
			`f.yaml:3: services.a.listen: "127.0.0.1" has no port; write host:port such as 127.0.0.1:8081`,
		}},
		{"duplicate service", head + "  a: {service_time: 1ms}\n  a: {service_time: 2ms}\n", []string{
			"f.yaml:4: services.a: appears twice; service names must be unique",
		}},
		{"duplicate field", head + "  a: {service_time: 1ms, service_time: 2ms}\n", []string{
			"f.yaml:3: services.a.service_time: appears twice; keep one",
		}},
		{"calls not a list", head + "  a: {service_time: 1ms, calls: b}\n", []string{
			"f.yaml:3: services.a.calls: is a value (b); it must be a list such as [{to: db}]",
		}},
		{"service not a mapping", head + "  a: 5ms\n", []string{
			"f.yaml:3: services.a: is a value (5ms); it must be a mapping with the fields servers, service_time, distribution, cv, k, endpoint, listen, calls",
		}},
		// The line is the YAML parser's, which for an unclosed flow mapping
		// is the line before the one that opens it.
		{"yaml syntax", "services:\n  a: {service_time: 1ms\n", []string{
			"f.yaml:1: not valid YAML or JSON: did not find expected ',' or '}'",
		}},
		{"empty file", "", []string{
			"f.yaml: the file is empty; a topology needs a workload and services (see examples/)",
		}},
		{"a list, not a topology", "- a\n- b\n", []string{
			"f.yaml:1: the document is a list; a topology is a mapping with name, workload and services",
		}},
		{"too many servers", head + "  a: {servers: 5000000, service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.servers: 5000000 workers; kendall handles up to 1000000 per service",
		}},
		{"empty service name beside other mistakes", head + "  a: {service_time: 1ms, calls: [{to: nosuch}]}\n  \"\": {service_time: 1ms}\n", []string{
			`f.yaml:3: services.a.calls[0].to: unknown service "nosuch"; the services are a`,
			`f.yaml:4: services."": a service has an empty name; give it one`,
		}},
		{"several mistakes at once", "workload: [{entry: a, rate: 0}]\nservices:\n  a: {servers: -1, service_time: 1ms, calls: [{to: z}]}\n", []string{
			"f.yaml:1: workload[0].rate: 0 is not a positive rate; requests per second must be more than zero",
			"f.yaml:3: services.a.servers: -1 workers; a service needs at least 1",
			`f.yaml:3: services.a.calls[0].to: unknown service "z"; the services are a`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.file))
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			var te *Error
			if !errors.As(err, &te) || te.File != "f.yaml" {
				t.Errorf("errors.As(*Error) = %v, file %q", te, te.File)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

func TestNameFromFile(t *testing.T) {
	topo, err := Parse("dir/checkout.yaml", []byte("workload: [{entry: a, rate: 1}]\nservices: {a: {service_time: 1ms}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if topo.Name != "checkout" {
		t.Errorf("name %q, want checkout", topo.Name)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr string
	}{
		{"120", 120, ""},
		{"120/s", 120, ""},
		{" 0.5/s ", 0.5, ""},
		{"7200/m", 120, ""},
		{"3600/h", 1, ""},
		{"0", 0, `0 is not a positive rate; requests per second must be more than zero`},
		{"-3/s", 0, `-3/s is not a positive rate; requests per second must be more than zero`},
		{"fast", 0, `"fast" is not a rate; write requests per second, e.g. 120 or 120/s`},
		{"10/d", 0, `"10/d": unknown unit "d"; write the rate as requests per second, e.g. 120 or 120/s`},
		{"Inf", 0, `Inf is not a positive rate; requests per second must be more than zero`},
	}
	for _, tc := range tests {
		got, err := ParseRate(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("ParseRate(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestWithRateKeepsMix(t *testing.T) {
	topo, err := Parse("m.yaml", []byte("workload: [{entry: a, rate: 30}, {entry: b, rate: 10}]\nservices: {a: {service_time: 1ms}, b: {service_time: 1ms}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	scaled, err := topo.WithRate(100)
	if err != nil {
		t.Fatal(err)
	}
	if scaled.Workload[0].Rate != 75 || scaled.Workload[1].Rate != 25 || scaled.TotalRate() != 100 {
		t.Errorf("scaled workload %+v", scaled.Workload)
	}
	if topo.TotalRate() != 40 {
		t.Errorf("WithRate changed the original: %+v", topo.Workload)
	}
	if _, err := topo.WithRate(0); err == nil {
		t.Error("WithRate(0) accepted")
	}
}

func TestOrderCallersFirst(t *testing.T) {
	topo, err := Load(filepath.Join("..", "examples", "shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, s := range topo.Order() {
		pos[topo.Services[s].Name] = i
	}
	for _, s := range topo.Services {
		for _, c := range s.Calls {
			if pos[s.Name] >= pos[c.To] {
				t.Errorf("%s comes after its callee %s in %v", s.Name, c.To, topo.Order())
			}
		}
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New("gen", []Workload{{Entry: "a", Rate: 1}}, []*Service{
		{Name: "a", ServiceTime: time.Millisecond, Calls: []Call{{To: "b", Probability: 1}}},
		{Name: "b", ServiceTime: time.Millisecond, Calls: []Call{{To: "a", Probability: 1}}},
	})
	if err == nil || !strings.Contains(err.Error(), "calls form a cycle: a → b → a") {
		t.Errorf("got %v, want a cycle error", err)
	}
	topo, err := New("gen", []Workload{{Entry: "a", Rate: 1}}, []*Service{{Name: "a", ServiceTime: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if s := topo.Service("a"); s.Servers != 1 || s.Distribution.Kind != Exponential {
		t.Errorf("defaults not applied: %+v", s)
	}
}
