package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// writeTopology writes a topology file for a test and returns its path.
func writeTopology(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fastTopology is a small topology that an attack of a second measures.
const fastTopology = `name: fast
workload: [{entry: front, rate: 40}]
services:
  front: {servers: 2, service_time: 1ms, calls: [{to: back, count: 2}]}
  back: {servers: 2, service_time: 500us, distribution: deterministic}
`

// TestAttackURLJSON attacks a bare URL with a method, headers and a body,
// and checks the JSON contract: predict's entries, measured, with the
// counts and a run object.
func TestAttackURLJSON(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.Header.Get("X-Order")+" "+r.Header.Get("Content-Type")+" "+string(body))
		mu.Unlock()
	}))
	defer srv.Close()
	bodyFile := filepath.Join(t.TempDir(), "order.json")
	os.WriteFile(bodyFile, []byte(`{"id":1}`), 0o644)

	code, out, errOut := kendall(t, "attack", srv.URL+"/orders", "--rate", "40", "--duration", "1s", "--method", "post",
		"--header", "X-Order: 7", "--header", "Content-Type: application/json", "--body", "@"+bodyFile, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Entries []map[string]any `json:"entries"`
		Run     map[string]any   `json:"run"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(doc.Entries) != 1 {
		t.Fatalf("entries: %v", doc.Entries)
	}
	e := doc.Entries[0]
	for _, k := range []string{"entry", "rate", "mean", "percentiles", "requests", "success_ratio", "status_codes", "errors", "series"} {
		if _, ok := e[k]; !ok {
			t.Errorf("entry has no %q: %v", k, e)
		}
	}
	for _, k := range []string{"p50", "p90", "p95", "p99", "p999"} {
		if _, ok := e["percentiles"].(map[string]any)[k]; !ok {
			t.Errorf("percentiles have no %q", k)
		}
	}
	for _, k := range []string{"duration", "rate_requested", "rate_achieved", "interarrival_cv", "max_lag", "trustworthy"} {
		if _, ok := doc.Run[k]; !ok {
			t.Errorf("run has no %q: %v", k, doc.Run)
		}
	}
	if e["entry"] != srv.URL+"/orders" || e["success_ratio"] != 1.0 || doc.Run["rate_requested"] != 40.0 || doc.Run["duration"] != 1.0 {
		t.Errorf("entry %v, run %v", e, doc.Run)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || got[0] != `POST 7 application/json {"id":1}` {
		t.Errorf("the server received %q", got)
	}
}

// TestAttackEmulateHuman attacks an emulated topology and reads the human
// report: the table, the run's verdict and the realized service times.
func TestAttackEmulateHuman(t *testing.T) {
	path := writeTopology(t, fastTopology)
	code, out, errOut := kendall(t, "attack", path, "--emulate", "--duration", "1s", "--warmup", "200ms", "--rate", "60")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Attacking fast (1 entry, emulated): poisson arrivals, 60.0 req/s in all, for 1s after a 200ms warm-up (seed 1).",
		"END TO END", "front", "status 200×",
		"Run: sent", "of the 60.0 req/s asked; inter-arrival cv",
		"Sends behind schedule: at most",
		"Emulated services", "REALIZED MEAN", "back     ",
		"WARNING: only",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestAttackEmulateJSON(t *testing.T) {
	path := writeTopology(t, fastTopology)
	code, out, errOut := kendall(t, "attack", path, "--emulate", "--duration", "1s", "--arrivals", "constant", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Topology string `json:"topology"`
		Entries  []struct {
			Entry    string  `json:"entry"`
			Requests int64   `json:"requests"`
			Success  float64 `json:"success_ratio"`
		} `json:"entries"`
		Run struct {
			Arrivals string `json:"arrivals"`
		} `json:"run"`
		Services []struct {
			Name         string   `json:"name"`
			Requests     int64    `json:"requests"`
			RealizedMean *float64 `json:"realized_mean"`
			RealizedCV   *float64 `json:"realized_cv"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if doc.Topology != "fast" || len(doc.Entries) != 1 || doc.Entries[0].Entry != "front" || doc.Entries[0].Success != 1 || doc.Run.Arrivals != "constant" {
		t.Errorf("document %+v", doc)
	}
	// Evenly spaced at 40/s for 1 s: 39 requests, each calling back twice.
	if len(doc.Services) != 2 || doc.Services[0].Requests != 39 || doc.Services[1].Requests != 78 ||
		doc.Services[1].RealizedMean == nil || doc.Services[1].RealizedCV == nil {
		t.Errorf("services %+v", doc.Services)
	}
}

// TestAttackOutput writes the results in vegeta's format and reads them
// back with vegeta's decoder.
func TestAttackOutput(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "results.bin")
	code, _, errOut := kendall(t, "attack", srv.URL, "--rate", "50", "--duration", "1s", "--arrivals", "constant", "--output", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	n := 0
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	if n != 49 {
		t.Errorf("read %d results, want 49", n)
	}
}

// TestAttackOutputKept: a run that fails before it sends anything leaves an
// existing --output file as it was; one that runs replaces it whole.
func TestAttackOutputKept(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "keep.bin")
	earlier := []byte("results of an earlier run")
	if err := os.WriteFile(file, earlier, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"attack", "http://127.0.0.1:1/", "--rate", "5", "--duration", "1s", "--output", file},
		{"attack", srv.URL, "--rate", "5", "--duration", "1s", "--method", "GE T", "--output", file},
	} {
		code, _, errOut := kendall(t, args...)
		if code != exitFailure {
			t.Errorf("%v: exit %d (%s), want %d", args, code, errOut, exitFailure)
		}
		if got, _ := os.ReadFile(file); !bytes.Equal(got, earlier) {
			t.Errorf("%v: a failed run changed %s to %q", args, file, got)
		}
	}
	code, _, errOut := kendall(t, "attack", srv.URL, "--rate", "20", "--duration", "500ms", "--output", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r vegeta.Result
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := vegeta.NewDecoder(f).Decode(&r); err != nil || r.Code != 200 {
		t.Errorf("the run's results did not replace the file: %v, %+v", err, r)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".keep.bin*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestAttackCommandErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	noEndpoint := writeTopology(t, fastTopology)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()
	unreachable := writeTopology(t, "workload: [{entry: a, rate: 5}]\nservices:\n  a: {service_time: 1ms, endpoint: \""+closed+"\"}\n")
	public := writeTopology(t, "workload: [{entry: a, rate: 5}]\nservices:\n  a: {service_time: 1ms, listen: \"0.0.0.0:18081\"}\n")
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"attack"}, exitUsage, "want one topology FILE or URL to attack, got 0 arguments"},
		{[]string{"attack", srv.URL}, exitUsage, "--rate is required with a URL"},
		{[]string{"attack", srv.URL, "--rate", "fast"}, exitUsage, `--rate: "fast" is not a rate`},
		{[]string{"attack", srv.URL, "--rate", "0"}, exitUsage, "--rate: 0 is not a positive rate"},
		{[]string{"attack", srv.URL, "--rate", "10", "--duration", "30"}, exitUsage, "--duration 30 has no unit; write a duration such as 30s"},
		{[]string{"attack", srv.URL, "--rate", "10", "--duration", "0s"}, exitUsage, "--duration 0s: must be more than zero"},
		{[]string{"attack", srv.URL, "--rate", "10", "--warmup", "-1s"}, exitUsage, "--warmup -1s is negative"},
		{[]string{"attack", srv.URL, "--rate", "10", "--timeout", "soon"}, exitUsage, `--timeout "soon" is not a duration`},
		{[]string{"attack", srv.URL, "--rate", "10", "--arrivals", "bursty"}, exitUsage, `unknown arrival process "bursty"; use poisson`},
		{[]string{"attack", srv.URL, "--rate", "10", "--header", "nocolon"}, exitUsage, `write a header as 'Name: value'`},
		{[]string{"attack", srv.URL, "--rate", "10", "--method", "GE T"}, exitFailure, "is not an HTTP method"},
		{[]string{"attack", srv.URL, "--rate", "10", "--emulate"}, exitUsage, "--emulate needs a topology FILE"},
		{[]string{"attack", "127.0.0.1:8080/", "--rate", "10"}, exitUsage, `has no scheme; write http://127.0.0.1:8080/`},
		{[]string{"attack", "ftp://127.0.0.1/", "--rate", "10"}, exitUsage, `the scheme "ftp" is not http or https`},
		{[]string{"attack", "missing.yaml"}, exitFailure, "missing.yaml: no such file"},
		{[]string{"attack", noEndpoint}, exitFailure, "workload entry front has no endpoint: give the service an endpoint: URL where it answers, or emulate the topology (kendall attack --emulate)"},
		{[]string{"attack", public, "--emulate"}, exitFailure, "services.a.listen: 0.0.0.0:18081 is not a loopback address; the emulation serves on 127.0.0.1 only unless told otherwise: use 127.0.0.1:18081, or allow other addresses explicitly with emulate.Options.AllowNonLoopback (kendall serve --allow-non-loopback)"},
		{[]string{"attack", unreachable, "--duration", "1s"}, exitFailure, "target unreachable: " + closed + " (a): dial tcp"},
		{[]string{"attack", closed, "--rate", "10"}, exitFailure, "check that the server is running and listens there"},
		{[]string{"attack", srv.URL, "--rate", "10", "--output", "-", "--json"}, exitUsage, "--output - and --json both want stdout"},
	}
	for _, tc := range tests {
		code, _, errOut := kendall(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.contains) {
			t.Errorf("kendall %v: exit %d, stderr %q; want exit %d containing %q", tc.args, code, errOut, tc.code, tc.contains)
		}
	}
}

// TestAttackInterrupted stops an attack as Ctrl-C would: what was measured
// is printed, and marked, and the exit status says interrupted.
func TestAttackInterrupted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(800*time.Millisecond, cancel) // Ctrl-C
	var out, errOut bytes.Buffer
	// An hour: only the interruption can end it before the test times out.
	code := run(ctx, &env{stdout: &out, stderr: &errOut}, []string{"attack", srv.URL, "--rate", "50", "--duration", "1h"})
	if code != exitInterrupted || !strings.Contains(errOut.String(), "kendall attack: interrupted") {
		t.Errorf("exit %d, stderr %q; want %d and interrupted", code, errOut.String(), exitInterrupted)
	}
	if !strings.Contains(out.String(), "INTERRUPTED: the figures cover the") || !strings.Contains(out.String(), "status 200×") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestAttackHelp(t *testing.T) {
	code, out, _ := kendall(t, "help", "attack")
	if code != 0 || !strings.Contains(out, "Usage: kendall attack FILE|URL") || !strings.Contains(out, "coordinated omission") || !strings.Contains(out, "--max-lag duration") {
		t.Errorf("help attack: exit %d:\n%s", code, out)
	}
}

// TestAttackFailures: every request failing is an error (exit 1) that says
// so; --min-success sets a threshold, as a k6 threshold does; failures are
// printed by class with an example.
func TestAttackFailures(t *testing.T) {
	var n atomic.Int64
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 { // one in four fails
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	}))
	defer flaky.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer broken.Close()

	code, out, errOut := kendall(t, "attack", broken.URL, "--rate", "40", "--duration", "500ms")
	if code != exitFailure || !strings.Contains(errOut, "every request failed: none of the") {
		t.Errorf("all failed: exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "failed: status 503 ×") {
		t.Errorf("failures not printed by class:\n%s", out)
	}
	code, _, errOut = kendall(t, "attack", flaky.URL, "--rate", "40", "--duration", "1s")
	if code != 0 {
		t.Errorf("some failed, no threshold: exit %d, %s", code, errOut)
	}
	code, _, errOut = kendall(t, "attack", flaky.URL, "--rate", "40", "--duration", "1s", "--min-success", "0.99")
	if code != exitFailure || !strings.Contains(errOut, "fewer requests succeeded than --min-success 99.0% asks") {
		t.Errorf("below --min-success: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = kendall(t, "attack", flaky.URL, "--rate", "40", "--duration", "500ms", "--min-success", "1.5")
	if code != exitUsage {
		t.Errorf("--min-success 1.5: exit %d, %s", code, errOut)
	}
}

// TestAttackInsecure: a self-signed https target fails, by class TLS,
// unless --insecure.
func TestAttackInsecure(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused are the point
	srv.StartTLS()
	defer srv.Close()
	code, out, _ := kendall(t, "attack", srv.URL, "--rate", "20", "--duration", "500ms")
	if code != exitFailure || !strings.Contains(out, "failed: TLS ×") {
		t.Errorf("self-signed without --insecure: exit %d:\n%s", code, out)
	}
	code, out, errOut := kendall(t, "attack", srv.URL, "--rate", "20", "--duration", "500ms", "--insecure")
	if code != 0 || !strings.Contains(out, "100.0%") {
		t.Errorf("--insecure: exit %d, %s:\n%s", code, errOut, out)
	}
}

// TestAttackImpossibleRate: an attack at a rate no machine sends ends at
// its duration, says how many requests it did not send, and is not
// trustworthy (it ran for minutes, into gigabytes, before).
func TestAttackImpossibleRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	code, out, errOut := kendall(t, "attack", srv.URL, "--rate", "1e7", "--duration", "1s", "--max-in-flight", "64", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Run struct {
			Requests     int64 `json:"requests"`
			NotSent      int64 `json:"not_sent"`
			Trustworthy  bool  `json:"trustworthy"`
			PeakInFlight int   `json:"peak_in_flight"`
		} `json:"run"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	r := doc.Run
	if r.Trustworthy || r.NotSent < 1e6 || r.Requests+r.NotSent < 9_000_000 || r.PeakInFlight > 64 {
		t.Errorf("run %+v: want most of 1e7 not sent, at most 64 in flight, not trustworthy", r)
	}
}
