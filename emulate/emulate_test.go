package emulate

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/leaktest"
	"github.com/kendallqn/kendall/internal/random"
	"github.com/kendallqn/kendall/topology"
)

func parseTopology(t *testing.T, doc string) *topology.Topology {
	t.Helper()
	top, err := topology.Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// start emulates the topology doc until the test ends.
func start(t *testing.T, doc string, opts Options) *Emulation {
	t.Helper()
	em, err := Start(t.Context(), parseTopology(t, doc), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	return em
}

// testClient is an HTTP client whose connections a test closes, so that no
// goroutine of it outlives the test.
func testClient(t *testing.T) *http.Client {
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

const callsTopology = `
name: calls
workload: [{entry: front, rate: 100}]
services:
  front:
    servers: 4
    service_time: 200us
    calls:
      - {to: back, count: 3}
      - {to: side, probability: 0.5, count: 2}
  back: {servers: 2, service_time: 100us}
  side: {service_time: 100us, distribution: deterministic}
`

// TestEmulateCalls checks the call semantics: every call in order, count
// times, each repetition with its probability. The coin flips of a service
// come from a seeded stream, so how many of them come up is known exactly.
func TestEmulateCalls(t *testing.T) {
	leaktest.Check(t)
	const seed, n = 5, 100
	em := start(t, callsTopology, Options{Seed: seed})
	c := testClient(t)
	for range n {
		if code, body := get(t, c, em.URL("front")); code != 200 || body != "front\n" {
			t.Fatalf("front answered %d %q", code, body)
		}
	}
	// front flips its coin twice per request, for the two calls to side.
	coin := random.Labelled(seed, coinStreams, em.Topology().Index("front"))
	heads := 0
	for range 2 * n {
		if coin.Float64() < 0.5 {
			heads++
		}
	}
	want := map[string]int64{"front": n, "back": 3 * n, "side": int64(heads)}
	for _, s := range em.Stats() {
		if s.Requests != want[s.Name] || s.Served != want[s.Name] {
			t.Errorf("%s: %d requests, %d served; want %d", s.Name, s.Requests, s.Served, want[s.Name])
		}
		if s.RealizedMean == nil || s.DrawnMean == nil || s.CallErrors != 0 || s.Busy != 0 || s.QueueLength != 0 || s.InFlight != 0 {
			t.Errorf("%s: %+v", s.Name, s)
		}
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
			t.Errorf("%s serves at %s, not on 127.0.0.1", s.Name, s.URL)
		}
	}
	if side := em.Stats()[2]; *side.DrawnMean != 100e-6 || *side.DrawnCV != 0 {
		t.Errorf("deterministic side drew mean %v cv %v", *side.DrawnMean, *side.DrawnCV)
	}
	if u := em.URL("nowhere"); u != "" {
		t.Errorf("URL of a service not in the topology: %q", u)
	}
}

// TestEmulateCallFailure checks that a failed call fails the caller's
// request with 502 and is counted, without stopping the other calls.
func TestEmulateCallFailure(t *testing.T) {
	em := start(t, callsTopology, Options{})
	em.services[em.Topology().Index("back")].srv.Close()
	code, body := get(t, testClient(t), em.URL("front"))
	if code != http.StatusBadGateway || !strings.Contains(body, "3 calls failed") {
		t.Errorf("front answered %d %q, want 502 and 3 calls failed", code, body)
	}
	if s := em.Stats()[0]; s.CallErrors != 3 {
		t.Errorf("call errors %d, want 3", s.CallErrors)
	}
}

// TestEmulateMetrics reads /metrics in the Prometheus text format: each
// metric a HELP line, a TYPE line, then its sample.
func TestEmulateMetrics(t *testing.T) {
	em := start(t, callsTopology, Options{})
	c := testClient(t)
	for range 3 {
		get(t, c, em.URL("front"))
	}
	resp, err := c.Get(em.URL("back") + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	samples := map[string]float64{}
	var help, typ string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# HELP "):
			help = strings.Fields(line)[2]
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(line)
			if typ = f[2]; typ != help || (f[3] != "counter" && f[3] != "gauge") {
				t.Errorf("TYPE line %q after HELP of %s", line, help)
			}
		default:
			name, rest, ok := strings.Cut(line, `{service="back"} `)
			if !ok || name != typ {
				t.Fatalf("sample line %q does not follow its TYPE line (%s)", line, typ)
			}
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("sample line %q: %v", line, err)
			}
			samples[name] = v
		}
	}
	for name, want := range map[string]float64{
		"kendall_requests_total":              9,
		"kendall_served_total":                9,
		"kendall_workers":                     2,
		"kendall_busy_workers":                0,
		"kendall_queue_length":                0,
		"kendall_call_errors_total":           0,
		"kendall_service_time_target_seconds": 100e-6,
	} {
		if got, ok := samples[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if samples["kendall_service_time_realized_mean_seconds"] <= 0 || samples["kendall_service_time_realized_seconds_total"] <= 0 {
		t.Errorf("realized service time samples: %v", samples)
	}
}

func TestEmulateListen(t *testing.T) {
	service := func(listen string) string {
		return "workload: [{entry: a, rate: 1}]\nservices:\n  a: {service_time: 1ms, listen: \"" + listen + "\"}\n"
	}
	for _, listen := range []string{":0", "localhost:0", "127.0.0.1:0"} {
		em, err := Start(t.Context(), parseTopology(t, service(listen)), Options{})
		if err != nil {
			t.Errorf("listen %q: %v", listen, err)
			continue
		}
		if u := em.URL("a"); !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("listen %q: serves at %s, not on 127.0.0.1", listen, u)
		}
		em.Close()
	}

	// The errors name the file, line and field, and say how to fix them
	// in the library's terms, not a command line's.
	var te *topology.Error
	_, err := Start(t.Context(), parseTopology(t, service("0.0.0.0:8081")), Options{})
	if !errors.Is(err, ErrNotLoopback) || !errors.As(err, &te) || te.File != "test.yaml" || te.Line != 3 || te.Field != "services.a.listen" ||
		!strings.Contains(te.Msg, "not a loopback address") || !strings.Contains(te.Msg, "use 127.0.0.1:8081") ||
		!strings.Contains(te.Msg, "Options.AllowNonLoopback") || strings.Contains(te.Msg, "--") {
		t.Errorf("non-loopback listen: %v", err)
	}
	// The topology's parser refuses such an address before; a topology
	// built otherwise may have it.
	_, err = listenAddress(&topology.Topology{Name: "built"}, &topology.Service{Name: "a", Listen: "8081"}, false)
	if !errors.As(err, &te) || errors.Is(err, ErrNotLoopback) || err.Error() != `built: services.a.listen: "8081" is not host:port; write one such as 127.0.0.1:8081` {
		t.Errorf("listen without a port: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Start(t.Context(), parseTopology(t, service(ln.Addr().String())), Options{})
	var op *net.OpError // the system's error, wrapped
	if !errors.As(err, &te) || !errors.As(err, &op) || !strings.Contains(err.Error(), "test.yaml:3: services.a: cannot listen on") || !strings.Contains(err.Error(), "another server") {
		t.Errorf("port in use: %v", err)
	}
}

// TestEmulateClose closes an emulation with requests queued and in
// service: the queued ones fail with 503, Close returns without waiting
// for the service times (an hour: waiting would outlast the test's
// timeout), and no goroutine is left.
func TestEmulateClose(t *testing.T) {
	leaktest.Check(t)
	em, err := Start(t.Context(), parseTopology(t, "workload: [{entry: slow, rate: 1}]\nservices:\n  slow: {service_time: 1h, distribution: deterministic}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := testClient(t)
	var wg sync.WaitGroup
	codes := make(chan int, 5)
	for range 5 {
		wg.Go(func() {
			resp, err := c.Get(em.URL("slow"))
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for em.Stats()[0].QueueLength < 4 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := em.Close(); err != nil {
		t.Error(err)
	}
	wg.Wait()
	close(codes)
	unavailable := 0
	for c := range codes {
		if c == http.StatusServiceUnavailable {
			unavailable++
		}
	}
	if unavailable < 4 {
		t.Errorf("%d requests answered 503, want the 4 queued", unavailable)
	}
	if err := em.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// do sends one request and returns its status, Allow header and body.
func do(t *testing.T, c *http.Client, method, url string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Allow"), string(body)
}

// TestEmulateRoutes pins what a service answers where: / is the service,
// whatever the method; /metrics is its counters, to GET and HEAD only;
// every other path is 404 and names the two, and none of those count as
// requests to the service.
func TestEmulateRoutes(t *testing.T) {
	em := start(t, "workload: [{entry: a, rate: 1}]\nservices:\n  a: {service_time: 100us}\n", Options{})
	c := testClient(t)
	base := em.URL("a") // ends in /
	for _, tc := range []struct {
		method, path string
		code         int
		allow, body  string // what the Allow header and the body must contain
	}{
		{"GET", "", 200, "", "a\n"},
		{"POST", "", 200, "", "a\n"},
		{"DELETE", "?q=1", 200, "", "a\n"},
		{"GET", "metrics", 200, "", "kendall_requests_total"},
		{"HEAD", "metrics", 200, "", ""},
		{"POST", "metrics", 405, "GET, HEAD", "GET or HEAD"},
		{"GET", "metricsx", 404, "", "/metrics"},
		{"GET", "other", 404, "", "the service is at /"},
		{"POST", "a/b", 404, "", "/metrics"},
	} {
		code, allow, body := do(t, c, tc.method, base+tc.path)
		if code != tc.code || !strings.Contains(allow, tc.allow) || !strings.Contains(body, tc.body) {
			t.Errorf("%s /%s: %d, Allow %q, body %q; want %d, Allow %q, a body with %q", tc.method, tc.path, code, allow, body, tc.code, tc.allow, tc.body)
		}
	}
	if s := em.Stats()[0]; s.Requests != 3 || s.Served != 3 {
		t.Errorf("%d requests, %d served; want the 3 to /", s.Requests, s.Served)
	}
}

// TestEmulateCloseCutsServiceShort closes an emulation while a request is
// in service (a 60 s service time): the request must not be answered as if
// served (503, or its connection closed), and it must not count as served
// nor as a realized service time, which would be a fraction of the drawn
// one.
func TestEmulateCloseCutsServiceShort(t *testing.T) {
	leaktest.Check(t)
	em, err := Start(t.Context(), parseTopology(t, "workload: [{entry: slow, rate: 1}]\nservices:\n  slow: {service_time: 60s, distribution: deterministic}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := testClient(t)
	type answer struct {
		code int
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := c.Get(em.URL("slow"))
		if err != nil {
			got <- answer{err: err}
			return
		}
		resp.Body.Close()
		got <- answer{code: resp.StatusCode}
	}()
	for em.Stats()[0].Busy < 1 {
		time.Sleep(time.Millisecond)
	}
	if err := em.Close(); err != nil {
		t.Error(err)
	}
	if a := <-got; a.err == nil && a.code != http.StatusServiceUnavailable {
		t.Errorf("the request cut short by Close got %d, want 503 or a closed connection", a.code)
	}
	s := em.Stats()[0]
	if s.Requests != 1 || s.Served != 0 || s.RealizedMean != nil || s.DrawnMean != nil {
		t.Errorf("requests %d, served %d, realized mean %v, drawn mean %v; want 1 request, none served, no service times",
			s.Requests, s.Served, s.RealizedMean, s.DrawnMean)
	}
}
