package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// kendallCtx runs one command line under ctx and returns its exit status, stdout and
// stderr.
func kendallCtx(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := run(ctx, &env{stdout: &out, stderr: &errs}, args)
	return code, out.String(), errs.String()
}

const shopFile = "../../examples/shop.yaml"

func TestSimulateHuman(t *testing.T) {
	// Flags after FILE, as users type them.
	code, out, errs := kendallCtx(t, context.Background(), "simulate", shopFile, "--requests", "40000", "--replications", "4", "--seed", "3")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"shop: 4 services",
		"Simulated 40,000 measured requests in 4 replications (seed 3",
		"Warm-up:",
		"SERVICE  FIGURE",
		"MODEL IN CI",
		"END TO END",
		"p99.9",
		"Exact figures: ",
		"Bottleneck: catalog",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if errs != "" {
		t.Errorf("stderr not empty when not a terminal: %q", errs)
	}
}

// TestSimulateJSON checks that --json prints predict's object, with a ci95
// in every service and entry and a run.
func TestSimulateJSON(t *testing.T) {
	code, out, errs := kendallCtx(t, context.Background(), "simulate", "--json", "--requests", "20000", "--replications", "4", shopFile)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	code, pout, _ := kendallCtx(t, context.Background(), "predict", "--json", shopFile)
	if code != exitOK {
		t.Fatal("predict failed")
	}
	var pred map[string]any
	if err := json.Unmarshal([]byte(pout), &pred); err != nil {
		t.Fatal(err)
	}
	sameKeys(t, "", pred, got)
	for _, s := range got["services"].([]any) {
		ci := s.(map[string]any)["ci95"].(map[string]any)
		for _, k := range []string{"mean_response", "mean_wait", "utilization", "p50", "p90", "p95", "p99", "p999"} {
			if _, ok := ci[k].(float64); !ok {
				t.Errorf("service ci95 lacks %s: %v", k, ci)
			}
		}
	}
	ci := got["entries"].([]any)[0].(map[string]any)["ci95"].(map[string]any)
	for _, k := range []string{"mean", "p50", "p90", "p95", "p99", "p999"} {
		if _, ok := ci[k].(float64); !ok {
			t.Errorf("entry ci95 lacks %s: %v", k, ci)
		}
	}
	r := got["run"].(map[string]any)
	for _, k := range []string{"requests", "replications", "warmup_requests", "seed", "seconds", "requests_per_second"} {
		if _, ok := r[k].(float64); !ok {
			t.Errorf("run lacks %s: %v", k, r)
		}
	}
	if got["partial"] != false {
		t.Errorf("partial = %v, want false", got["partial"])
	}
}

// sameKeys checks that every key of predict's JSON is in simulate's, at
// every level.
func sameKeys(t *testing.T, path string, pred, sim any) {
	t.Helper()
	switch p := pred.(type) {
	case map[string]any:
		s, ok := sim.(map[string]any)
		if !ok {
			t.Errorf("%s: predict has an object, simulate %T", path, sim)
			return
		}
		for k, v := range p {
			sv, ok := s[k]
			if !ok {
				t.Errorf("%s.%s: in predict's JSON, not in simulate's", path, k)
				continue
			}
			sameKeys(t, path+"."+k, v, sv)
		}
	case []any:
		s, ok := sim.([]any)
		if !ok || len(s) != len(p) {
			t.Errorf("%s: predict has %d items, simulate %v", path, len(p), sim)
			return
		}
		for i := range p {
			sameKeys(t, path+"[]", p[i], s[i])
		}
	}
}

// TestSimulateUnstable checks that an unstable topology is refused with
// predict's verdict, and simulated with --force.
func TestSimulateUnstable(t *testing.T) {
	code, out, errs := kendallCtx(t, context.Background(), "simulate", shopFile, "--rate", "300")
	if code != exitFailure || out != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing", code, out)
	}
	_, pred, _ := kendallCtx(t, context.Background(), "predict", shopFile, "--rate", "300")
	verdict := pred[strings.Index(pred, "UNSTABLE"):]
	if !strings.Contains(errs, verdict) {
		t.Errorf("stderr does not give predict's verdict %q:\n%s", verdict, errs)
	}
	if !strings.Contains(errs, "--force") {
		t.Errorf("stderr does not point at --force:\n%s", errs)
	}

	code, out, errs = kendallCtx(t, context.Background(), "simulate", shopFile, "--rate", "300", "--force", "--requests", "20000", "--replications", "2")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"UNSTABLE at 300 req/s", "Forced:", "GROWING BY", "catalog"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestSimulateUsage(t *testing.T) {
	for _, args := range [][]string{
		{"simulate"},
		{"simulate", shopFile, "--replications", "1"},
		{"simulate", shopFile, "--requests", "0"},
		{"simulate", shopFile, "--precision", "2"},
		{"simulate", shopFile, "--workers", "-1"},
		{"simulate", shopFile, "--no-such-flag"},
	} {
		if code, _, errs := kendallCtx(t, context.Background(), args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d; stderr %q", args, code, exitUsage, errs)
		}
	}
	code, out, _ := kendallCtx(t, context.Background(), "help", "simulate")
	if code != exitOK || !strings.Contains(out, "--precision") || !strings.Contains(out, "MSER-5") {
		t.Errorf("help: exit %d:\n%s", code, out)
	}
}

// TestSimulateInterrupted checks the exit status of a run interrupted
// before anything was measured.
func TestSimulateInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, out, errs := kendallCtx(t, ctx, "simulate", shopFile, "--requests", "10000")
	if code != exitInterrupted || !strings.Contains(errs, "interrupted") {
		t.Errorf("exit %d, stdout %q, stderr %q; want %d and 'interrupted'", code, out, errs, exitInterrupted)
	}
}
