package loadgen

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/kendallqn/kendall/internal/leaktest"
	"github.com/kendallqn/kendall/internal/moments"
)

func okServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("a body that is not kept\n"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// scheduled is the number of hits a pacer schedules before end: each is
// sent or counted as not sent, and no other is sent.
func scheduled(p *Pacer, end time.Duration) int {
	n := 0
	for p.At(uint64(n)) < end {
		n++
	}
	return n
}

// TestAttackWritesVegetaResults attacks a server and reads the results back
// with vegeta's own decoders and metrics.
func TestAttackWritesVegetaResults(t *testing.T) {
	leaktest.Check(t)
	srv := okServer(t)
	var out bytes.Buffer
	opts := Options{Duration: time.Second, Warmup: 500 * time.Millisecond, Seed: 4, Output: &out}
	res, err := Attack(t.Context(), []Target{{Name: "home", URL: srv.URL + "/", Rate: 100}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := scheduled(newPacer(Poisson, 100, 4, 0), 1500*time.Millisecond)

	dec := vegeta.DecoderFor(bytes.NewReader(out.Bytes())) // detects the gob encoding
	if dec == nil {
		t.Fatal("vegeta does not recognize the output's encoding")
	}
	var metrics vegeta.Metrics
	var got int
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("decoding result %d: %v", got, err)
			}
			break
		}
		if r.Attack != "home" || r.Code != 200 || r.URL != srv.URL+"/" || r.Method != "GET" || len(r.Body) != 0 || r.Latency <= 0 ||
			r.BytesIn != uint64(len("a body that is not kept\n")) {
			t.Fatalf("result %d: %+v", got, r)
		}
		metrics.Add(&r)
		got++
	}
	metrics.Close()
	// Every hit of the seed's schedule is sent, unless the machine stalled
	// for a second (Options.SkipAfter): the hits skipped are then counted,
	// and the rest of the schedule is a new sample path (Pacer.skip).
	notSent := int(res.Run.NotSent + res.Run.NotSentWarmup)
	if notSent == 0 && got != want || notSent > 0 && res.Run.Trustworthy || int(metrics.Requests) != got || metrics.Success != 1 {
		t.Errorf("decoded %d results (vegeta counts %d, success %v), %d not sent; want %d", got, metrics.Requests, metrics.Success, notSent, want)
	}
	// The gob decoder proper, as vegeta report uses it.
	if err := vegeta.NewDecoder(bytes.NewReader(out.Bytes())).Decode(&vegeta.Result{}); err != nil {
		t.Errorf("vegeta.NewDecoder: %v", err)
	}

	e := res.Entries[0]
	var offered float64
	for _, p := range e.Series {
		offered += p.Offered
	}
	if int(offered) != got || e.Requests > int64(want) || e.Requests == 0 {
		t.Errorf("series offered %v, window requests %d; want %d in all", offered, e.Requests, want)
	}
	if e.Entry != "home" || e.URL != srv.URL+"/" || e.RateRequested != 100 || e.SuccessRatio != 1 || e.StatusCodes["200"] != e.Requests || len(e.Errors) != 0 {
		t.Errorf("entry %+v", e)
	}
	if e.Mean == nil || e.Percentiles == nil || e.InterarrivalCV == nil || e.Histogram().TotalCount() != e.Requests {
		t.Errorf("entry figures missing: %+v", e)
	}
	if r := res.Run; r.Duration != 1 || r.Warmup != 0.5 || r.RateRequested != 100 || r.Arrivals != "poisson" || r.Seed != 4 || r.Interrupted {
		t.Errorf("run %+v", r)
	}
}

// TestAttackTargetsAndRequests sends two streams with their own method,
// headers and body, evenly spaced, and checks what the servers received.
func TestAttackTargetsAndRequests(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Test")+" "+string(body)]++
		mu.Unlock()
	}))
	defer srv.Close()
	targets := []Target{
		{Name: "a", URL: srv.URL + "/a", Rate: 100, Method: "POST", Header: http.Header{"X-Test": {"yes"}}, Body: []byte("hello")},
		{Name: "b", URL: srv.URL + "/b", Rate: 50},
	}
	res, err := Attack(t.Context(), targets, Options{Duration: time.Second, Arrivals: Constant})
	if err != nil {
		t.Fatal(err)
	}
	// Evenly spaced, hit k is due at (k+1)/rate: 99 and 49 before 1 s,
	// each sent or, if the machine stalled for a second, counted as not
	// sent.
	if a, b := seen["POST /a yes hello"], seen["GET /b  "]; len(seen) != 2 || a+int(res.Entries[0].NotSent) != 99 || b+int(res.Entries[1].NotSent) != 49 {
		t.Errorf("the servers saw %v, and %d and %d were not sent; want 99 and 49 in all", seen, res.Entries[0].NotSent, res.Entries[1].NotSent)
	}
	if len(res.Entries) != 2 || res.Entries[0].Entry != "a" || res.Entries[1].Entry != "b" || res.Run.RateRequested != 150 || res.Run.Arrivals != "constant" {
		t.Errorf("result %+v", res)
	}
	a, b := res.Entries[0], res.Entries[1]
	if r := res.Run; r.Requests != a.Requests+b.Requests || r.Successes != a.Successes+b.Successes || r.Successes != r.Requests || r.NotSent != a.NotSent+b.NotSent || res.AllFailed() {
		t.Errorf("run totals: %d requests, %d successes, %d not sent, all failed %v; entries %d+%d, %d+%d, %d+%d",
			r.Requests, r.Successes, r.NotSent, res.AllFailed(), a.Requests, b.Requests, a.Successes, b.Successes, a.NotSent, b.NotSent)
	}
	t.Logf("constant arrivals: interarrival cv %.3f and %.3f, max lag %.2fms",
		*res.Entries[0].InterarrivalCV, *res.Entries[1].InterarrivalCV, res.Run.MaxLag*1e3)
}

func TestAttackBadInput(t *testing.T) {
	srv := okServer(t)
	good := Target{Name: "x", URL: srv.URL, Rate: 10}
	ok := Options{Duration: time.Second}
	for _, c := range []struct {
		name    string
		targets []Target
		opts    Options
		want    string
	}{
		{"no targets", nil, ok, "no targets"},
		{"no scheme", []Target{{URL: "127.0.0.1:8080", Rate: 1}}, ok, `has no scheme; write http://127.0.0.1:8080`},
		{"bad scheme", []Target{{URL: "ftp://127.0.0.1/", Rate: 1}}, ok, `the scheme "ftp" is not http or https`},
		{"no host", []Target{{URL: "http:///path", Rate: 1}}, ok, "has no host"},
		{"bad port", []Target{{URL: "http://127.0.0.1:99999/", Rate: 1}}, ok, "port 99999 is not a port number"},
		{"empty URL", []Target{{Name: "e", Rate: 1}}, ok, "the URL is empty"},
		{"zero rate", []Target{{URL: srv.URL, Rate: 0}}, ok, "is not a positive number of requests per second"},
		{"negative rate", []Target{{URL: srv.URL, Rate: -5}}, ok, "is not a positive number"},
		{"NaN rate", []Target{{URL: srv.URL, Rate: math.NaN()}}, ok, "is not a positive number"},
		{"infinite rate", []Target{{URL: srv.URL, Rate: math.Inf(1)}}, ok, "is not a positive number"},
		{"bad method", []Target{{URL: srv.URL, Rate: 1, Method: "GE T"}}, ok, "is not an HTTP method"},
		{"bad header", []Target{{URL: srv.URL, Rate: 1, Header: http.Header{"Bad Name": {"x"}}}}, ok, "is not a valid header name"},
		{"same names", []Target{good, good}, ok, `two targets are named "x"`},
		{"no duration", []Target{good}, Options{}, "give the attack a positive duration"},
		{"negative warm-up", []Target{good}, Options{Duration: time.Second, Warmup: -time.Second}, "warm-up -1s is negative"},
		{"negative timeout", []Target{good}, Options{Duration: time.Second, Timeout: -time.Second}, "timeout -1s is negative"},
		{"bad arrivals", []Target{good}, Options{Duration: time.Second, Arrivals: 7}, "unknown arrival process"},
		{"negative cap", []Target{good}, Options{Duration: time.Second, MaxInFlight: -1}, "max in flight -1 is negative"},
		{"negative skip-after", []Target{good}, Options{Duration: time.Second, SkipAfter: -time.Second}, "skip-after -1s is negative"},
		{"skip-after below max lag", []Target{good}, Options{Duration: time.Second, SkipAfter: 5 * time.Millisecond}, "shorter than the max lag 10ms"},
	} {
		res, err := Attack(t.Context(), c.targets, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) || res != nil {
			t.Errorf("%s: got %v, %v; want an error containing %q", c.name, res, err, c.want)
		}
	}
}

// TestAttackUnreachable attacks a port where nothing listens: the error
// comes before the attack, at once, and names the target.
func TestAttackUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()
	// An hour: an attack that started anyway would outlast the test's timeout.
	res, err := Attack(t.Context(), []Target{{Name: "gone", URL: url, Rate: 10}}, Options{Duration: time.Hour})
	if !errors.Is(err, ErrUnreachable) || res != nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "check that the server is running") {
		t.Errorf("got %v, %v; want ErrUnreachable naming %s", res, err, url)
	}
}

// TestAttackStalledServer attacks a server that accepts requests and never
// answers: every request times out, and the timeouts are counted, not
// fatal.
func TestAttackStalledServer(t *testing.T) {
	leaktest.Check(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	opts := Options{Duration: time.Second, Timeout: 200 * time.Millisecond, Arrivals: Constant}
	res, err := Attack(t.Context(), []Target{{Name: "stall", URL: srv.URL, Rate: 20}}, opts)
	if err != nil {
		t.Fatalf("a stalled server made the attack fail: %v", err)
	}
	e := res.Entries[0]
	if e.Requests < 15 || e.SuccessRatio != 0 || e.StatusCodes["0"] != e.Requests || e.Mean != nil || e.Percentiles != nil {
		t.Errorf("entry %+v", e)
	}
	if len(e.Errors) != 1 || e.Errors[0].Class != ClassTimeout || e.Errors[0].Count != e.Requests {
		t.Errorf("errors %+v; want all %d requests counted as timeouts", e.Errors, e.Requests)
	}
	if !strings.Contains(strings.Join(res.Run.Warnings, "\n"), "requests failed") {
		t.Errorf("no warning of the failures: %q", res.Run.Warnings)
	}
	if r := res.Run; !res.AllFailed() || r.Requests != e.Requests || r.Successes != 0 {
		t.Errorf("AllFailed %v, run requests %d, successes %d; want true, %d, 0", res.AllFailed(), r.Requests, r.Successes, e.Requests)
	}
}

// TestAttackCancel interrupts an attack: it returns at once with what was
// measured and ctx.Err(), abandons the requests in flight, and leaves no
// goroutine behind.
func TestAttackCancel(t *testing.T) {
	leaktest.Check(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	targets := []Target{{Name: "fast", URL: srv.URL + "/", Rate: 50}, {Name: "slow", URL: srv.URL + "/slow", Rate: 50}}
	// An hour: only the interruption can end it before the test times out.
	res, err := Attack(ctx, targets, Options{Duration: time.Hour, Warmup: 200 * time.Millisecond, Output: &out})
	if !errors.Is(err, context.DeadlineExceeded) || res == nil {
		t.Fatalf("got %v, %v; want partial results and the context's error", res, err)
	}
	r := res.Run
	if !r.Interrupted || r.Aborted == 0 || r.Duration <= 0 || r.Duration >= time.Hour.Seconds() {
		t.Errorf("run %+v: want interrupted, some aborted, the part of the window that ran measured", r)
	}
	if fast := res.Entries[0]; fast.Requests == 0 || fast.SuccessRatio != 1 || len(fast.Errors) != 0 {
		t.Errorf("fast entry %+v: the abandoned requests must not count as errors", fast)
	}
	if slow := res.Entries[1]; slow.Requests != 0 {
		t.Errorf("slow entry counted %d requests, all of which were abandoned", slow.Requests)
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "interrupted after") {
		t.Errorf("warnings %q do not say the run was interrupted", r.Warnings)
	}
	if out.Len() == 0 {
		t.Error("the results measured before the interruption were not written")
	}
}

func TestAttackProgress(t *testing.T) {
	srv := okServer(t)
	var calls []Progress
	_, err := Attack(t.Context(), []Target{{URL: srv.URL, Rate: 50}}, Options{
		Duration: 1500 * time.Millisecond,
		Progress: func(p Progress) { calls = append(calls, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 {
		t.Fatal("Progress was never called")
	}
	if p := calls[0]; p.Total != 1500*time.Millisecond || p.Sent == 0 || p.Completed == 0 || p.Completed > p.Sent || p.InFlight < 0 || p.InFlight > p.Sent {
		t.Errorf("progress %+v", p)
	}
}

// TestEntryWarnings checks when an entry is said to stray from what was
// asked.
func TestEntryWarnings(t *testing.T) {
	cv := func(v float64) *float64 { return &v }
	mk := func(rate, ratio float64, c *float64) *EntryResult {
		e := &EntryResult{RateRequested: 100, Requests: 3000, SuccessRatio: ratio, InterarrivalCV: c}
		e.Entry, e.Rate = "e", rate
		return e
	}
	st := scheduleStats{gaps: moments.Of(3000, 0, 0)}
	window := 30 * time.Second
	for _, c := range []struct {
		name     string
		e        *EntryResult
		arrivals Arrivals
		want     string
	}{
		{"on target", mk(100.5, 1, cv(1.01)), Poisson, ""},
		{"rate within chance", mk(102, 1, cv(1)), Poisson, ""}, // 4·sqrt(3000)/30 + 1 = 8.3
		{"rate short", mk(85, 1, cv(1)), Poisson, "85 requests per second were sent, not the 100 asked (-15.0%)"},
		{"bursty", mk(100, 1, cv(1.4)), Poisson, "coefficient of variation of 1.400, not about 1"},
		{"too regular", mk(100, 1, cv(0.6)), Poisson, "not about 1"},
		{"constant", mk(100, 1, cv(0.05)), Constant, ""},
		{"constant jitter", mk(100, 1, cv(0.5)), Constant, "not about 0"},
		{"failures", mk(100, 0.99, cv(1)), Poisson, "30 of 3000 requests failed (1.00%)"},
	} {
		got := strings.Join(entryWarnings(c.e, st, c.arrivals, window, false), "\n")
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: warnings %q, want %q", c.name, got, c.want)
		}
	}
}

// TestJudge pins the trust verdict: isolated late sends are reported but
// keep a run trustworthy; a p99 lag or a share of late sends past the
// bounds does not.
func TestJudge(t *testing.T) {
	tests := []struct {
		name                 string
		maxLag, lagP99, late float64
		sends                int64
		trustworthy          bool
		warningPrefix        string
	}{
		{"on time", 0.004, 0.0005, 0, 10000, true, ""},
		{"isolated stalls", 0.025, 0.0006, 0.0002, 10000, true, "isolated stalls: 2 sends (0.02%)"},
		{"at the bound of late sends", 0.025, 0.0006, MaxLateFraction, 10000, true, "isolated stalls"},
		{"too many late sends", 0.025, 0.0006, 0.005, 10000, false, "NOT TRUSTWORTHY"},
		{"one stall in a short run", 0.014, 0.0006, 0.002, 1500, true, "isolated stalls: 3 sends"},
		{"several stalls in a short run", 0.014, 0.0006, 0.004, 1500, false, "NOT TRUSTWORTHY"},
		{"p99 lag past the bound", 0.2, 0.015, 0.02, 10000, false, "NOT TRUSTWORTHY"},
	}
	for _, tc := range tests {
		run := RunStats{MaxLag: tc.maxLag, LagP99: tc.lagP99, LateFraction: tc.late, MaxLagAllowed: 0.010,
			LateSends: int64(math.Round(tc.late * float64(tc.sends)))}
		msg := strings.Join(judge(&run), "\n")
		if run.Trustworthy != tc.trustworthy || !strings.HasPrefix(msg, tc.warningPrefix) || (tc.warningPrefix == "") != (msg == "") {
			t.Errorf("%s: trustworthy %v, warning %q; want %v, %q…", tc.name, run.Trustworthy, msg, tc.trustworthy, tc.warningPrefix)
		}
	}
}
