package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/kendallqn/kendall/internal/etcdtest"
	"github.com/kendallqn/kendall/internal/leaktest"
	"github.com/kendallqn/kendall/loadgen"
)

// asKendall, in the environment of a process started by a test, makes the
// test binary run as the kendall command, with its arguments: the tests of
// several processes run real processes without building the binary.
const asKendall = "KENDALL_TEST_AS_KENDALL"

func TestMain(m *testing.M) {
	if os.Getenv(asKendall) == "1" {
		os.Exit(kendallMain(os.Args[1:]))
	}
	code := m.Run()
	stopEtcd()
	os.Exit(code)
}

// kendallMain is main's body, for a test binary running as kendall.
func kendallMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr}, args)
}

// The etcd of the tests, embedded in the test binary, started by the
// first test that needs one and stopped by TestMain.
var (
	etcdOnce   sync.Once
	etcdServer *embed.Etcd
	etcdDir    string
	etcdAddr   string
	etcdErr    error
)

// testEtcd returns the registry URL of the tests' etcd, starting it on
// first use.
func testEtcd(t *testing.T) string {
	t.Helper()
	etcdOnce.Do(func() {
		if etcdDir, etcdErr = os.MkdirTemp("", "kendall-cmd-etcd-"); etcdErr != nil {
			return
		}
		if etcdServer, etcdErr = etcdtest.Start(etcdDir); etcdErr != nil {
			return
		}
		etcdAddr = "etcd://" + etcdServer.Clients[0].Addr().String()
		etcdtest.Settle()
	})
	if etcdErr != nil {
		t.Fatalf("starting the embedded etcd: %v", etcdErr)
	}
	return etcdAddr
}

func stopEtcd() {
	if etcdServer != nil {
		etcdServer.Close()
	}
	if etcdDir != "" {
		os.RemoveAll(etcdDir)
	}
}

// patience bounds every wait on a process or on etcd: generous, since the
// machine may be busy, and never a timing assertion.
const patience = 30 * time.Second

// serveDoc is what serve --json prints.
type serveDoc struct {
	Topology string `json:"topology"`
	Registry string `json:"registry"`
	Services []struct {
		Name       string `json:"name"`
		URL        string `json:"url"`
		MetricsURL string `json:"metrics_url"`
		Replicas   []struct {
			URL        string `json:"url"`
			MetricsURL string `json:"metrics_url"`
		} `json:"replicas"`
	} `json:"services"`
	Elsewhere []struct {
		Name     string   `json:"name"`
		Replicas []string `json:"replicas"`
	} `json:"elsewhere"`
	Entries []struct {
		Entry  string `json:"entry"`
		URL    string `json:"url"`
		Target string `json:"target"`
	} `json:"entries"`
}

// process is a kendall serve running in a process of its own.
type process struct {
	cmd    *exec.Cmd
	doc    serveDoc
	stderr *lockedBuffer
	exited chan struct{} // closed once the process has exited and been waited for
}

// startProcess runs kendall serve ARGS --json in a new process (this test
// binary, as kendall) and returns once it has printed its addresses. The
// process is stopped, as by Ctrl-C, at the end of the test if it still
// runs.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], append(args, "--json")...)
	cmd.Env = append(os.Environ(), asKendall+"=1")
	p := &process{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(t) })
	decoded := make(chan error, 1)
	go func() {
		decoded <- json.NewDecoder(out).Decode(&p.doc)
		io.Copy(io.Discard, out) // what follows the addresses, until it exits
		cmd.Wait()
		close(p.exited)
	}()
	select {
	case err := <-decoded:
		if err != nil {
			t.Fatalf("kendall %v: reading its addresses: %v; stderr:\n%s", args, err, p.stderr)
		}
	case <-time.After(patience):
		t.Fatalf("kendall %v printed no addresses in %v; stderr:\n%s", args, patience, p.stderr)
	}
	return p
}

// stop interrupts the process, as Ctrl-C does, and waits for it to exit,
// killing it if it does not in time.
func (p *process) stop(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(patience):
		p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("kendall %v did not stop on SIGINT; stderr:\n%s", p.cmd.Args[1:], p.stderr)
	}
}

// scrape reads one sample of a replica's /metrics: the first line that
// starts with the given series, name{labels}.
func scrape(t *testing.T, c *http.Client, metricsURL, series string) float64 {
	t.Helper()
	resp, err := c.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return -1
}

// multiTopology is front calling back once a request, back of two
// replicas, balanced round-robin: each process serves one of them.
const multiTopology = `name: multi
workload: [{entry: front, rate: 40}]
services:
  front: {servers: 4, service_time: 1ms, calls: [{to: back}]}
  back: {replicas: 2, balancer: round-robin, servers: 2, service_time: 2ms}
`

// TestMultiProcess is the acceptance test of issue 12: one topology
// served by two processes through one etcd, attacked through the
// registry; in the middle, one replica of back stops, and front's calls
// move to the other. Every request sent is in the results, as a success
// or a failure counted by class; front received every one; after the
// stop, back's calls all go to the replica left.
func TestMultiProcess(t *testing.T) {
	reg := testEtcd(t)
	leaktest.Check(t) // of the attack, run in this process
	path := writeTopology(t, multiTopology)
	back := startProcess(t, "serve", path, "--services", "back", "--registry", reg)
	front := startProcess(t, "serve", path, "--services", "front", "--registry", reg)
	if len(back.doc.Services) != 1 || len(back.doc.Services[0].Replicas) != 2 || len(front.doc.Services) != 1 {
		t.Fatalf("back serves %+v, front %+v", back.doc.Services, front.doc.Services)
	}
	if e := front.doc.Elsewhere; len(e) != 1 || e[0].Name != "back" {
		t.Errorf("front's process says %+v is served elsewhere", e)
	}
	back0, back1 := back.doc.Services[0].Replicas[0], back.doc.Services[0].Replicas[1]
	frontMetrics := front.doc.Services[0].MetricsURL
	target := front.doc.Entries[0].Target
	if want := reg + "/kendall/multi/front"; target != want {
		t.Fatalf("entry target %q, want %q", target, want)
	}

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: patience}
	callsTo := func(u string) float64 {
		return scrape(t, c, frontMetrics, `kendall_callee_calls_total{service="front",callee="back",url="`+u+`"}`)
	}
	calleeReplicas := func() float64 {
		return scrape(t, c, frontMetrics, `kendall_callee_replicas{service="front",callee="back"}`)
	}
	waitFor(t, "front to know back's two replicas", func() bool { return calleeReplicas() == 2 })

	// The attack, in this process, through the registry.
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), &env{stdout: &out, stderr: &errOut},
			[]string{"attack", target, "--rate", "50", "--duration", "6s", "--arrivals", "constant", "--json"})
	}()

	// In the middle: once back[1] has been called, stop it.
	waitFor(t, "front's calls to reach back[1]", func() bool { return callsTo(back1.URL) >= 50 })
	resp, err := c.Post(strings.TrimSuffix(back1.URL, "/")+"/admin/stop", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /admin/stop: %s", resp.Status)
	}
	waitFor(t, "front to drop back[1]", func() bool { return calleeReplicas() == 1 })
	waitFor(t, "back[1] to refuse connections", func() bool {
		resp, err := c.Get(back1.MetricsURL)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return err != nil
	})
	// From here on, every call of front to back goes to back[0]: what
	// front sent it and what it received grow alike.
	sent0, got0 := callsTo(back0.URL), scrape(t, c, back0.MetricsURL, `kendall_requests_total{service="back",replica="0"}`)
	errors0 := scrape(t, c, frontMetrics, `kendall_call_errors_total{service="front"}`)

	var code int
	select {
	case code = <-done:
	case <-time.After(patience):
		t.Fatalf("the attack did not end; stderr:\n%s", errOut.String())
	}
	if code != exitOK {
		t.Fatalf("attack exit %d; stderr:\n%s\nstdout:\n%s", code, errOut.String(), out.String())
	}
	var res loadgen.Result
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		t.Fatal(err)
	}
	e := res.Entries[0]

	// Every request is accounted for: a success, or a failure counted
	// by class; none was lost on the way to front.
	var failed int64
	for _, ec := range e.Errors {
		failed += ec.Count
	}
	var statuses int64
	for _, n := range e.StatusCodes {
		statuses += n
	}
	if e.Requests == 0 || e.Successes+failed != e.Requests || statuses != e.Requests {
		t.Errorf("requests %d = successes %d + failures %d by class? statuses %v", e.Requests, e.Successes, failed, e.StatusCodes)
	}
	if len(e.Replicas) != 1 || e.Replicas[0].Sent != e.Requests || e.Replicas[0].Failed != failed {
		t.Errorf("sent to front's replicas %+v, requests %d, failures %d", e.Replicas, e.Requests, failed)
	}
	if got := scrape(t, c, frontMetrics, `kendall_requests_total{service="front"}`); int64(got) != e.Requests {
		t.Errorf("front received %v requests, the attack sent %d", got, e.Requests)
	}
	if due := int64(50 * 6); e.Requests+e.NotSent < due-1 || e.Requests+e.NotSent > due+1 {
		t.Errorf("requests %d + not sent %d; %d were due", e.Requests, e.NotSent, due)
	}

	// After the stop, front's calls went to back[0] only, and none
	// failed.
	sent0End := callsTo(back0.URL)
	got0End := scrape(t, c, back0.MetricsURL, `kendall_requests_total{service="back",replica="0"}`)
	if sent0End-sent0 < 10 || got0End-got0 != sent0End-sent0 {
		t.Errorf("after the stop front sent back[0] %v calls and it received %v", sent0End-sent0, got0End-got0)
	}
	if errorsEnd := scrape(t, c, frontMetrics, `kendall_call_errors_total{service="front"}`); errorsEnd != errors0 {
		t.Errorf("front's calls failed after the stop: %v, then %v", errors0, errorsEnd)
	}
	if calleeReplicas() != 1 || callsTo(back1.URL) != -1 {
		t.Errorf("front still routes to back[1]")
	}
	t.Logf("attack: %d requests, %d succeeded, %v; back[0] got %v calls after the stop", e.Requests, e.Successes, e.StatusCodes, sent0End-sent0)

	// Both processes stop cleanly, and front's says back went away.
	back.stop(t)
	waitFor(t, "front to see back gone", func() bool { return calleeReplicas() == 0 })
	front.stop(t)
	if s := front.stderr.String(); !regexp.MustCompile(`registry: back now has 1 replica: `+regexp.QuoteMeta(back0.URL)).MatchString(s) || !strings.Contains(s, "registry: back now has no replica registered") {
		t.Errorf("front's stderr:\n%s", s)
	}
	for _, p := range []*process{front, back} {
		if !p.cmd.ProcessState.Success() {
			t.Errorf("%v exited %v; stderr:\n%s", p.cmd.Args[1:], p.cmd.ProcessState, p.stderr)
		}
	}
	if s := back.stderr.String(); !strings.Contains(s, "Stopped. Service times realized:") {
		t.Errorf("back's stderr:\n%s", s)
	}
}

// waitFor polls cond until it holds, failing the test after patience.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not after %v", what, patience)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
