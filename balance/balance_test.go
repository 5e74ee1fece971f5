package balance

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/kendallqn/kendall/topology"
)

// The tests fix their seeds, so each pick is known in advance wherever the
// order of the Picks and dones is; they assert on counts, never on time.

func addrs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.0.0.1:%d", 9000+i)
	}
	return out
}

func newBalancer(t *testing.T, policy topology.Balancer, endpoints []string, seed uint64) *Balancer {
	t.Helper()
	b, err := New(policy, endpoints, rand.NewPCG(seed, 1))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// index returns the position of addr among the endpoints.
func index(t *testing.T, endpoints []string, addr string) int {
	t.Helper()
	i := slices.Index(endpoints, addr)
	if i < 0 {
		t.Fatalf("picked %q, not an endpoint", addr)
	}
	return i
}

func TestNewRejects(t *testing.T) {
	if _, err := New("fastest", addrs(2), rand.NewPCG(1, 1)); err == nil {
		t.Error("an unknown policy was accepted")
	}
	if _, err := New(topology.BalancerRandom, addrs(2), nil); err == nil {
		t.Error("a nil source was accepted")
	}
	b, err := New("", addrs(2), rand.NewPCG(1, 1))
	if err != nil || b.Policy() != topology.BalancerRandom {
		t.Errorf("the empty policy: %v, %v; want random", b, err)
	}
}

// TestNoEndpoint picks from none, under every policy.
func TestNoEndpoint(t *testing.T) {
	for _, policy := range topology.Balancers {
		b := newBalancer(t, policy, nil, 1)
		if _, done, err := b.Pick(); err != ErrNoEndpoint || done != nil {
			t.Errorf("%s: Pick with no endpoint: %v", policy, err)
		}
		b.Update(addrs(1))
		if addr, done, err := b.Pick(); err != nil || addr != addrs(1)[0] {
			t.Errorf("%s: after Update, %q, %v", policy, addr, err)
		} else {
			done()
		}
	}
}

// TestRoundRobin checks that round-robin visits the endpoints in cyclic
// order from its first pick, and that the first pick varies with the seed:
// balancers started together do not all begin at the same endpoint.
func TestRoundRobin(t *testing.T) {
	eps := addrs(5)
	starts := map[int]bool{}
	for seed := range uint64(20) {
		b := newBalancer(t, topology.BalancerRoundRobin, eps, seed)
		var first int
		for k := range 23 {
			addr, done, err := b.Pick()
			if err != nil {
				t.Fatal(err)
			}
			i := index(t, eps, addr)
			if k == 0 {
				first = i
				starts[i] = true
			} else if want := (first + k) % len(eps); i != want {
				t.Fatalf("seed %d: pick %d went to %d, want %d", seed, k, i, want)
			}
			if k%2 == 0 {
				done() // in flight or not, round-robin does not care
			}
		}
	}
	if len(starts) < 3 {
		t.Errorf("20 seeds started at only %d of 5 endpoints: %v", len(starts), starts)
	}
}

// TestLeastRequests holds and releases requests in a seeded random order
// and checks, before every pick, that the endpoint picked had the fewest
// in flight; and that ties are spread over every minimum.
func TestLeastRequests(t *testing.T) {
	for _, n := range []int{2, 3, 7} {
		t.Run(fmt.Sprint("n=", n), func(t *testing.T) {
			eps := addrs(n)
			b := newBalancer(t, topology.BalancerLeastRequests, eps, 7)
			order := rand.New(rand.NewPCG(8, 8))
			inFlight := make([]int, n) // the test's own count
			var held []func()
			var heldAt []int
			picked := make([]int, n)
			for range 5000 {
				if len(held) > 0 && order.IntN(3) == 0 { // release one at random
					k := order.IntN(len(held))
					held[k]()
					inFlight[heldAt[k]]--
					held = slices.Delete(held, k, k+1)
					heldAt = slices.Delete(heldAt, k, k+1)
					continue
				}
				addr, done, err := b.Pick()
				if err != nil {
					t.Fatal(err)
				}
				i := index(t, eps, addr)
				if low := slices.Min(inFlight); inFlight[i] != low {
					t.Fatalf("picked %d with %d in flight; the fewest were %d (%v)", i, inFlight[i], low, inFlight)
				}
				inFlight[i]++
				picked[i]++
				held, heldAt = append(held, done), append(heldAt, i)
			}
			for i, e := range b.Endpoints() {
				if e.InFlight != inFlight[i] || e.Picks != int64(picked[i]) {
					t.Errorf("endpoint %d: %+v; want %d in flight, %d picks", i, e, inFlight[i], picked[i])
				}
			}
		})
	}

	// Ties: one request held at one endpoint, and 3,000 picks each done at
	// once. The other three are always tied at 0, and each gets about a
	// third: Binomial(3000, 1/3), sd 25.8, so 900 to 1100 is ±3.9 sd
	// (fixed here by the seed).
	eps := addrs(4)
	b := newBalancer(t, topology.BalancerLeastRequests, eps, 3)
	addr, hold, _ := b.Pick()
	busy := index(t, eps, addr)
	counts := make([]int, 4)
	for range 3000 {
		a, done, _ := b.Pick()
		counts[index(t, eps, a)]++
		done()
	}
	hold()
	for i, c := range counts {
		if i == busy && c != 0 || i != busy && (c < 900 || c > 1100) {
			t.Errorf("ties: counts %v with endpoint %d busy; want 0 there and 900 to 1100 at each other", counts, busy)
			break
		}
	}
}

// TestPowerOfTwo sets distinct counts in flight and checks that the
// endpoint with the most is never picked (it is the larger of any two),
// and that the others are picked as often as two choices imply: the one of
// rank r (0 the fewest) of n is the lesser of the two with probability
// 2(n−1−r) / (n(n−1)).
func TestPowerOfTwo(t *testing.T) {
	const n, picks = 5, 20000
	eps := addrs(n)
	b := newBalancer(t, topology.BalancerPowerOfTwo, eps, 11)
	rank := []int{3, 0, 4, 1, 2} // endpoint i has rank[i]*10 in flight
	for i, e := range b.endpoints {
		e.inFlight = rank[i] * 10
	}
	counts := make([]int, n)
	for range picks {
		addr, done, _ := b.Pick()
		counts[index(t, eps, addr)]++
		done()
	}
	chi2 := 0.0
	for i, c := range counts {
		r := rank[i]
		if r == n-1 {
			if c != 0 {
				t.Errorf("the endpoint with the most in flight was picked %d times", c)
			}
			continue
		}
		want := picks * 2 * float64(n-1-r) / float64(n*(n-1))
		chi2 += (float64(c) - want) * (float64(c) - want) / want
	}
	// 3 degrees of freedom: P(χ² > 16.27) = 0.001.
	if chi2 > 16.27 {
		t.Errorf("counts %v by rank %v: χ² = %.2f > 16.27", counts, rank, chi2)
	}

	// With two endpoints it is least-requests: the one with fewer always.
	b = newBalancer(t, topology.BalancerPowerOfTwo, addrs(2), 1)
	_, hold, _ := b.Pick()
	for range 100 {
		addr, done, _ := b.Pick()
		if e := b.Endpoints(); e[index(t, addrs(2), addr)].InFlight != 1 {
			t.Fatalf("with two endpoints, picked the busier: %+v", e)
		}
		done()
	}
	hold()
}

// TestRandomIsUniform checks the picks of random with Pearson's χ² test:
// 10 endpoints, 100,000 picks, 9 degrees of freedom, and P(χ² > 27.88) =
// 0.001 for uniform picks. Requests in flight change nothing.
func TestRandomIsUniform(t *testing.T) {
	const n, picks = 10, 100_000
	eps := addrs(n)
	b := newBalancer(t, topology.BalancerRandom, eps, 42)
	_, hold, _ := b.Pick() // one in flight, which random ignores
	counts := make([]int, n)
	for range picks {
		addr, done, _ := b.Pick()
		counts[index(t, eps, addr)]++
		done()
	}
	hold()
	want := float64(picks) / n
	chi2 := 0.0
	for _, c := range counts {
		chi2 += (float64(c) - want) * (float64(c) - want) / want
	}
	if chi2 > 27.88 {
		t.Errorf("counts %v: χ² = %.2f > 27.88", counts, chi2)
	}
}

// TestUpdate keeps the counts of the endpoints that remain, starts new
// ones at zero, and lets the requests of an endpoint removed end harmlessly.
func TestUpdate(t *testing.T) {
	b := newBalancer(t, topology.BalancerLeastRequests, []string{"a", "b", "c"}, 5)
	dones := map[string]func(){}
	for range 3 { // one at each: least-requests fills the zeros first
		addr, done, _ := b.Pick()
		dones[addr] = done
	}
	b.Update([]string{"c", "b", "d"})
	want := []Endpoint{{"c", 1, 1}, {"b", 1, 1}, {"d", 0, 0}}
	if got := b.Endpoints(); !slices.Equal(got, want) {
		t.Errorf("after Update: %+v; want %+v", got, want)
	}
	if addr, done, _ := b.Pick(); addr != "d" {
		t.Errorf("picked %s, want d, the only one with none in flight", addr)
	} else {
		done()
	}
	dones["a"]() // removed: changes nothing that remains
	dones["b"]()
	dones["b"]() // idempotent: counted out once
	want = []Endpoint{{"c", 1, 1}, {"b", 0, 1}, {"d", 0, 1}}
	if got := b.Endpoints(); !slices.Equal(got, want) {
		t.Errorf("after the dones: %+v; want %+v", got, want)
	}

	// Duplicates are endpoints of their own, matched in order.
	b = newBalancer(t, topology.BalancerRoundRobin, []string{"x", "x"}, 1)
	b.Pick()
	b.Update([]string{"x", "y", "x"})
	if got := b.Endpoints(); got[0].Picks+got[2].Picks != 1 || got[1].Picks != 0 || got[0].InFlight+got[2].InFlight != 1 {
		t.Errorf("duplicates after Update: %+v", got)
	}
	b.Update(nil)
	if _, _, err := b.Pick(); err != ErrNoEndpoint {
		t.Errorf("after Update(nil): %v", err)
	}
}

// TestConcurrent picks, releases and updates from many goroutines at once
// (run with -race) and checks that every request is counted out.
func TestConcurrent(t *testing.T) {
	for _, policy := range topology.Balancers {
		t.Run(string(policy), func(t *testing.T) {
			eps := addrs(4)
			b := newBalancer(t, policy, eps, 9)
			var wg, answers sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for k := range 2000 {
						addr, done, err := b.Pick()
						if err != nil {
							t.Error(err)
							return
						}
						if !slices.Contains(eps, addr) {
							t.Errorf("picked %q", addr)
						}
						if k%3 == 0 {
							answers.Go(done) // answered on another goroutine
						} else {
							done()
						}
						if g == 0 && k%500 == 0 {
							b.Update(eps) // the same endpoints: nothing changes
						}
						_ = b.Endpoints()
					}
				})
			}
			wg.Wait()
			answers.Wait()
			var picks int64
			for _, e := range b.Endpoints() {
				picks += e.Picks
				if e.InFlight != 0 {
					t.Errorf("%+v still in flight", e)
				}
			}
			if picks != 8*2000 {
				t.Errorf("%d picks counted, want %d", picks, 8*2000)
			}
		})
	}
}

// BenchmarkPick measures a Pick and its done, from every CPU at once.
func BenchmarkPick(b *testing.B) {
	for _, policy := range topology.Balancers {
		for _, n := range []int{3, 100} {
			b.Run(fmt.Sprintf("%s/endpoints=%d", policy, n), func(b *testing.B) {
				bal, err := New(policy, addrs(n), rand.NewPCG(1, 1))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						_, done, _ := bal.Pick()
						done()
					}
				})
			})
		}
	}
}
