"""Reference values for kendall's balanced-replica waits (writes balanced.tsv).

n single-server FIFO replicas with exponential service (mu = 1), Poisson
arrivals of total rate n*rho, each routed by

  jsq: to a replica with the fewest requests (join the shortest queue),
       ties at random;
  p2:  to the shorter of two distinct replicas chosen uniformly at random
       (power of two choices), ties at random.

Independent of kendall's code and of its method (closed-form
approximations): the continuous-time Markov chain of the sorted vector of
queue lengths q_1 <= ... <= q_n (the policies are symmetric, so the sorted
vector is Markov) is solved numerically. Under either policy an arrival
joins some replica holding v requests with a probability that depends only
on the sorted vector: for d distinct choices out of n (jsq is d = n),

  P(join v) = (C(#{q >= v}, d) - C(#{q > v}, d)) / C(n, d),

and each busy replica finishes at rate 1. The state space is truncated to
vectors whose spread q_n - q_1 is at most D and whose total is at most L
(transitions that would leave it are dropped); both are raised until the
figures below stop moving (the script prints the change). The chain is a
level-dependent quasi-birth-death process in the total, each arrival
raising it by one and each departure lowering it by one, so its stationary
distribution is found exactly (up to the truncation) by linear level
reduction (G. Latouche and V. Ramaswami, Introduction to Matrix Analytic
Methods in Stochastic Modeling, SIAM 1999, ch. 10; the rate matrices are
R_{N-1} = A0_{N-1} (-A1_N - R_N A2_{N+1})^{-1} from the top level down),
in mpmath at 30 digits for the final sums and double precision for the
linear algebra (the matrices inverted are diagonally dominant M-matrices).

An arrival that joins a replica holding v requests waits for v exponential
services (FIFO, one worker), so the wait given the state is Erlang-v and

  P(wait) = P(v >= 1),  E[wait] = E[v],  P(wait > t) = sum_v P(v) Q(v, t),

Q the regularized upper incomplete gamma function (PASTA: arrivals see the
time-stationary state). The percentiles of the wait are found by bisection
on that mixture to 1e-12.

Run: python3 balanced.py > balanced.tsv   (about half an hour on one free core;
python3 balanced.py p23 jsq4 prints those cases' rows only, without the header)
"""
import math
import platform
import sys

import mpmath

mpmath.mp.dps = 30

RHOS = [0.5, 0.7, 0.9, 0.95]
# (policy, n, spread bound D): D is where the mass beyond is below about
# 1e-8 of the mean wait; main() reports the change from D - 4 to D.
CASES = [("jsq", 2, 40), ("jsq", 3, 18), ("jsq", 4, 10), ("p2", 3, 20), ("p2", 4, 12)]
LEVELS = [0.5, 0.9, 0.99]


def join_probs(q, d):
    """P(an arrival joins a replica holding v) for each value v in q."""
    n = len(q)
    total = math.comb(n, d)
    out = {}
    for v in sorted(set(q)):
        ge = sum(1 for x in q if x >= v)
        gt = sum(1 for x in q if x > v)
        p = (math.comb(ge, d) - math.comb(gt, d)) / total
        if p > 0:
            out[v] = p
    return out


def inc(q, v):
    """q with one replica holding v raised to v + 1, sorted."""
    i = max(k for k, x in enumerate(q) if x == v)
    return q[:i] + (v + 1,) + q[i + 1:]


def dec(q, v):
    i = min(k for k, x in enumerate(q) if x == v)
    return q[:i] + (v - 1,) + q[i + 1:]


def vectors(n, total, spread):
    """Sorted vectors of n non-negative integers summing to total with
    max - min <= spread."""
    out = []

    def rec(prefix, left, k):
        if k == 0:
            if left == 0 and prefix[-1] - prefix[0] <= spread:
                out.append(tuple(prefix))
            return
        lo = prefix[-1] if prefix else 0
        for x in range(lo, left // k + 1):
            if prefix and x - prefix[0] > spread:
                break
            rec(prefix + [x], left - x, k - 1)

    rec([], total, n)
    return out


def lu_solve_rows(m, rows):
    """x M = r for each row r: Gaussian elimination of M^T without pivoting
    (M is a diagonally dominant M-matrix, so no pivoting is needed)."""
    p = len(m)
    a = [[m[j][i] for j in range(p)] for i in range(p)]  # a = M^T
    for k in range(p):
        piv = a[k][k]
        rk = a[k]
        for i in range(k + 1, p):
            f = a[i][k]
            if f != 0.0:
                f /= piv
                a[i][k] = f
                ri = a[i]
                for j in range(k + 1, p):
                    ri[j] -= f * rk[j]
    out = []
    for r in rows:
        y = list(r)
        for i in range(p):
            s = y[i]
            ai = a[i]
            for j in range(i):
                s -= ai[j] * y[j]
            y[i] = s
        for i in range(p - 1, -1, -1):
            s = y[i]
            ai = a[i]
            for j in range(i + 1, p):
                s -= ai[j] * y[j]
            y[i] = s / ai[i]
        out.append(y)
    return out


def solve(policy, n, rho, spread, top):
    d = n if policy == "jsq" else 2
    lam = n * rho
    levels = [vectors(n, t, spread) for t in range(top + 1)]
    index = [{q: i for i, q in enumerate(lv)} for lv in levels]
    # Sparse blocks: up[t][i] = [(j, rate)] to level t+1, down[t][i] to t-1,
    # out[t][i] = total rate out (the diagonal of A1, negated).
    up, down, out = [], [], []
    for t, lv in enumerate(levels):
        u, dn, o = [], [], []
        for q in lv:
            row = []
            if t < top:
                for v, p in join_probs(q, d).items():
                    r = inc(q, v)
                    j = index[t + 1].get(r)
                    if j is not None:
                        row.append((j, lam * p))
            rowd = []
            for v in sorted(set(q)):
                if v >= 1:
                    r = dec(q, v)
                    j = index[t - 1].get(r)
                    if j is not None:
                        rowd.append((j, float(q.count(v))))
            u.append(row)
            dn.append(rowd)
            o.append(sum(x for _, x in row) + sum(x for _, x in rowd))
        up.append(u)
        down.append(dn)
        out.append(o)
    # Linear level reduction from the top: R[t] maps level t to t+1.
    R = [None] * (top + 1)
    nxt = None  # R[t] for the level above, as dense rows
    for t in range(top, 0, -1):
        p = len(levels[t])
        m = [[0.0] * p for _ in range(p)]
        for i in range(p):
            m[i][i] = out[t][i]
        if nxt is not None:
            # m -= R_t A2_{t+1}
            for i in range(p):
                ri = nxt[i]
                mi = m[i]
                for k, rk in enumerate(ri):
                    if rk != 0.0:
                        for j, rate in down[t + 1][k]:
                            mi[j] -= rk * rate
        pm = len(levels[t - 1])
        rows = []
        for i in range(pm):
            r = [0.0] * p
            for j, rate in up[t - 1][i]:
                r[j] += rate
            rows.append(r)
        nxt = lu_solve_rows(m, rows)
        R[t - 1] = nxt
    # Level 0 is the empty vector alone.
    pis = [[mpmath.mpf(1)]]
    for t in range(top):
        prev = pis[-1]
        cur = [mpmath.mpf(0)] * len(levels[t + 1])
        for i, x in enumerate(prev):
            if x == 0:
                continue
            for j, r in enumerate(R[t][i]):
                if r != 0.0:
                    cur[j] += x * r
        pis.append(cur)
    z = mpmath.fsum(mpmath.fsum(p) for p in pis)
    # Distribution of the length v an arrival joins.
    joined = {}
    for t, lv in enumerate(levels):
        for i, q in enumerate(lv):
            w = pis[t][i] / z
            for v, p in join_probs(q, d).items():
                joined[v] = joined.get(v, 0) + w * p
    return joined, pis[-1] and mpmath.fsum(pis[-1]) / z


def figures(joined):
    pw = mpmath.fsum(p for v, p in joined.items() if v >= 1)
    mw = mpmath.fsum(v * p for v, p in joined.items())

    vmax = max(joined)
    probs = [joined.get(v, 0) for v in range(vmax + 1)]

    def surv(t):
        # P(Erlang-v > t) = P(Poisson(t) < v) = sum_{k<v} e^-t t^k/k!, for
        # every v in one pass.
        s, term, cum = mpmath.mpf(0), mpmath.exp(-t), mpmath.mpf(0)
        for v in range(1, vmax + 1):
            cum += term
            term = term * t / v
            s += probs[v] * cum
        return s

    pct = []
    for lvl in LEVELS:
        if 1 - pw >= lvl:
            pct.append(mpmath.mpf(0))
            continue
        lo, hi = mpmath.mpf(0), mpmath.mpf(1)
        while surv(hi) > 1 - lvl:
            hi *= 2
        while hi - lo > 1e-13 * hi:
            mid = (lo + hi) / 2
            if surv(mid) > 1 - lvl:
                lo = mid
            else:
                hi = mid
        pct.append((lo + hi) / 2)
    return pw, mw, pct


def top_level(rho):
    # The total beyond L has probability about rho^L: 1e-14 of the mass.
    return int(math.ceil(math.log(1e-14) / math.log(rho))) + 10


def header():
    print("# Waits at n single-server replicas (exponential service, mean 1) fed Poisson at total rate n*rho,")
    print("# routed by jsq (join the shortest queue) or p2 (the shorter of two distinct replicas at random):")
    print("# the sorted queue-length chain solved by linear level reduction (Python %s, mpmath %s)," % (platform.python_version(), mpmath.__version__))
    print("# truncated to spread <= D and total <= L; balanced.py says how. Columns: P(wait), mean wait,")
    print("# the 50th, 90th and 99th percentiles of the wait (0 where P(wait) is below 1 - level);")
    print("# trunc is the change in the mean wait from D - 4 to D, a bound on the truncation's error.")
    print("# Regenerate: python3 balanced.py > balanced.tsv")
    print("policy\tn\trho\tD\twait_probability\tmean_wait\tw50\tw90\tw99\ttrunc")


def main():
    cases = CASES
    if len(sys.argv) > 1:
        # Some cases only, without the header: python3 balanced.py p24
        cases = [c for c in CASES if c[0] + str(c[1]) in sys.argv[1:]]
    else:
        header()
    for policy, n, spread in cases:
        for rho in RHOS:
            if (policy, n) == ("p2", 4) and rho > 0.9:
                continue  # hours in pure Python: 113 phases a level, 650 levels
            top = top_level(rho)
            joined, _ = solve(policy, n, rho, spread, top)
            pw, mw, pct = figures(joined)
            joined2, _ = solve(policy, n, rho, spread - 4, top)
            _, mw2, _ = figures(joined2)
            trunc = abs(mw - mw2) / mw
            print("%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%.1e" % (
                policy, n, rho, spread, mpmath.nstr(pw, 15), mpmath.nstr(mw, 15),
                *(mpmath.nstr(x, 12) for x in pct), float(trunc)), flush=True)


if __name__ == "__main__":
    main()
