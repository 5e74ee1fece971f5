package topology

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
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
			`f.yaml:3: services.a.service_tme: unknown field (did you mean "service_time"?); the fields here are servers, replicas, balancer, service_time, distribution, cv, k, endpoint, listen, hold, calls`,
			"f.yaml:3: services.a.service_time: missing; give the mean service time as a duration, e.g. service_time: 5ms",
		}},
		{"unknown top-level field", "workloads: []\n" + head[len("workload: [{entry: a, rate: 10}]\n"):] + "  a: {service_time: 1ms}\n", []string{
			`f.yaml:1: workloads: unknown field (did you mean "workload"?); the fields here are name, workload, services`,
			"f.yaml:1: workload: missing; add a workload such as [{entry: a, rate: 100}] to say where requests arrive and how fast",
		}},
		// Groups of parallel calls.
		{"wait beyond the group", head + "  a:\n    service_time: 1ms\n    calls:\n      - parallel: [{to: b}, {to: b}]\n        wait: 3\n  b: {service_time: 1ms}\n", []string{
			"f.yaml:7: services.a.calls[0].wait: 3, but the group makes at most 2 calls; wait for at most 2 (or all)",
		}},
		{"empty group", head + "  a: {service_time: 1ms, calls: [{parallel: []}]}\n", []string{
			"f.yaml:3: services.a.calls[0].parallel: is empty; list the calls made at once, e.g. parallel: [{to: search}, {to: ads}]",
		}},
		{"group and callee", head + "  a: {service_time: 1ms, calls: [{to: b, parallel: [{to: b}]}]}\n  b: {service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.calls[0].to: a call is either to a service or a group of parallel calls, not both; move this call into parallel:, or make it a call of its own",
		}},
		{"nested group", head + "  a: {service_time: 1ms, calls: [{parallel: [{to: b}, {parallel: [{to: b}]}]}]}\n  b: {service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.calls[0].parallel[1].parallel: a group within a group; list its calls in the outer group instead (groups do not nest)",
		}},
		{"group with a probability", head + "  a: {service_time: 1ms, calls: [{parallel: [{to: b}], probability: 0.5}]}\n  b: {service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.calls[0].parallel: probability and count apply to each call of a group, not to the group; move them onto its calls",
		}},
		{"wait without a group", head + "  a: {service_time: 1ms, calls: [{to: b, wait: 2}]}\n  b: {service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.calls[0].wait: applies only to a group of parallel calls; remove it, or list the calls under parallel:",
		}},
		{"wait that is no number", head + "  a: {service_time: 1ms, calls: [{parallel: [{to: b}], wait: most}]}\n  b: {service_time: 1ms}\n", []string{
			`f.yaml:3: services.a.calls[0].wait: "most" is not all, any or a number of calls; e.g. wait: 2 for a majority of three`,
		}},
		{"unknown service in a group", head + "  a: {service_time: 1ms, calls: [{parallel: [{to: b}, {to: c}]}]}\n  b: {service_time: 1ms}\n", []string{
			`f.yaml:3: services.a.calls[0].parallel[1].to: unknown service "c"; the services are a, b`,
		}},
		{"cycle through a group", head + "  a: {service_time: 1ms, calls: [{parallel: [{to: b}]}]}\n  b: {service_time: 1ms, calls: [{to: a}]}\n", []string{
			"f.yaml:4: services.b.calls[0].to: calls form a cycle: a → b → a; calls must form a directed acyclic graph, so remove one of these calls",
		}},
		{"hold not a boolean", head + "  a: {service_time: 1ms, hold: maybe}\n", []string{
			`f.yaml:3: services.a.hold: "maybe" is not true or false`,
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
			"f.yaml:3: services.a.service_time: 0s is not positive; give a duration more than zero",
		}},
		{"negative service time", head + "  a: {service_time: -2ms}\n", []string{
			"f.yaml:3: services.a.service_time: -2ms is not positive; give a duration more than zero",
		}},
		{"service time under a nanosecond", head + "  a: {service_time: 0.1ns}\n", []string{
			"f.yaml:3: services.a.service_time: 0.1ns is shorter than 1ns, the shortest duration kendall handles; give at least 1ns",
		}},
		{"service time beyond a duration", head + "  a: {service_time: 3000000h}\n", []string{
			"f.yaml:3: services.a.service_time: 3000000h is longer than the longest duration kendall handles, 2562047h (about 292 years); give a shorter one",
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
			"f.yaml:3: services.a: is a value (5ms); it must be a mapping with the fields servers, replicas, balancer, service_time, distribution, cv, k, endpoint, listen, hold, calls",
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
		// Empty names: each of these parsed and then crashed the model
		// (index out of range [-1]).
		{"empty entry", "workload: [{entry: \"\", rate: 1}]\nservices: {a: {service_time: 1ms}}\n", []string{
			"f.yaml:1: workload[0].entry: is empty; name the service where these requests arrive; the services are a",
		}},
		{"entry that is only a tag", "workload:\n  - entry: !x\n    rate: 1\nservices: {a: {service_time: 1ms}}\n", []string{
			"f.yaml:2: workload[0].entry: is empty; name the service where these requests arrive; the services are a",
		}},
		{"null entry reported once", "workload: [{entry: ~, rate: 1}]\nservices: {a: {service_time: 1ms}}\n", []string{
			"f.yaml:1: workload[0].entry: is empty; give a value",
		}},
		{"entry of a list reported once", "workload: [{entry: [a], rate: 1}]\nservices: {a: {service_time: 1ms}}\n", []string{
			"f.yaml:1: workload[0].entry: is a list; it must be a string",
		}},
		{"empty callee", head + "  a: {service_time: 1ms, calls: [{to: \"\"}]}\n  b: {service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.calls[0].to: is empty; name the service called; the services are a, b",
		}},
		{"callee that is only a tag", head + "  a:\n    service_time: 1ms\n    calls:\n      - to: !x\n", []string{
			"f.yaml:6: services.a.calls[0].to: is empty; name the service called; the services are a",
		}},
		{"empty service name with its own mistakes", head + "  a: {service_time: 1ms}\n  \"\": {servers: 0}\n", []string{
			"f.yaml:4: services.\"\".servers: 0 workers; a service needs at least 1",
			"f.yaml:4: services.\"\".service_time: missing; give the mean service time as a duration, e.g. service_time: 5ms",
			`f.yaml:4: services."": a service has an empty name; give it one`,
		}},
		// Names appear in the tables of every report.
		{"service name with a line break", head + "  a: {service_time: 1ms}\n  \"b\\nc\": {service_time: 1ms}\n", []string{
			`f.yaml:4: services."b\nc": "b\nc" has an unprintable character (U+000A); names appear in every report's tables, so use printable characters only, e.g. "b c"`,
		}},
		{"service name with a terminal escape", head + "  a: {service_time: 1ms}\n  \"\\e[31mb\": {service_time: 1ms}\n", []string{
			`f.yaml:4: services."\x1b[31mb": "\x1b[31mb" has an unprintable character (U+001B); names appear in every report's tables, so use printable characters only, e.g. "[31mb"`,
		}},
		{"service name with a trailing space", head + "  a: {service_time: 1ms}\n  \"b \": {service_time: 1ms}\n", []string{
			`f.yaml:4: services."b ": "b " begins or ends with a space, which no table shows; remove it: "b"`,
		}},
		{"call to a service with a bad name", head + "  a: {service_time: 1ms, calls: [{to: \"b\\n\"}]}\n  \"b\\n\": {service_time: 1ms}\n", []string{
			`f.yaml:4: services."b\n": "b\n" has an unprintable character (U+000A); names appear in every report's tables, so use printable characters only, e.g. "b"`,
		}},
		{"topology name with a line break", "name: \"shop\\n\"\n" + head + "  a: {service_time: 1ms}\n", []string{
			`f.yaml:1: name: "shop\n" has an unprintable character (U+000A); names appear in every report's tables, so use printable characters only, e.g. "shop"`,
		}},
		// Text from the file that is not a name is quoted when unprintable,
		// so that every problem stays on one line.
		{"unknown field with a line break", "\"x\\ny\": 1\n" + head + "  a: {service_time: 1ms}\n", []string{
			`f.yaml:1: "x\ny": unknown field; the fields here are name, workload, services`,
		}},
		{"block scalar where a mapping belongs", head + "  a: |\n    x\n    y\n", []string{
			`f.yaml:3: services.a: is a value ("x\ny\n"); it must be a mapping with the fields servers, replicas, balancer, service_time, distribution, cv, k, endpoint, listen, hold, calls`,
		}},
		// Found by FuzzParse: the example entry in a message is the first
		// service's name, which may not print on one line.
		{"example entry with a line break", "services: {\"\\n\"}", []string{
			`f.yaml:1: services."\n": is an empty value; it must be a mapping with the fields servers, replicas, balancer, service_time, distribution, cv, k, endpoint, listen, hold, calls`,
			"f.yaml:1: workload: missing; add a workload such as [{entry: frontend, rate: 100}] to say where requests arrive and how fast",
		}},
		{"example entry after a bad name", "workload: []\nservices: {\" \": {service_time: 1ms}, b: {service_time: 1ms}}", []string{
			"f.yaml:1: workload: is empty; add at least one entry such as {entry: b, rate: 100}",
			`f.yaml:2: services." ": " " is only spaces; give it a name`,
		}},
		// Numbers at the edges of what kendall handles.
		{"rate of the smallest subnormal", "workload: [{entry: a, rate: 5e-324}]\nservices:\n  a: {service_time: 1ms}\n", []string{
			"f.yaml:1: workload[0].rate: 5e-324 req/s is below the smallest rate kendall handles, 1e-06 req/s (one request every 11.6 days); give a rate of at least 1e-06",
		}},
		{"rate whose gap is infinite", "workload: [{entry: a, rate: 1e-310}]\nservices:\n  a: {service_time: 1ms}\n", []string{
			"f.yaml:1: workload[0].rate: 1e-310 req/s is below the smallest rate kendall handles, 1e-06 req/s (one request every 11.6 days); give a rate of at least 1e-06",
		}},
		{"rate below the smallest, in another unit", "workload:\n  - entry: a\n    rate: 0.001/h\nservices:\n  a: {service_time: 1ms}\n", []string{
			"f.yaml:3: workload[0].rate: 0.001/h = 2.78e-07 req/s is below the smallest rate kendall handles, 1e-06 req/s (one request every 11.6 days); give a rate of at least 1e-06",
		}},
		{"rate above the largest", "workload: [{entry: a, rate: 2e9}]\nservices:\n  a: {service_time: 1ms}\n", []string{
			"f.yaml:1: workload[0].rate: 2e9 req/s is above the largest rate kendall handles, 1e+09 req/s (a billion a second); give a rate of at most 1e+09",
		}},
		{"lognormal cv that is deterministic", head + "  a:\n    service_time: 1ms\n    distribution: lognormal\n    cv: 1e-6\n", []string{
			"f.yaml:6: services.a.cv: 1e-06 is below 0.01, the smallest coefficient of variation kendall handles: a service time whose standard deviation is under 1% of its mean is constant for every figure kendall reports, so use distribution: deterministic",
		}},
		{"lognormal cv beyond any figure", head + "  a: {service_time: 1ms, distribution: lognormal, cv: 1e300}\n", []string{
			"f.yaml:3: services.a.cv: 1e+300 is above 100, the largest coefficient of variation kendall handles: beyond it no figure can be computed or simulated with any accuracy; use a cv of at most 100",
		}},
		{"erlang with too many phases", head + "  a:\n    service_time: 1ms\n    distribution: erlang\n    k: 1e15\n", []string{
			"f.yaml:6: services.a.k: 1000000000000000 phases; kendall handles up to 10000, and an Erlang with more phases has a standard deviation under 1% of its mean, constant for every figure kendall reports, so use distribution: deterministic",
		}},
		{"count beyond 32 bits", head + "  a:\n    service_time: 1ms\n    calls:\n      - to: b\n        count: 4294967297\n  b: {service_time: 1ms}\n", []string{
			"f.yaml:7: services.a.calls[0].count: 4294967297 calls in a row; kendall handles up to 1000000, which it simulates one by one; use a count of at most 1000000",
		}},
		// A call, or a workload entry, that could not be read keeps its
		// place: those after it are reported under their own index, and
		// none of their problems is taken for one already reported.
		{"call after a call that is no mapping", head + "  a: {service_time: 1ms, calls: [5, {to: nosuch}]}\n", []string{
			"f.yaml:3: services.a.calls[0]: is a value (5); it must be a mapping with the fields to, probability, count, parallel, wait",
			`f.yaml:3: services.a.calls[1].to: unknown service "nosuch"; the services are a`,
		}},
		{"call after a call without callee", head + "  a: {service_time: 1ms, calls: [{count: 2}, {to: nosuch, probability: 2}]}\n", []string{
			"f.yaml:3: services.a.calls[0].to: missing; name the service called",
			`f.yaml:3: services.a.calls[1].to: unknown service "nosuch"; the services are a`,
			"f.yaml:3: services.a.calls[1].probability: 2 is not a probability; use a number from 0 to 1",
		}},
		{"entry after an entry that is no mapping", "workload: [5, {entry: nosuch, rate: 1}, {entry: a, rate: 1}]\nservices:\n  a: {service_time: 1ms}\n", []string{
			"f.yaml:1: workload[0]: is a value (5); it must be a mapping with the fields entry, rate",
			`f.yaml:1: workload[1].entry: unknown service "nosuch"; the services are a`,
		}},
		// A field given twice is one problem; what is wrong with the value
		// kept is another.
		{"field given twice after a wrong value", "workload: [{entry: nosuch, entry: a, rate: 1}]\nservices:\n  a: {service_time: 1ms}\n", []string{
			`f.yaml:1: workload[0].entry: unknown service "nosuch"; the services are a`,
			"f.yaml:1: workload[0].entry: appears twice; keep one",
		}},
		// Each service of a repeated name is read and checked, as New does.
		{"duplicate service with its own mistakes", head + "  a: {service_time: 1ms}\n  a: {servers: 0, calls: [{to: nosuch}]}\n", []string{
			"f.yaml:4: services.a.servers: 0 workers; a service needs at least 1",
			`f.yaml:4: services.a.calls[0].to: unknown service "nosuch"; the services are a`,
			"f.yaml:4: services.a.service_time: missing; give the mean service time as a duration, e.g. service_time: 5ms",
			"f.yaml:4: services.a: appears twice; service names must be unique",
		}},
		// A problem with a value is at the value's line.
		{"callee on a line of its own", head + "  a:\n    service_time: 1ms\n    calls:\n      - count: 2\n        to: nosuch\n", []string{
			`f.yaml:7: services.a.calls[0].to: unknown service "nosuch"; the services are a`,
		}},
		// Problems on one line come in the order they are written, whether
		// the parser finds them or validate; a name's come last.
		{"problems on one line in the order written", head + "  a: {service_time: 1ms}\n  \" \": {calls: [{to: nosuch}], bogus: 1, servers: 0, service_time: 1ms}\n", []string{
			`f.yaml:4: services." ".calls[0].to: unknown service "nosuch"; the services are a`,
			`f.yaml:4: services." ".bogus: unknown field; the fields here are servers, replicas, balancer, service_time, distribution, cv, k, endpoint, listen, hold, calls`,
			`f.yaml:4: services." ".servers: 0 workers; a service needs at least 1`,
			`f.yaml:4: services." ": " " is only spaces; give it a name`,
		}},
		{"endpoint written empty", head + "  a: {service_time: 1ms, endpoint: \"\"}\n", []string{
			`f.yaml:3: services.a.endpoint: "" is not an http or https URL; write one such as http://127.0.0.1:8080/checkout`,
		}},
		// Replicas and their balancer.
		{"zero replicas", head + "  a: {replicas: 0, service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.replicas: 0 replicas; a service runs at least 1 (the default)",
		}},
		{"negative replicas", head + "  a:\n    service_time: 1ms\n    replicas: -2\n", []string{
			"f.yaml:5: services.a.replicas: -2 replicas; a service runs at least 1 (the default)",
		}},
		{"fractional replicas", head + "  a: {replicas: 1.5, service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.replicas: 1.5 is not a whole number; use an integer",
		}},
		{"replicas not a number", head + "  a: {replicas: three, service_time: 1ms}\n", []string{
			`f.yaml:3: services.a.replicas: "three" is not a number`,
		}},
		{"too many replicas", head + "  a: {replicas: 20000, service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.replicas: 20000 replicas; kendall handles up to 10000 per service, each served on a port of its own",
		}},
		{"misspelt balancer", head + "  a:\n    replicas: 3\n    balancer: round-robbin\n    service_time: 1ms\n", []string{
			`f.yaml:5: services.a.balancer: unknown balancer "round-robbin" (did you mean "round-robin"?); use one of random, round-robin, least-requests, power-of-two`,
		}},
		{"balancer in gRPC's spelling", head + "  a: {replicas: 3, balancer: round_robin, service_time: 1ms}\n", []string{
			`f.yaml:3: services.a.balancer: unknown balancer "round_robin" (did you mean "round-robin"?); use one of random, round-robin, least-requests, power-of-two`,
		}},
		{"unknown balancer", head + "  a: {replicas: 3, balancer: fastest, service_time: 1ms}\n", []string{
			`f.yaml:3: services.a.balancer: unknown balancer "fastest"; use one of random, round-robin, least-requests, power-of-two`,
		}},
		{"balancer that is a list", head + "  a: {replicas: 3, balancer: [random], service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.balancer: is a list; it must be a string",
		}},
		{"empty balancer", head + "  a: {replicas: 3, balancer: ~, service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.balancer: is empty; give a value",
		}},
		{"balancer written empty", head + "  a: {replicas: 3, balancer: \"\", service_time: 1ms}\n", []string{
			`f.yaml:3: services.a.balancer: unknown balancer ""; use one of random, round-robin, least-requests, power-of-two`,
		}},
		{"replicas and balancer both wrong", head + "  a: {replicas: 0, balancer: p2c, service_time: 1ms}\n", []string{
			"f.yaml:3: services.a.replicas: 0 replicas; a service runs at least 1 (the default)",
			`f.yaml:3: services.a.balancer: unknown balancer "p2c"; use one of random, round-robin, least-requests, power-of-two`,
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
		{"Inf", 0, `Inf req/s is above the largest rate kendall handles, 1e+09 req/s (a billion a second); give a rate of at most 1e+09`},
		{"NaN", 0, `NaN is not a positive rate; requests per second must be more than zero`},
		{"1e-6", MinRate, ""},
		{"1e9", MaxRate, ""},
		{"1/h", 1.0 / 3600, ""},
		// 1/5e-324 overflows to +Inf, which made the model panic; 1/1e-310
		// is +Inf too, which made the simulator's clock stand still.
		{"5e-324", 0, `5e-324 req/s is below the smallest rate kendall handles, 1e-06 req/s (one request every 11.6 days); give a rate of at least 1e-06`},
		{"1e-310", 0, `1e-310 req/s is below the smallest rate kendall handles, 1e-06 req/s (one request every 11.6 days); give a rate of at least 1e-06`},
		{"9e-7/s", 0, `9e-7/s is below the smallest rate kendall handles, 1e-06 req/s (one request every 11.6 days); give a rate of at least 1e-06`},
		{"1e-400", 0, `1e-400 req/s is below the smallest rate kendall handles, 1e-06 req/s (one request every 11.6 days); give a rate of at least 1e-06`},
		{"5e-324/h", 0, `5e-324/h = 0 req/s is below the smallest rate kendall handles, 1e-06 req/s (one request every 11.6 days); give a rate of at least 1e-06`},
		{"1e10", 0, `1e10 req/s is above the largest rate kendall handles, 1e+09 req/s (a billion a second); give a rate of at most 1e+09`},
		{"1e400", 0, `1e400 req/s is above the largest rate kendall handles, 1e+09 req/s (a billion a second); give a rate of at most 1e+09`},
		{"4e12/h", 0, `4e12/h = 1.11e+09 req/s is above the largest rate kendall handles, 1e+09 req/s (a billion a second); give a rate of at most 1e+09`},
		{"-1e400", 0, `-1e400 is not a positive rate; requests per second must be more than zero`},
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

// TestParseDuration pins ParseDuration's messages. Other packages read SLO
// targets with it, so no message may call the value a service time.
func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"5ms", 5 * time.Millisecond, ""},
		{" 1.5s ", 1500 * time.Millisecond, ""},
		{"1500us", 1500 * time.Microsecond, ""},
		{"1ns", time.Nanosecond, ""},
		{"-5ms", 0, "-5ms is not positive; give a duration more than zero"},
		{"0s", 0, "0s is not positive; give a duration more than zero"},
		{"-0.1ns", 0, "-0.1ns is not positive; give a duration more than zero"},
		{"0.1ns", 0, "0.1ns is shorter than 1ns, the shortest duration kendall handles; give at least 1ns"},
		{"3000000h", 0, "3000000h is longer than the longest duration kendall handles, 2562047h (about 292 years); give a shorter one"},
		{"-3000000h", 0, "-3000000h is not positive; give a duration more than zero"},
		{"5", 0, "5 has no unit; write a duration such as 5ms or 5us"},
		{"fast", 0, `"fast" is not a duration; write one such as 5ms, 1500us or 1.2s`},
		{"5ms\n", 5 * time.Millisecond, ""},
		{"5\x1bms", 0, `"5\x1bms" is not a duration; write one such as 5ms, 1500us or 1.2s`},
	}
	for _, tc := range tests {
		got, err := ParseDuration(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("ParseDuration(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestWithRateRange checks that the rate a program or --rate sets obeys the
// same range as the file's.
func TestWithRateRange(t *testing.T) {
	topo, err := Parse("m.yaml", []byte("workload: [{entry: a, rate: 30}]\nservices: {a: {service_time: 1ms}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rate    float64
		wantErr string
	}{
		{MinRate, ""},
		{MaxRate, ""},
		{5e-324, "5e-324 req/s is below the smallest rate kendall handles, 1e-06 req/s (one request every 11.6 days); give a rate of at least 1e-06"},
		{1e-310, "1e-310 req/s is below the smallest rate kendall handles, 1e-06 req/s (one request every 11.6 days); give a rate of at least 1e-06"},
		{2e9, "2e+09 req/s is above the largest rate kendall handles, 1e+09 req/s (a billion a second); give a rate of at most 1e+09"},
		{math.Inf(1), "+Inf req/s is above the largest rate kendall handles, 1e+09 req/s (a billion a second); give a rate of at most 1e+09"},
		{0, "0 is not a positive rate; requests per second must be more than zero"},
		{-1, "-1 is not a positive rate; requests per second must be more than zero"},
		{math.NaN(), "NaN is not a positive rate; requests per second must be more than zero"},
	}
	for _, tc := range tests {
		got, err := topo.WithRate(tc.rate)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("WithRate(%v) error = %v, want %q", tc.rate, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got.TotalRate() != tc.rate {
			t.Errorf("WithRate(%v) = %v, %v", tc.rate, got, err)
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

// laughs is a "billion laughs" document: one service written out, and many
// services that are aliases of it, so that a small file stands for a huge
// topology. body is the written service's fields.
func laughs(services int, body string) []byte {
	var b strings.Builder
	b.WriteString("workload: [{entry: s0, rate: 1}]\nservices:\n  db: {service_time: 1ms}\n")
	b.WriteString("  s0: &s {" + body + "}\n")
	for i := 1; i < services; i++ {
		fmt.Fprintf(&b, "  s%d: *s\n", i)
	}
	return []byte(b.String())
}

// repeated is first followed by n copies of more, comma separated.
func repeated(first, more string, n int) string {
	return first + strings.Repeat(", "+more, n)
}

// TestAliasExpansionBounded checks that a small file of aliases is refused
// quickly, without building the huge topology it stands for. Memory is the
// test, not time: a file like the first, 124 KB, stands for 10 million
// calls, and used to take about 1 GB.
func TestAliasExpansionBounded(t *testing.T) {
	const limit = 50 << 20 // bytes allocated by one Parse
	tests := []struct {
		name string
		doc  []byte
		want string // the last line of the error
	}{
		{"calls", laughs(10_000, "service_time: 1ms, calls: ["+repeated("&c {to: db}", "*c", 999)+"]"),
			"f.yaml:4: services.s339.calls[657].to: the aliases (*name) in this file stand for more than 1000000 values beyond those written; kendall reads no further, since no topology needs so many: look for an alias that repeats a long list, such as calls"},
		{"unknown fields", laughs(10_000, "service_time: 1ms"+fields("u", 50)),
			"f.yaml: more than 100 problems; fix these and run again to see the rest"},
		// Within the budget, but every call is a problem.
		{"unknown services", laughs(300, "service_time: 1ms, calls: ["+repeated("&c {to: nosuch}", "*c", 999)+"]"),
			"f.yaml: more than 100 problems; fix these and run again to see the rest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			topo, err := Parse("f.yaml", tc.doc)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			if alloc > limit {
				t.Errorf("parsing a %d-byte file allocated %d MB; want under %d MB", len(tc.doc), alloc>>20, limit>>20)
			}
			t.Logf("parsing a %d-byte file allocated %.1f MB", len(tc.doc), float64(alloc)/(1<<20))
			if err == nil {
				t.Fatalf("accepted a file that expands to %d services", len(topo.Services))
			}
			lines := strings.Split(err.Error(), "\n")
			if got := lines[len(lines)-1]; got != tc.want {
				t.Errorf("last line of the error:\n  %s\nwant:\n  %s", got, tc.want)
			}
		})
	}
}

// fields is n fields prefix0: 1, prefix1: 1, ..., each after a comma.
func fields(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ", %s%d: 1", prefix, i)
	}
	return b.String()
}

// TestTooManyProblems checks that a file with more problems than anyone
// reads gets the first of them and a line saying there are more.
func TestTooManyProblems(t *testing.T) {
	var parser, validator strings.Builder
	parser.WriteString("workload: [{entry: a, rate: 1}]\nservices:\n  a: {service_time: 1ms" + fields("x", 150) + "}\n")
	validator.WriteString("workload: [{entry: a, rate: 1}]\nservices:\n  a: {service_time: 1ms}\n")
	for i := range 150 {
		fmt.Fprintf(&validator, "  s%d: {service_time: 1ms, calls: [{to: nosuch}]}\n", i)
	}
	for _, tc := range []struct{ doc, first string }{{parser.String(), "f.yaml:3: "}, {validator.String(), "f.yaml:4: "}} {
		_, err := Parse("f.yaml", []byte(tc.doc))
		if err == nil {
			t.Fatal("no error")
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != 101 || lines[100] != "f.yaml: more than 100 problems; fix these and run again to see the rest" {
			t.Errorf("%d lines, the last %q", len(lines), lines[len(lines)-1])
		}
		if !strings.HasPrefix(lines[0], tc.first) {
			t.Errorf("the first problem is not the first in the file: %s", lines[0])
		}
	}
}

// TestLongServiceList checks that a message listing the services stays short
// in a large topology.
func TestLongServiceList(t *testing.T) {
	var b strings.Builder
	b.WriteString("workload: [{entry: s0, rate: 1}]\nservices:\n  s0: {service_time: 1ms, calls: [{to: nosuch}]}\n")
	for i := 1; i < 1000; i++ {
		fmt.Fprintf(&b, "  s%d: {service_time: 1ms}\n", i)
	}
	_, err := Parse("f.yaml", []byte(b.String()))
	want := `f.yaml:3: services.s0.calls[0].to: unknown service "nosuch"; the services are s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16, s17, s18, s19 and 980 more`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// TestParallelAndHold reads the two features of calls as Go services make
// them: groups of parallel calls with their wait, and held workers.
func TestParallelAndHold(t *testing.T) {
	doc := `workload: [{entry: frontend, rate: 10}]
services:
  frontend:
    servers: 16
    service_time: 1ms
    hold: true
    calls:
      - to: auth
      - parallel:
          - to: search
          - to: ads
            probability: 0.5
          - to: recommend
        wait: all
      - parallel: [{to: search}, {to: ads}, {to: recommend}]
        wait: any
  store:
    service_time: 1ms
    calls:
      - parallel: [{to: auth}, {to: search}, {to: ads}]
        wait: 2
  auth: {service_time: 1ms}
  search: {service_time: 1ms}
  ads: {service_time: 1ms}
  recommend: {service_time: 1ms}
`
	topo, err := Parse("p.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	f := topo.Service("frontend")
	if !f.Hold || topo.Service("store").Hold || len(f.Calls) != 3 || f.Calls[0].Group != nil {
		t.Fatalf("frontend %+v", f)
	}
	g := f.Calls[1].Group
	if g == nil || len(g.Calls) != 3 || g.Wait != WaitAll || g.Calls[1].To != "ads" || g.Calls[1].Probability != 0.5 || g.Calls[2].Count != 1 || g.Waits(2) != 2 {
		t.Errorf("first group %+v", g)
	}
	if g := f.Calls[2].Group; g == nil || g.Wait != 1 || g.Waits(3) != 1 {
		t.Errorf("any %+v", g)
	}
	if g := topo.Service("store").Calls[0].Group; g == nil || g.Wait != 2 || g.Waits(1) != 1 || g.Waits(3) != 2 {
		t.Errorf("quorum %+v", g)
	}
	var callees []string
	f.EachCall(func(c *Call) { callees = append(callees, c.To) })
	if strings.Join(callees, ",") != "auth,search,ads,recommend,search,ads,recommend" {
		t.Errorf("EachCall: %v", callees)
	}
	// Callers before callees, through groups.
	pos := map[string]int{}
	for i, s := range topo.Order() {
		pos[topo.Services[s].Name] = i
	}
	if pos["frontend"] > pos["search"] || pos["store"] > pos["ads"] {
		t.Errorf("order %v", pos)
	}
}

// TestReplicasAndBalancer reads replicas and balancers as written, in any
// case, in YAML and JSON alike, and their defaults where they are not.
func TestReplicasAndBalancer(t *testing.T) {
	doc := `workload: [{entry: a, rate: 10}]
services:
  a: {service_time: 1ms, calls: [{to: b}, {to: c}, {to: d}, {to: e}]}
  b: {replicas: 3, servers: 2, service_time: 1ms}
  c: {replicas: 4, balancer: Round-Robin, service_time: 1ms}
  d: {replicas: 10000, balancer: least-requests, service_time: 1ms}
  e: {balancer: power-of-two, service_time: 1ms}
`
	j := `{"workload": [{"entry": "a", "rate": 10}], "services": {
	"a": {"service_time": "1ms", "calls": [{"to": "b"}, {"to": "c"}, {"to": "d"}, {"to": "e"}]},
	"b": {"replicas": 3, "servers": 2, "service_time": "1ms"},
	"c": {"replicas": 4, "balancer": "Round-Robin", "service_time": "1ms"},
	"d": {"replicas": 10000, "balancer": "least-requests", "service_time": "1ms"},
	"e": {"balancer": "power-of-two", "service_time": "1ms"}}}`
	want := []struct {
		name     string
		replicas int
		balancer Balancer
	}{
		{"a", 1, BalancerRandom},
		{"b", 3, BalancerRandom},
		{"c", 4, BalancerRoundRobin},
		{"d", MaxReplicas, BalancerLeastRequests},
		{"e", 1, BalancerPowerOfTwo}, // one replica: allowed, and changes nothing
	}
	for _, file := range []struct{ name, data string }{{"r.yaml", doc}, {"r.json", j}} {
		topo, err := Parse(file.name, []byte(file.data))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			s := topo.Service(w.name)
			if s.Replicas != w.replicas || s.Balancer != w.balancer {
				t.Errorf("%s: service %s has replicas %d, balancer %q; want %d, %q", file.name, w.name, s.Replicas, s.Balancer, w.replicas, w.balancer)
			}
		}
		if s := topo.Service("b"); s.Servers != 2 {
			t.Errorf("%s: b has %d servers per replica, want 2", file.name, s.Servers)
		}
	}
}
