#!/usr/bin/env python3
"""Reference figures of the conformance cases of replicas behind balancers.

Run from this directory: python3 replicas.py (about 30 s). It writes the
.ref.tsv files of the cases below, each with how its values were computed.
It uses reference.py's helpers (rows, the M/M/c queue, bisection) and
solves every balancer's queue by its own continuous-time Markov chain, in
double precision by Gauss-Seidel sweeps to a residual below 1e-14: a method
independent of kendall's model (which uses GI/M/c theory's root for
round-robin and approximations for the others) and of its simulator.

Every case has single-worker or two-worker replicas with exponential
service, so that the chains are small; a request's wait is read off the
queue it joins, as FIFO and exponential service make it: behind k requests
at a single worker, the wait is Erlang(k, mu) (their residual and whole
services, by memorylessness), and the sojourn Erlang(k + 1, mu).
"""

import math
import sys

from mpmath import mp

import reference as ref
from reference import LEVELS, EXACT, row, bisect, check, MMc

M = 0.020  # every case's mean service time, seconds: 20ms, as the measured cases have


def write_case(name, about, notes, rows):
    """reference.write_case, naming this script as the writer."""
    ref.write_case(name, about, notes, rows)
    path = name + ".ref.tsv"
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("# Written by reference.py", "# Written by replicas.py", 1)
                .replace("change reference.py and run it", "change replicas.py and run it", 1))


def gauss_seidel(states, out, inflow, tol=1e-14, sweeps=200000):
    """Stationary distribution of a CTMC: states is a list of keys, out[s]
    the total rate out of s, inflow[s] a list of (from, rate) pairs. Sweeps
    pi_s = sum(pi_f q_fs) / q_s until the largest relative change is below
    tol, normalizing each sweep."""
    pi = {s: 1.0 / len(states) for s in states}
    for sweep in range(sweeps):
        change = 0.0
        for s in states:
            v = sum(pi[f] * r for f, r in inflow[s]) / out[s]
            if v > 0:
                change = max(change, abs(v - pi[s]) / v)
            pi[s] = v
        total = sum(pi.values())
        for s in states:
            pi[s] /= total
        if change < tol:
            return pi
    sys.exit("replicas.py: Gauss-Seidel did not converge")


def build(states, transitions):
    """out and inflow of a CTMC given as transitions(s) -> [(t, rate)]."""
    index = set(states)
    out = {s: 0.0 for s in states}
    inflow = {s: [] for s in states}
    for s in states:
        for t, r in transitions(s):
            if t not in index or r == 0:
                continue  # the truncation: a transition past the last level is dropped
            out[s] += r
            inflow[t].append((s, r))
    return out, inflow


def erlang_survival(k, rate, t):
    """P(Erlang(k, rate) > t): the Poisson sum (Kleinrock 1975, App. A)."""
    x = rate * t
    term, total = math.exp(-x), 0.0
    for i in range(k):
        if i > 0:
            term *= x / i
        total += term
    return total


def mixture_quantiles(weights, survival_of, scale):
    """The quantiles of a mixture: weights[k] of survival_of(k, t)."""
    def cdf(t):
        return 1 - sum(w * survival_of(k, t) for k, w in weights.items() if w > 0)
    return {lv: bisect(cdf, p, 0.0, scale) for lv, p in LEVELS}


def service_rows(name, util, pwait, mwait, mresp, pct, model, emulated, sources):
    """The rows of one replicated service that is its own entry: per-visit
    figures and the entry's latency (the same sojourn)."""
    emu = {True: "z", False: "-"}[emulated]
    out = [
        row("service", name, "utilization", util, EXACT, source="lambda m / (n c): every replica at the same load"),
        row("service", name, "wait_probability", pwait, model["wait"], source=sources["wait"]),
        row("service", name, "mean_wait", mwait, model["wait"], source=sources["mean"]),
        row("service", name, "mean_response", mresp, model["wait"], source=sources["mean"]),
    ]
    for lv, _ in LEVELS:
        out.append(row("service", name, lv, pct[lv], model["pct"], source=sources["pct"]))
    out.append(row("entry", name, "mean", mresp, model["wait"], emu=emu, source=sources["mean"]))
    for lv, _ in LEVELS:
        measured = emu if lv in ("p50", "p90") else "-"
        out.append(row("entry", name, lv, pct[lv], model["pct"], emu=measured, source=sources["pct"]))
    return out


def random_case():
    # Three replicas of two workers, random: each an M/M/2 at lambda/3.
    n, c, rho = 3, 2, 0.7
    mu = 1 / M
    lam = rho * n * c * mu
    q = MMc(c, lam / n, mu)
    pct = {lv: q.sojourn_quantile(p) for lv, p in LEVELS}
    rows = service_rows("web", rho, q.C, q.mean_wait(), q.mean_wait() + M, pct,
                        {"wait": EXACT, "pct": "exact 1e-6"}, True,
                        {"wait": "Erlang C of M/M/2 at lambda/3 (thinning: Ross 1996, Prop. 2.3.2)",
                         "mean": "M/M/2 at lambda/3: C/(c mu - lambda/3), Gross & Harris sec. 2.3",
                         "pct": "M/M/2 sojourn distribution at lambda/3 (Gross & Harris sec. 2.3), by bisection"})
    write_case("random-3x2", "three replicas of two workers, chosen at random, 20ms exponential, at 0.7 (%g req/s)." % lam, [
        "Every figure exact: a random split of a Poisson stream is Poisson (thinning), so each replica is an",
        "M/M/2 queue at a third of the rate. Measured by the emulation too: the load generator balances.",
    ], rows)
    return lam


def rr_single_case():
    # Three single-worker replicas, round-robin from one Poisson caller:
    # E3/M/1. sigma = A*(mu(1 - sigma)), A*(s) = (lam/(lam + s))^3 with lam
    # the caller's rate; P(wait) = sigma, sojourn Exp(mu(1 - sigma))
    # (Gross et al. 2008 sec. 5.3). Here sigma by mpmath's findroot at 30
    # digits, and checked against the chain below.
    n, rho = 3, 0.85
    mu = 1 / M
    lam = rho * n * mu
    mp.dps = 30
    sigma = float(mp.findroot(lambda s: s - (mp.mpf(lam) / (lam + mu * (1 - s))) ** n, 0.5))
    theta = mu * (1 - sigma)
    pw, mw, _ = erlang_chain(n, 1, lam, mu)
    check("E3/M/1 P(wait): root vs chain", pw, sigma, 1e-9)
    check("E3/M/1 mean wait: root vs chain", mw, sigma / theta, 1e-9)
    pct = {lv: -math.log(1 - p) / theta for lv, p in LEVELS}
    rows = service_rows("web", rho, sigma, sigma / theta, 1 / theta, pct,
                        {"wait": EXACT, "pct": "exact 1e-6"}, True,
                        {"wait": "E3/M/1: the root sigma of sigma = A*(mu(1 - sigma)), Gross et al. 2008 sec. 5.3, by mpmath findroot; = its CTMC",
                         "mean": "E3/M/1: sigma/(mu(1 - sigma)) and 1/(mu(1 - sigma)), Gross et al. 2008 sec. 5.3",
                         "pct": "E3/M/1: the sojourn is Exp(mu(1 - sigma)), Gross et al. 2008 sec. 5.3"})
    write_case("round-robin-3x1", "three single-worker replicas, round-robin from one Poisson caller, 20ms exponential, at 0.85 (%g req/s)." % lam, [
        "Every figure exact: each replica receives every third arrival, Erlang-3 interarrival times, and is",
        "an E3/M/1 queue (GI/M/1 theory). Measured by the emulation too: the load generator balances.",
    ], rows)


def rr_two_case():
    # Two replicas of two workers, round-robin from one caller: E2/M/2 by
    # its chain; the wait given x >= 2 found is Erlang(x - 1, 2 mu).
    n, c, rho = 2, 2, 0.8
    mu = 1 / M
    lam = rho * n * c * mu
    pwait, mwait, seen = erlang_chain(n, c, lam, mu)
    total = sum(seen.values())
    weights = {}
    for x, v in seen.items():
        if x >= c:
            weights[x - c + 1] = weights.get(x - c + 1, 0) + v / total
    w0 = 1 - sum(weights.values())
    weights = {j: w for j, w in weights.items() if w > 1e-18}  # the rest below every level's 1e-3

    def surv(t):
        # P(W + S > t): S ~ Exp(mu) independent of W, W = 0 with
        # probability w0, else Erlang(j, 2 mu) with probability w_j.
        s = w0 * math.exp(-mu * t)
        for j, w in weights.items():
            s += w * erlang_plus_exp(j, 2 * mu, mu, t)
        return s

    pct = {lv: bisect(lambda t: 1 - surv(t), p, 0.0, M) for lv, p in LEVELS}
    rows = service_rows("web", rho, pwait, mwait, mwait + M, pct,
                        {"wait": EXACT, "pct": "exact 1e-6"}, False,
                        {"wait": "E2/M/2 CTMC of (phase, number), Gauss-Seidel: P(an arrival finds >= 2)",
                         "mean": "E2/M/2 CTMC: E[(x - 1)^+ found] / (2 mu)",
                         "pct": "E2/M/2 CTMC: wait Erlang(x - 1, 2 mu) given x >= 2 found, plus Exp(mu)"})
    write_case("round-robin-2x2", "two replicas of two workers, round-robin from one Poisson caller, 20ms exponential, at 0.8 (%g req/s)." % lam, [
        "Every figure exact: each replica receives every other arrival and is an E2/M/2 queue, solved here",
        "by its Markov chain (the model solves it by GI/M/c theory, another method).",
    ], rows)


def erlang_chain(k, c, lam, mu, levels=250):
    """The E_k/M/c queue as a CTMC of (arrival phase, number in system),
    the interarrival time k phases of rate lam each (every k-th arrival of
    a Poisson stream of rate lam). An arrival happens at the end of phase
    k, and the rate of leaving phase k is lam in every state, so the
    number an arrival finds is distributed as pi(k, .), normalized.
    Returns P(wait), the mean wait, and that distribution."""
    states = [(ph, x) for x in range(levels) for ph in range(1, k + 1)]

    def transitions(s):
        ph, x = s
        out = [((ph + 1, x), lam) if ph < k else ((1, x + 1), lam)]
        if x > 0:
            out.append(((ph, x - 1), min(x, c) * mu))
        return out

    o, i = build(states, transitions)
    pi = gauss_seidel(states, o, i)
    seen = {x: pi[(k, x)] for x in range(levels)}
    total = sum(seen.values())
    pwait = sum(v for x, v in seen.items() if x >= c) / total
    mwait = sum(v * (x - c + 1) / (c * mu) for x, v in seen.items() if x >= c) / total
    return pwait, mwait, seen


def erlang_plus_exp(j, a, b, t):
    """P(E + X > t), E ~ Erlang(j, a) and X ~ Exp(b) independent, a > b:
    P(E > t) + int_0^t f_E(s) e^{-b(t - s)} ds, and the integral is
    e^{-bt} (a/(a - b))^j P(Erlang(j, a - b) <= t). The factor (a/(a - b))^j
    is large and the probability small for large j: evaluated in mpmath at
    60 digits, the Erlang distribution functions as regularized incomplete
    gamma functions."""
    with mp.workdps(60):
        d = mp.mpf(a) - b
        tail = mp.gammainc(j, a * mp.mpf(t), mp.inf, regularized=True)
        head = mp.gammainc(j, 0, d * t, regularized=True)
        return float(tail + mp.exp(-b * mp.mpf(t)) * (a / d) ** j * head)


def jsq_two_case():
    # Two single-worker replicas, least-requests from one caller: join the
    # shorter queue (ties either way: the state is the sorted pair). An
    # arrival finding min = k waits Erlang(k, mu).
    rho = 0.9
    mu = 1 / M
    lam = rho * 2 * mu
    # Truncated at 250 in the shorter queue and 40 between the two: the
    # shorter's tail falls like rho^2 a level, the gap's far faster.
    N, D = 250, 40
    states = [(a, b) for a in range(N) for b in range(a, a + D + 1)]

    def srt(a, b):
        return (min(a, b), max(a, b))

    def transitions(s):
        a, b = s
        out = [(srt(a + 1, b), lam)]
        if a > 0:
            out.append((srt(a - 1, b), mu))
        if b > 0:
            out.append((srt(a, b - 1), mu))
        return out

    o, i = build(states, transitions)
    pi = gauss_seidel(states, o, i)
    join = {}
    for (a, b), v in pi.items():
        join[a] = join.get(a, 0) + v
    pwait = sum(v for k, v in join.items() if k >= 1)
    mwait = sum(v * k / mu for k, v in join.items())
    L = sum(v * (a + b) for (a, b), v in pi.items())
    check("JSQ-2 Little: L/lambda vs the arrivals' view", L / lam, mwait + M, 1e-9)
    pct = mixture_quantiles({k + 1: v for k, v in join.items()}, lambda k, t: erlang_survival(k, mu, t), M)
    rows = service_rows("web", rho, pwait, mwait, mwait + M, pct,
                        {"wait": "approx 0.02", "pct": "approx 0.02"}, False,
                        {"wait": "JSQ with 2 exponential servers: CTMC of the sorted queue lengths (PASTA)",
                         "mean": "JSQ-2 CTMC: E[min queue found] / mu",
                         "pct": "JSQ-2 CTMC: sojourn Erlang(k + 1, mu) given min queue k found"})
    write_case("least-requests-2x1", "two single-worker replicas, least-requests from one Poisson caller, 20ms exponential, at 0.9 (%g req/s)." % lam, [
        "Exact values by the chain of the sorted queue lengths (truncated where the mass beyond is below 1e-15).",
        "The model approximates least-requests; its tolerance is the error it makes today, rounded up.",
    ], rows)


def p2c_case(n, rho, tol, emulated):
    # n single-worker replicas, power-of-two from one caller: the chain of
    # the sorted queue lengths, solved by model/testdata/balanced.py (exact
    # to its truncation, given in its table's trunc column), read from its
    # table; with mean service 1 there, scaled to 20ms.
    row_ = None
    with open("../../model/testdata/balanced.tsv") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if cols[:3] == ["p2", str(n), str(rho)]:
                row_ = cols
    if row_ is None:
        sys.exit("replicas.py: p2 n=%d rho=%g missing from model/testdata/balanced.tsv" % (n, rho))
    pwait, mwait = float(row_[4]), M * float(row_[5])
    lam = rho * n / M
    src = "power of two of %d exponential servers: the chain of the sorted queue lengths (model/testdata/balanced.py, truncation %s)" % (n, row_[9])
    emu = {True: "z", False: "-"}[emulated]
    rows = [
        row("service", "web", "utilization", rho, EXACT, source="lambda m / n"),
        row("service", "web", "wait_probability", pwait, tol, source=src),
        row("service", "web", "mean_wait", mwait, tol, source=src),
        row("service", "web", "mean_response", mwait + M, tol, source=src + ", plus the mean service"),
        row("entry", "web", "mean", mwait + M, tol, emu=emu, source=src + ", plus the mean service"),
    ]
    name = "power-of-two-%dx1" % n
    write_case(name, "%d single-worker replicas, power-of-two from one Poisson caller, 20ms exponential, at %g (%g req/s)." % (n, rho, lam), [
        "Exact values (P(wait) and means) by the chain of the sorted queue lengths; the percentiles have no",
        "reference here. The model approximates power-of-two; its tolerance is the error it makes today, rounded up.",
    ] + (["Measured by the emulation too: the load generator balances by its requests in flight."] if emulated else []), rows)


def p2c_three_case():
    # At 0.9: heavy load, the simulator's and the model's test.
    p2c_case(3, 0.9, "approx 0.03", False)


def p2c_four_case():
    # At 0.7, light enough for a five-second measurement to settle.
    p2c_case(4, 0.7, "approx 0.04", True)


def main():
    if sys.argv[1:] == ["--only", "round-robin-2x2"]:
        rr_two_case()
        return
    if sys.argv[1:] == ["--only", "power-of-two"]:
        p2c_three_case()
        p2c_four_case()
        return
    ref.check_mmc()
    random_case()
    rr_single_case()
    rr_two_case()
    jsq_two_case()
    p2c_three_case()
    p2c_four_case()


if __name__ == "__main__":
    main()
