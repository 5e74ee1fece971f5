package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kendallqn/kendall/reports"
)

// TestValidateNoMeasure is the CI run of validate: model and simulation
// over a sweep, the report directory complete, its JSON the report, and
// kendall report drawing it again identically.
func TestValidateNoMeasure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errOut := kendall(t, "validate", filepath.Join("..", "..", "examples", "deep-chain.yaml"),
		"--no-measure", "--rates", "0.3,0.8", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"2 rate(s) validated", "Model vs simulation:", "Report: "} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	r, err := reports.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Points) != 2 || r.Points[0].Simulation == nil || r.Points[0].Measurement != nil || r.Settings.Target != "none" {
		t.Fatalf("report points %+v, target %q", r.Points, r.Settings.Target)
	}
	if r.Points[0].Rate != 0.3*r.MaxRate || r.Points[1].Fraction != 0.8 {
		t.Errorf("rates %v, %v", r.Points[0].Rate, r.Points[1].Fraction)
	}
	// A chain of M/M/1 stations: the model is exact, so it must hold.
	for _, d := range r.Points[1].Differences {
		if d.Drifts() {
			t.Errorf("exact model drifts from the simulation: %+v", d)
		}
	}
	for _, name := range []string{"index.html", "report.md", "latency-edge.png", "latency-edge.svg", "ccdf-edge.png", "utilization.svg"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("report lacks %s", name)
		}
	}

	// kendall report draws it again from report.json alone.
	before, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	os.Remove(filepath.Join(dir, "report.md"))
	os.Remove(filepath.Join(dir, "latency-edge.png"))
	code, _, errOut = kendall(t, "report", dir)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	md2, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !bytes.Equal(before, after) || !bytes.Equal(md, md2) {
		t.Error("kendall report changed report.json or report.md")
	}
	if f, err := os.Open(filepath.Join(dir, "latency-edge.png")); err != nil {
		t.Error("kendall report did not draw latency-edge.png again")
	} else {
		if _, err := png.Decode(f); err != nil {
			t.Error(err)
		}
		f.Close()
	}
	code, out, _ = kendall(t, "report", dir, "--json")
	var again reports.Report
	if err := json.Unmarshal([]byte(out), &again); code != 0 || err != nil || len(again.Points) != 2 {
		t.Errorf("report --json: exit %d, %v", code, err)
	}
}

// TestValidateMeasured is one short real validation: the emulation on
// loopback, measured for a few seconds at two rates.
func TestValidateMeasured(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for several seconds")
	}
	// A light topology at low rates: this checks the plumbing, and under
	// the race detector, beside the other packages' tests on two cores, a
	// heavier emulation would saturate the machine, not the topology.
	file := filepath.Join(t.TempDir(), "small.yaml")
	if err := os.WriteFile(file, []byte("name: small\nworkload: [{entry: gateway, rate: 20}]\nservices:\n  gateway: {servers: 2, service_time: 5ms, calls: [{to: db}]}\n  db: {servers: 2, service_time: 3ms}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errOut := kendall(t, "validate", file,
		"--rates", "20/s,40/s", "--duration", "3s", "--warmup", "1s", "--precision", "0.05", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r, err := reports.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Settings.Target != "emulation" || len(r.Points) != 2 {
		t.Fatalf("target %q, %d points", r.Settings.Target, len(r.Points))
	}
	for _, pt := range r.Points {
		v, _, ok := pt.Measurement.Value("gateway", "mean")
		// The true mean is 8ms plus HTTP overhead; a 3s measurement at
		// 20 req/s averages about 60 requests, whose sample mean has a
		// standard deviation near 0.8ms, so 4ms is five of them below:
		// a plumbing check that cannot flake, not a judgement.
		if !ok || !(v > 0.004 && v < 1) || len(pt.Timelines) != 1 {
			t.Errorf("at %v req/s: measured mean %v (%v), %d timelines", pt.Rate, v, ok, len(pt.Timelines))
		}
	}
	for _, name := range []string{"timeline-01-20rps.png", "timeline-02-40rps.svg", "ccdf-gateway.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("report lacks %s", name)
		}
	}
	if !strings.Contains(out, "Model vs measurement:") {
		t.Errorf("summary lacks the measurement:\n%s", out)
	}
}

func TestValidateBadInput(t *testing.T) {
	shop := filepath.Join("..", "..", "examples", "shop.yaml")
	tests := []struct {
		args     []string
		contains string
	}{
		{[]string{"validate", shop, "--rates", "0.5,1.2"}, "--rates: 1.2 is not a fraction of the max rate (250 req/s) between 0 and 1; for an absolute rate write 1.2/s"},
		{[]string{"validate", shop, "--rates", "50"}, "for an absolute rate write 50/s"},
		{[]string{"validate", shop, "--rates", "300/s"}, "--rates: 300/s is at or past saturation (250 req/s)"},
		{[]string{"validate", shop, "--rates", "fast"}, `--rates: "fast" is not a rate`},
		{[]string{"validate", shop, "--rates", ","}, "--rates: no rate given"},
		{[]string{"validate", shop, "--precision", "2"}, "--precision 2: give a fraction"},
		{[]string{"validate"}, "want one topology FILE"},
	}
	for _, tc := range tests {
		code, _, errOut := kendall(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.contains) {
			t.Errorf("%v: exit %d, %q; want usage error containing %q", tc.args, code, errOut, tc.contains)
		}
	}
	code, _, errOut := kendall(t, "report", t.TempDir())
	if code != exitFailure || !strings.Contains(errOut, "no report.json here") {
		t.Errorf("report of an empty dir: exit %d, %q", code, errOut)
	}
}

// TestValidateEndpoints checks that a topology whose entries all have an
// endpoint is measured there, not emulated.
func TestValidateEndpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for a few seconds")
	}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		time.Sleep(2 * time.Millisecond)
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "live.yaml")
	doc := "name: live\nworkload: [{entry: api, rate: 10}]\nservices:\n  api: {servers: 4, service_time: 2ms, endpoint: \"" + srv.URL + "/\"}\n"
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut := kendall(t, "validate", file, "--rates", "30/s", "--duration", "2s", "--warmup", "500ms", "--precision", "0.05", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r, err := reports.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Settings.Target != "endpoints" || r.Points[0].Measurement == nil {
		t.Fatalf("target %q, measurement %v", r.Settings.Target, r.Points[0].Measurement)
	}
	if n := hits.Load(); n < 40 { // 30/s for 2.5s: about 75
		t.Errorf("the endpoint saw %d requests", n)
	}
	if !strings.Contains(errOut, "measuring against the topology's endpoints") {
		t.Errorf("stderr does not say where it measured:\n%s", errOut)
	}
}

// TestValidateFailedRequests: a measurement in which most requests fail is
// reported with its failures, and does not judge the model; with no rate
// judged, validate exits 1 after writing the report.
func TestValidateFailedRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for a few seconds")
	}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%5 != 0 { // four in five fail
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "flaky.yaml")
	doc := "name: flaky\nworkload: [{entry: api, rate: 10}]\nservices:\n  api: {servers: 4, service_time: 1ms, endpoint: \"" + srv.URL + "/\"}\n"
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errOut := kendall(t, "validate", file, "--rates", "20/s", "--duration", "2s", "--warmup", "200ms", "--precision", "0.05", "--out", dir)
	if code != exitFailure || !strings.Contains(errOut, "the measurement judged the model at none of the 1 rates measured") {
		t.Errorf("exit %d, stderr %q; want %d and why", code, errOut, exitFailure)
	}
	for _, want := range []string{"Model vs measurement: NOT JUDGED at any rate", "below the 99% required", "status 500 ×", "NOT JUDGED"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	r, err := reports.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := r.Points[0].Measurement.Entries[0]
	if e.SuccessRatio == nil || *e.SuccessRatio > 0.3 || e.Sent < 20 || e.StatusCodes["500"] < 15 || len(e.Errors) == 0 || e.Errors[0].Class != "status 500" {
		t.Errorf("report.json: %+v", e)
	}
	if len(r.Points[0].NotJudged) != 1 {
		t.Errorf("not judged: %+v", r.Points[0].NotJudged)
	}
	for _, d := range r.Points[0].Differences {
		if d.Source == reports.Measurement {
			t.Errorf("judged by a failing measurement: %+v", d)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "## api: measured requests") {
		t.Errorf("report.md lacks the requests table")
	}
}
