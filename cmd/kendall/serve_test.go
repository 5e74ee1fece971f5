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
