package model

import (
	"fmt"
	"strings"

	"github.com/kendallqn/kendall/result"
)

// The labels of the figures that groups of parallel calls and held workers
// change (group.go, hold.go).

// joinWhy joins two reasons.
func joinWhy(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// callsNeverWait reports whether no call of s waits anywhere below it, so
// that its holding time is a sum of independent service times,
// independent of everything (and of its own queue): the held station is
// then exactly an M/G/c queue with that holding time.
func (n *Network) callsNeverWait(s int) bool {
	var ok func(u int) bool
	ok = func(u int) bool {
		st := &n.stations[u]
		if st.pWait != 0 || st.hold != nil || len(n.groups[u]) > 0 {
			return false
		}
		for _, c := range n.calls[u] {
			if !ok(c.to) {
				return false
			}
		}
		return true
	}
	if len(n.groups[s]) > 0 {
		for _, g := range n.groupD[s] {
			if !g.exact {
				return false
			}
		}
	}
	for _, c := range n.calls[s] {
		if c.group < 0 && !ok(c.to) {
			return false
		}
	}
	return true
}

// heldWhy says in words why a held service's figures are approximate.
func (n *Network) heldWhy(i int) string {
	st := &n.stations[i]
	name := n.topo.Services[i].Name
	return fmt.Sprintf("%s holds its worker across its calls (hold: true), for %s on average of which %s is its own work: "+
		"the model takes the holding times as independent of one another and of %s's queue (the method of layers, Rolia and Sevcik, IEEE TSE 21(8), 1995), "+
		"while they share the callees' queues", name, fmtSeconds(st.service.mean), fmtSeconds(st.hold.mean), name)
}

// fmtSeconds writes a duration in seconds for a label.
func fmtSeconds(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.3gs", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.3gms", s*1e3)
	}
	return fmt.Sprintf("%.3gµs", s*1e6)
}

// groupPhrase describes group g of service s: "api waits for 2 of 3
// parallel calls (to a, b and c)".
func (n *Network) groupPhrase(s int, g *callGroup, d *groupDist) string {
	t := n.topo
	var names []string
	for _, b := range g.branches {
		names = append(names, t.Services[b.to].Name)
	}
	what := fmt.Sprintf("all %d", d.branches)
	switch {
	case d.waits == 1 && d.branches > 1:
		what = fmt.Sprintf("the first of %d", d.branches)
	case d.waits < d.branches:
		what = fmt.Sprintf("%d of %d", d.waits, d.branches)
	}
	return fmt.Sprintf("%s waits for %s parallel calls (to %s)", t.Services[s].Name, what, listNames(names))
}

// groupLabels adjusts the end-to-end labels of entry e for the groups its
// requests meet: the mean is exact where every group's is (no branch
// waits, or Flatto and Hahn's two-branch fork-join), the percentiles where
// the request's latency is a constant plus one exact group
// (loneGroup); elsewhere the labels say why.
func (n *Network) groupLabels(e int, mean, pct *result.Label, classes map[string]string, exactStation []bool) {
	var meanWhy, pctWhy []string
	var poisson []bool
	rho := 0.0
	exactAll, groups := true, 0
	for _, s := range n.reach[e] {
		for gi := range n.groups[s] {
			g, d := &n.groups[s][gi], n.groupD[s][gi]
			if d == nil {
				continue
			}
			groups++
			phrase := n.groupPhrase(s, g, d)
			for _, b := range g.branches {
				rho = max(rho, n.stations[b.to].mmc.Utilization())
			}
			switch {
			case d.exact:
				continue
			case d.identical && exactStation[g.branches[0].to]:
				// Every branch answers at the same instant: the group's
				// latency is one branch's, exact with its station's.
				continue
			case d.ntTwo && n.stations[s].exact && n.stations[s].hold == nil && func() bool {
				if poisson == nil {
					poisson = n.poissonArrivals()
				}
				return poisson[s]
			}():
				pctWhy = append(pctWhy, phrase+"; the branches' latencies are treated as independent, stretched to the exact fork-join mean of two identical M/M/1 branches (Flatto and Hahn 1984; Nelson and Tantawi 1988)")
			case d.nt > 0:
				why := phrase + "; their latencies are treated as independent, the mean corrected for the branches' synchronized arrivals (Nelson and Tantawi, IEEE Trans. Computers 37(6), 1988)"
				meanWhy = append(meanWhy, why)
				pctWhy = append(pctWhy, why)
			default:
				why := phrase + "; their latencies are treated as independent, while their queues see the same requests at the same instants, which correlates them"
				meanWhy = append(meanWhy, why)
				pctWhy = append(pctWhy, why)
			}
			exactAll = false
		}
	}
	if groups == 0 {
		return
	}
	if len(meanWhy) > 0 {
		mean.Exact = false
		mean.Why = joinWhy(mean.Why, strings.Join(meanWhy, "; "))
		classes[result.FigMean] = classParallel + "/" + loadBand(rho)
	}
	lone := n.loneGroup(n.entries[e]) != nil
	if exactAll && lone && pct.Exact {
		pct.Basis = "a constant plus the k-th of the parallel calls' latencies, which are independent because no branch ever waits: the order statistic's distribution (David and Nagaraja, Order Statistics, 2003, §5.2), its parts by numerical inversion of their Laplace transforms"
		return
	}
	if exactAll && lone {
		return // approximate for other reasons, given already
	}
	if !lone && !n.allIdentical(e) {
		pctWhy = append(pctWhy, "each group of parallel calls enters the end-to-end distribution as a mixture of Erlangs fitted to its shape and its first two moments")
	}
	if exactAll && len(pctWhy) == 0 {
		if pct.Exact {
			pct.Basis += "; a group of parallel calls to identical deterministic services, whose queues have one sample path, as the latency of any one of them"
		}
		return
	}
	pct.Exact = false
	pct.Why = joinWhy(pct.Why, strings.Join(pctWhy, "; "))
	pct.Basis += "; the latency of a group of parallel calls is the k-th order statistic of its branches' latencies (David and Nagaraja, Order Statistics, 2003, §5.2)"
	classes[result.FigPercentiles] = classParallel + "/" + loadBand(rho)
}

// allIdentical reports whether every group the requests of entry e meet
// has identical branches (identicalBranches), so that each enters the
// end-to-end transform exactly.
func (n *Network) allIdentical(e int) bool {
	for _, s := range n.reach[e] {
		for _, d := range n.groupD[s] {
			if d != nil && !d.identical {
				return false
			}
		}
	}
	return true
}
