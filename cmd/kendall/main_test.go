package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kendallqn/kendall/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// kendall runs one command line in-process and returns its exit status,
// standard output and standard error.
func kendall(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), &env{stdout: &out, stderr: &errOut}, args)
	return code, out.String(), errOut.String()
}

func examples(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil || len(paths) < 3 {
		t.Fatalf("examples: %v, %v", paths, err)
	}
	return paths
}

// TestGolden pins the human output of predict and capacity on the shop.
// Regenerate deliberately with: go test ./cmd/kendall -run TestGolden -update
func TestGolden(t *testing.T) {
	shop := filepath.Join("..", "..", "examples", "shop.yaml")
	tests := []struct {
		golden string
		args   []string
	}{
		{"predict-shop.golden", []string{"predict", shop}},
		{"predict-shop-300.golden", []string{"predict", shop, "--rate", "300"}},
		{"capacity-shop.golden", []string{"capacity", shop, "--slo", "p99=50ms"}},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errOut := kendall(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s:\n%s", path, out)
			}
		})
	}
}

// TestPredictJSONShape checks the JSON contract of the issue: the field
// names, file order, and the types later commands build on.
func TestPredictJSONShape(t *testing.T) {
	code, out, errOut := kendall(t, "predict", filepath.Join("..", "..", "examples", "shop.yaml"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"topology", "stable", "approximate", "max_rate", "bottleneck", "services", "entries"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("top level lacks %q", k)
		}
	}
	// The shop's end-to-end percentiles are approximate (db is visited 2.3
	// times per request); every other figure is exact.
	if doc["topology"] != "shop" || doc["stable"] != true || doc["approximate"] != true || doc["max_rate"] != 250.0 || doc["bottleneck"] != "catalog" {
		t.Errorf("top level: %v", doc)
	}
	services := doc["services"].([]any)
	var names []string
	for _, s := range services {
		svc := s.(map[string]any)
		names = append(names, svc["name"].(string))
		for _, k := range []string{"name", "servers", "service_time", "arrival_rate", "utilization", "wait_probability", "mean_wait", "mean_response", "mean_queue_length", "mean_in_system", "percentiles"} {
			if _, ok := svc[k]; !ok {
				t.Errorf("service %v lacks %q", svc["name"], k)
			}
		}
		pcts := svc["percentiles"].(map[string]any)
		for _, k := range []string{"p50", "p90", "p95", "p99", "p999"} {
			if _, ok := pcts[k].(float64); !ok {
				t.Errorf("service %v percentiles lack %q", svc["name"], k)
			}
		}
	}
	if strings.Join(names, ",") != "gateway,catalog,cart,db" {
		t.Errorf("services not in file order: %v", names)
	}
	gw := services[0].(map[string]any)
	if gw["service_time"] != 0.002 || gw["arrival_rate"] != 120.0 || gw["servers"] != 4.0 {
		t.Errorf("gateway: times must be in seconds, rates per second: %v", gw)
	}
	entry := doc["entries"].([]any)[0].(map[string]any)
	for _, k := range []string{"entry", "rate", "mean", "percentiles", "labels"} {
		if _, ok := entry[k]; !ok {
			t.Errorf("entry lacks %q", k)
		}
	}
	labels := entry["labels"].(map[string]any)
	mean, pcts := labels["mean"].(map[string]any), labels["percentiles"].(map[string]any)
	if mean["exact"] != true || pcts["exact"] != false || !strings.Contains(pcts["why"].(string), "visits db 2.3 times") {
		t.Errorf("entry labels: %v", labels)
	}
	for _, s := range services {
		l := s.(map[string]any)["labels"].(map[string]any)
		for _, k := range []string{"wait_probability", "mean_wait", "mean_response", "percentiles"} {
			if x, ok := l[k].(map[string]any); !ok || x["exact"] != true || !strings.Contains(x["basis"].(string), "Kelly") {
				t.Errorf("service label %s: %v", k, l[k])
			}
		}
	}
}

func TestPredictUnstableJSON(t *testing.T) {
	code, out, errOut := kendall(t, "predict", filepath.Join("..", "..", "examples", "shop.yaml"), "--rate", "300/s", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["stable"] != false || doc["max_rate"] != 250.0 {
		t.Errorf("stable %v, max_rate %v", doc["stable"], doc["max_rate"])
	}
	for _, s := range doc["services"].([]any) {
		svc := s.(map[string]any)
		if svc["mean_response"] != nil || svc["percentiles"] != nil || svc["wait_probability"] != nil {
			t.Errorf("%v: figures that do not exist must be null: %v", svc["name"], svc)
		}
		if _, ok := svc["utilization"].(float64); !ok {
			t.Errorf("%v: utilization missing", svc["name"])
		}
	}
	entry := doc["entries"].([]any)[0].(map[string]any)
	if entry["mean"] != nil || entry["percentiles"] != nil {
		t.Errorf("entry figures must be null: %v", entry)
	}
}

// TestPredictEveryExample is what .ci/run does: every bundled example
// predicts, stable, in both forms.
func TestPredictEveryExample(t *testing.T) {
	for _, path := range examples(t) {
		code, out, errOut := kendall(t, "predict", path)
		if code != 0 || !strings.Contains(out, "Bottleneck:") {
			t.Errorf("%s: exit %d, stderr %q, stdout:\n%s", path, code, errOut, out)
		}
		code, out, _ = kendall(t, "predict", "--json", path)
		var p result.Prediction
		if err := json.Unmarshal([]byte(out), &p); code != 0 || err != nil || !p.Stable {
			t.Errorf("%s --json: exit %d, %v, stable %v", path, code, err, p.Stable)
		}
	}
}

func TestCapacityJSON(t *testing.T) {
	code, out, errOut := kendall(t, "capacity", filepath.Join("..", "..", "examples", "shop.yaml"), "--slo", "p99=50ms", "--slo", "mean=20ms", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep capacityReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.SLO) != 2 || rep.Rate != 120 || rep.MaxRate != 250 {
		t.Errorf("report %+v", rep)
	}
	if !(rep.SLORate.Rate > 0 && rep.SLORate.Rate < 250) || rep.Plan == nil || !rep.Plan.Feasible {
		t.Errorf("slo rate %+v, plan %+v", rep.SLORate, rep.Plan)
	}
	if e := rep.Plan.Prediction.Entries[0]; e.Percentiles.P99 > 0.05 || *e.Mean > 0.02 {
		t.Errorf("plan misses the SLOs: %+v", e)
	}
}

// TestStdinWithRate reads the topology from standard input and scales it,
// for both commands that take --rate.
func TestStdinWithRate(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"predict", "-", "--rate", "200", "--json"},
		{"capacity", "-", "--slo", "p99=80ms", "--rate", "200", "--json"},
	} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() { w.Write(data); w.Close() }()
		saved := os.Stdin
		os.Stdin = r
		code, out, errOut := kendall(t, args...)
		os.Stdin = saved
		r.Close()
		if code != 0 || !strings.Contains(out, `"rate": 200`) {
			t.Errorf("%v: exit %d, %s\n%s", args, code, errOut, out)
		}
	}
}

func TestCommandLineErrors(t *testing.T) {
	shop := filepath.Join("..", "..", "examples", "shop.yaml")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("workload: [{entry: a, rate: 10}]\nservices:\n  a: {servers: 0, service_time: 1ms}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyEntry := writeTopology(t, "workload: [{entry: \"\", rate: 1}]\nservices: {a: {service_time: 1ms}}\n")
	taggedEntry := writeTopology(t, "workload: [{entry: !x , rate: 1}]\nservices: {a: {service_time: 1ms}}\n")
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{nil, exitUsage, "Usage: kendall COMMAND"},
		{[]string{"predcit"}, exitUsage, `no command "predcit"`},
		{[]string{"predict"}, exitUsage, "want one topology FILE, got 0 arguments"},
		{[]string{"predict", shop, shop}, exitUsage, "want one topology FILE, got 2 arguments"},
		{[]string{"predict", shop, "--rate", "fast"}, exitUsage, `--rate: "fast" is not a rate`},
		{[]string{"predict", shop, "--rate", "-5"}, exitUsage, "--rate: -5 is not a positive rate"},
		{[]string{"predict", shop, "--nope"}, exitUsage, "flag provided but not defined: -nope"},
		{[]string{"predict", "missing.yaml"}, exitFailure, "missing.yaml: no such file"},
		{[]string{"predict", bad}, exitFailure, "bad.yaml:3: services.a.servers: 0 workers; a service needs at least 1"},
		{[]string{"capacity", shop}, exitUsage, "--slo is required"},
		{[]string{"capacity", shop, "--slo", "p98=5ms"}, exitUsage, `unknown statistic "p98"`},
		// An empty --rate is a mistake, not a flag that was not given.
		{[]string{"predict", shop, "--rate", ""}, exitUsage, `--rate: "" is not a rate`},
		{[]string{"simulate", shop, "--rate", ""}, exitUsage, `--rate: "" is not a rate`},
		{[]string{"capacity", shop, "--slo", "p99=50ms", "--rate", ""}, exitUsage, `--rate: "" is not a rate`},
		{[]string{"attack", shop, "--emulate", "--rate", ""}, exitUsage, `--rate: "" is not a rate`},
		// A negative SLO is named as such, not as a service time.
		{[]string{"capacity", shop, "--slo", "p99=-5ms"}, exitUsage, `--slo: SLO "p99=-5ms": -5ms is not positive`},
		// An empty entry, or one that is only a YAML tag, is refused, not a panic.
		{[]string{"predict", emptyEntry}, exitFailure, `workload[0].entry: is empty; name the service where these requests arrive`},
		{[]string{"simulate", emptyEntry}, exitFailure, `workload[0].entry: is empty`},
		{[]string{"capacity", emptyEntry, "--slo", "p99=1s"}, exitFailure, `workload[0].entry: is empty`},
		{[]string{"validate", emptyEntry, "--no-measure"}, exitFailure, `workload[0].entry: is empty`},
		{[]string{"predict", taggedEntry}, exitFailure, `workload[0].entry: is empty`},
		// The edges of float64: out of range, said so, no panic.
		{[]string{"predict", shop, "--rate", "5e-324"}, exitUsage, "--rate: 5e-324 req/s is below the smallest rate kendall handles"},
		{[]string{"simulate", shop, "--rate", "1e-310"}, exitUsage, "--rate: 1e-310 req/s is below the smallest rate kendall handles"},
	}
	for _, tc := range tests {
		code, _, errOut := kendall(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.contains) || strings.Contains(errOut, "service time") {
			t.Errorf("kendall %v: exit %d, stderr %q; want exit %d containing %q", tc.args, code, errOut, tc.code, tc.contains)
		}
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := kendall(t, "help", "predict")
	if code != 0 || !strings.Contains(out, "Usage: kendall predict FILE") || !strings.Contains(out, "--rate rate") || !strings.Contains(out, "Examples:") {
		t.Errorf("help predict: exit %d:\n%s", code, out)
	}
	code, out, _ = kendall(t, "capacity", "--help")
	if code != 0 || !strings.Contains(out, "--slo target") {
		t.Errorf("capacity --help: exit %d:\n%s", code, out)
	}
	code, out, _ = kendall(t, "help")
	if code != 0 || !strings.Contains(out, "predict") || !strings.Contains(out, "capacity") {
		t.Errorf("help: exit %d:\n%s", code, out)
	}
}

// TestEdgeNumbersJSON: at the edges of the ranges a file may use, every
// command's JSON is written (a non-finite number would make encoding/json
// fail) and every figure in it is a number or null.
func TestEdgeNumbersJSON(t *testing.T) {
	files := []string{
		"workload: [{entry: a, rate: 1e9}]\nservices:\n  a: {servers: 1000000, service_time: 1ns, distribution: lognormal, cv: 100, calls: [{to: b}]}\n  b: {servers: 1000000, service_time: 900ns, distribution: erlang, k: 10000}\n",
		"workload: [{entry: a, rate: 1e-6}]\nservices:\n  a: {servers: 1, service_time: 100000h, distribution: lognormal, cv: 0.01}\n",
		"workload: [{entry: a, rate: 1e-6}]\nservices:\n  a: {servers: 1, service_time: 1ns, distribution: deterministic}\n",
		"workload: [{entry: a, rate: 10}]\nservices:\n  a: {servers: 2, service_time: 10ms, distribution: lognormal, cv: 100}\n",
		"workload: [{entry: a, rate: 10}]\nservices:\n  a: {servers: 2, service_time: 10ms, distribution: lognormal, cv: 0.01, calls: [{to: b, count: 1000000}]}\n  b: {servers: 1000000, service_time: 1ns}\n",
	}
	for i, doc := range files {
		path := writeTopology(t, doc)
		for _, args := range [][]string{
			{"predict", path, "--json"},
			{"capacity", path, "--slo", "p99=1s", "--json"},
			{"capacity", path, "--slo", "mean=1ns", "--json"},
		} {
			code, out, errOut := kendall(t, args...)
			var v any
			if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
				t.Errorf("file %d, %v: exit %d, %s\n%s", i, args[0], code, errOut, out)
			}
		}
	}
	// The simulator's JSON, on the heavy-tailed one.
	code, out, errOut := kendall(t, "simulate", writeTopology(t, files[3]), "--requests", "20000", "--json")
	var v any
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
		t.Errorf("simulate: exit %d, %s\n%s", code, errOut, out)
	}
}

// TestCapacityBeyondMaxServers: a service needing billions of workers gets
// no plan, at once (it took minutes, deaf to Ctrl-C).
func TestCapacityBeyondMaxServers(t *testing.T) {
	path := writeTopology(t, "workload: [{entry: a, rate: 1}]\nservices:\n  a: {service_time: 2540400h}\n")
	code, out, errOut := kendall(t, "capacity", path, "--slo", "p99=50ms")
	if code != 0 || !strings.Contains(out, "a needs more than 1,000,000 workers") {
		t.Errorf("exit %d, %s:\n%s", code, errOut, out)
	}
}

// TestPredictCheck: --check sets every figure beside a short simulation,
// in words and in JSON.
func TestPredictCheck(t *testing.T) {
	shop := filepath.Join("..", "..", "examples", "shop.yaml")
	code, out, errOut := kendall(t, "predict", shop, "--check", "--check-time", "300ms")
	if code != 0 || !strings.Contains(out, "Checked against a simulation of") || !strings.Contains(out, "Exact figures: ") || !strings.Contains(out, "MODEL IN CI") {
		t.Errorf("exit %d, %s:\n%s", code, errOut, out)
	}
	code, out, errOut = kendall(t, "predict", shop, "--check", "--check-time", "300ms", "--json")
	var doc struct {
		Check struct {
			Figures []map[string]any `json:"figures"`
		} `json:"check"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Check.Figures) != 34 {
		t.Errorf("--json: exit %d, %s, %d figures", code, errOut, len(doc.Check.Figures))
	}
}

// TestCapacityApproximate: when the SLO bounds a figure the model only
// approximates, plain capacity says so and suggests --check, which then
// prints both answers refined by simulation.
func TestCapacityApproximate(t *testing.T) {
	path := writeTopology(t, "workload: [{entry: api, rate: 30}]\nservices:\n  api: {servers: 4, service_time: 1ms, calls: [{to: db, count: 6}]}\n  db: {servers: 1, service_time: 5ms}\n")
	code, out, _ := kendall(t, "capacity", path, "--slo", "p99=600ms")
	if code != 0 || !strings.Contains(out, "APPROXIMATE: api's p99 is approximate: api calls db 6 times in a row") || !strings.Contains(out, "Run with --check") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, errOut := kendall(t, "capacity", path, "--slo", "p99=600ms", "--check", "--check-time", "2s")
	if code != 0 || !strings.Contains(out, "Checked by simulation: meets the SLO up to") || !strings.Contains(out, "Checked by simulation: the plan") {
		t.Errorf("--check: exit %d, %s:\n%s", code, errOut, out)
	}
}

// TestReplicas: predict, simulate, capacity and validate take a topology
// of replicas, show them as replicas × workers and the balancer, and tell
// them from one queue of as many workers.
func TestReplicas(t *testing.T) {
	replicated := writeTopology(t, "workload: [{entry: a, rate: 1000}]\nservices:\n  a: {servers: 4, service_time: 1ms, calls: [{to: b}]}\n"+
		"  b:\n    replicas: 3\n    balancer: power-of-two\n    servers: 2\n    service_time: 4ms\n")
	code, out, errOut := kendall(t, "predict", replicated)
	if code != 0 || !strings.Contains(out, "3×2 power-of-two") {
		t.Errorf("predict: exit %d, %s:\n%s", code, errOut, out)
	}
	code, out, errOut = kendall(t, "simulate", replicated, "--requests", "200000", "--json")
	if code != 0 || !strings.Contains(out, `"replicas": 3`) || !strings.Contains(out, `"balancer": "power-of-two"`) {
		t.Errorf("simulate --json: exit %d, %s:\n%s", code, errOut, out)
	}
	for _, args := range [][]string{
		{"capacity", replicated, "--slo", "p99=50ms"},
		{"validate", replicated, "--no-measure", "--out", t.TempDir()},
	} {
		if code, out, errOut := kendall(t, args...); code != 0 {
			t.Errorf("kendall %v: exit %d, %s:\n%s", args, code, errOut, out)
		}
	}
}
