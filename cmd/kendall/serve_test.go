package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer that a command and a test may use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeJSON serves a topology, reads its addresses from the JSON,
// sends it a request and reads its metrics, then stops it as Ctrl-C would.
func TestServeJSON(t *testing.T) {
	path := writeTopology(t, fastTopology)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errOut lockedBuffer
	done := make(chan int)
	go func() {
		code := run(ctx, &env{stdout: pw, stderr: &errOut}, []string{"serve", path, "--json", "--seed", "3"})
		pw.Close()
		done <- code
	}()

	var doc struct {
		Topology string `json:"topology"`
		Services []struct {
			Name       string `json:"name"`
			URL        string `json:"url"`
			MetricsURL string `json:"metrics_url"`
		} `json:"services"`
		Entries []struct {
			Entry string  `json:"entry"`
			URL   string  `json:"url"`
			Rate  float64 `json:"rate"`
		} `json:"entries"`
	}
	if err := json.NewDecoder(pr).Decode(&doc); err != nil {
		t.Fatalf("reading the addresses: %v (stderr %q)", err, errOut.String())
	}
	go io.Copy(io.Discard, pr)
	if doc.Topology != "fast" || len(doc.Services) != 2 || len(doc.Entries) != 1 || doc.Entries[0].Entry != "front" || doc.Entries[0].Rate != 40 {
		t.Fatalf("addresses %+v", doc)
	}
	for _, s := range doc.Services {
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.MetricsURL != s.URL+"metrics" {
			t.Errorf("service %+v not on loopback", s)
		}
	}

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := c.Get(doc.Entries[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "front\n" {
		t.Errorf("front answered %d %q", resp.StatusCode, body)
	}
	resp, err = c.Get(doc.Services[1].MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `kendall_requests_total{service="back"} 2`) {
		t.Errorf("metrics of back:\n%s", metrics)
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d after Ctrl-C: %s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if s := errOut.String(); !strings.Contains(s, "Stopped. Service times realized:") || !strings.Contains(s, "back     2 ") {
		t.Errorf("stderr after stopping:\n%s", s)
	}
}

func TestServeHuman(t *testing.T) {
	path := writeTopology(t, fastTopology)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int)
	go func() { done <- run(ctx, &env{stdout: &out, stderr: &errOut}, []string{"serve", path}) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "kendall attack") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"Serving fast: 2 services on 127.0.0.1", "SERVICE  WORKERS  SERVICE TIME", "1.00ms exponential", "500µs deterministic",
		"Entry front, 40.0 req/s in the workload: kendall attack http://127.0.0.1:", "--rate 40 --duration 30s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestServeErrors(t *testing.T) {
	public := writeTopology(t, "workload: [{entry: a, rate: 5}]\nservices:\n  a: {service_time: 1ms, listen: \"0.0.0.0:18081\"}\n")
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"serve"}, exitUsage, "want one topology FILE, got 0 arguments"},
		{[]string{"serve", public}, exitFailure, "services.a.listen: 0.0.0.0:18081 is not a loopback address; the emulation serves on 127.0.0.1 only unless told otherwise: use 127.0.0.1:18081, or allow other addresses explicitly with emulate.Options.AllowNonLoopback (kendall serve --allow-non-loopback)"},
		{[]string{"serve", "missing.yaml"}, exitFailure, "no such file"},
	}
	for _, tc := range tests {
		code, _, errOut := kendall(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.contains) {
			t.Errorf("kendall %v: exit %d, stderr %q; want exit %d containing %q", tc.args, code, errOut, tc.code, tc.contains)
		}
	}
}

// replicatedTopology has two entries of several replicas, one behind a
// random balancer and one behind round-robin.
const replicatedTopology = `name: replicated
workload: [{entry: spread, rate: 90}, {entry: turns, rate: 40}]
services:
  spread: {replicas: 3, servers: 1, service_time: 1ms}
  turns: {replicas: 2, balancer: round-robin, servers: 1, service_time: 1ms}
`

// TestServeReplicatedEntry: serve never suggests attacking one replica of
// an entry of several with the entry's whole rate. It points to attack
// --emulate or --registry, and, for a random balancer only, to each
// replica at its share with a seed of its own; --json gives the replicas
// and the balancer in place of a url.
func TestServeReplicatedEntry(t *testing.T) {
	path := writeTopology(t, replicatedTopology)
	serve := func(args ...string) string {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut lockedBuffer
		done := make(chan int)
		go func() {
			done <- run(ctx, &env{stdout: &out, stderr: &errOut}, append([]string{"serve", path}, args...))
		}()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(out.String(), "--emulate") && !strings.Contains(out.String(), `"entries"`) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		if code := <-done; code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		return out.String()
	}

	out := serve()
	for _, want := range []string{
		"Entry spread, 90.0 req/s in the workload, has 3 replicas behind its random balancer: no one URL spreads its load",
		"attacking each replica at 30.0 req/s, all at once and each with a seed of its own, is the same Poisson load:",
		"--rate 30 --seed 1 --duration 30s", "--rate 30 --seed 2 --duration 30s", "--rate 30 --seed 3 --duration 30s",
		"Entry turns, 40.0 req/s in the workload, has 2 replicas behind its round-robin balancer",
		"kendall attack " + path + " --emulate --duration 30s",
		"kendall attack " + path + " --registry etcd://HOST:PORT --duration 30s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"--rate 90 ", "--rate 40 ", "--rate 20 "} {
		if strings.Contains(out, bad) {
			t.Errorf("output suggests %q, the entry's whole rate or a round-robin share, at one URL:\n%s", bad, out)
		}
	}

	var doc struct {
		Entries []struct {
			Entry    string   `json:"entry"`
			URL      *string  `json:"url"`
			Replicas []string `json:"replicas"`
			Balancer string   `json:"balancer"`
		} `json:"entries"`
	}
	js := serve("--json")
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, js)
	}
	if len(doc.Entries) != 2 {
		t.Fatalf("entries %+v", doc.Entries)
	}
	for i, want := range []struct {
		n        int
		balancer string
	}{{3, "random"}, {2, "round-robin"}} {
		e := doc.Entries[i]
		if e.URL != nil || len(e.Replicas) != want.n || e.Balancer != want.balancer {
			t.Errorf("entry %s: url %v, replicas %q, balancer %q; want no url, %d replicas, %s", e.Entry, e.URL, e.Replicas, e.Balancer, want.n, want.balancer)
		}
	}
}

// TestRegistryServeReplicatedEntry: with a registry, an entry of several
// replicas is attacked at its etcd:// target with its own balancer, and
// every entry at once with attack FILE --registry.
func TestRegistryServeReplicatedEntry(t *testing.T) {
	reg := testEtcd(t)
	path := writeTopology(t, strings.Replace(replicatedTopology, "name: replicated", "name: replicated-reg", 1))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, &env{stdout: &out, stderr: &errOut}, []string{"serve", path, "--registry", reg})
	}()
	waitFor(t, "serve to print its entries", func() bool { return strings.Contains(out.String(), "Every entry at once") })
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"Entry spread, 90.0 req/s in the workload: kendall attack " + reg + "/kendall/replicated-reg/spread --rate 90 --balancer random --duration 30s",
		"Entry turns, 40.0 req/s in the workload: kendall attack " + reg + "/kendall/replicated-reg/turns --rate 40 --balancer round-robin --duration 30s",
		"Every entry at once, each balanced by its balancer: kendall attack " + path + " --registry " + reg + "/kendall --duration 30s",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
