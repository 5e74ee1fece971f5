"""GI/M/c reference values for kendall's model tests (writes gimc.tsv).

Independent of kendall's code and of its method (the GI/M/c embedded chain
at arrivals, its root sigma, its boundary by uniformization and GTH). Two
other methods, both in mpmath at 40 significant digits or more:

E_k/M/c (k = 1, 2, ...): the continuous-time Markov chain of the queue
itself, state (n, j) = (number in system, phase 1..k of the arrival under
way). A phase ends at rate nu = k*lambda; the end of phase k is an arrival
(n -> n + 1, phase 1); a service ends at rate min(n, c)*mu (n -> n - 1,
same phase). Its stationary distribution pi is found by linear level
reduction from a level N so high that its mass is below 1e-30 (checked):
pi_n = pi_{n-1} R_n with R_n = -A0 (L_n + R_{n+1} D_{n+1})^{-1}, R_{N+1} = 0,
where A0 (the arrival) has rank one, so R_n = e_k y_n^T and each y_n costs
O(k). The level 0 equations then give pi_0, with one of them left over as a
check (it must hold to 1e-30: if it does not, N is doubled when the top
level is not negligible next to level 0, else the precision, as the
reduction loses digits at levels the chain seldom visits).

D/M/c (deterministic interarrival time 1/lambda): the Markov chain of the
number found by successive arrivals, whose transition probabilities are
binomial (n <= c), Poisson (into states >= c) or, across c, an integral of
an Erlang density against a binomial, written in closed form with
regularized incomplete gamma functions. The chain only moves up by one, so
its stationary distribution follows from pi_N = 1 by the backward recursion
pi_{j-1} = (pi_j - sum_{i>=j} pi_i p_ij) / p_{j-1,j}, with N far in the
geometric tail, the equation for state 0 left over as a check.

From the distribution a_n of the number an arrival finds (for E_k/M/c:
pi_{n,k} normalized, arrivals being the ends of phase k):

    P(wait)  = sum_{n>=c} a_n
    mean wait = sum_{n>=c} a_n (n - c + 1)/(c mu)   (also checked against
                Little's law, sum_n (n - c)+ pi_n / lambda, for E_k/M/c)
    P(W > t) = sum_{n>=c} a_n P(Poisson(c mu t) <= n - c)
                (an arrival finding n >= c waits for n - c + 1 departures
                at rate c mu)
    sigma    = a_c / a_{c-1}  (the ratio of the geometric tail)

mu = 1, lambda = rho*c. Checks made on the way: k = 1 against Erlang C,
D/M/1 against sigma = exp(-(1 - sigma)/rho), P(wait) = sigma.
Run: python3 gimc.py > gimc.tsv (about a minute and a half).
"""
import math
import platform
import sys

import mpmath
from mpmath import mp, mpf

mp.dps = 40

RHOS = [0.3, 0.7, 0.9, 0.97]
ERLANG = [(k, c, rho) for k in (1, 2, 3, 5, 10) for c in (1, 2, 4, 8) for rho in RHOS]
# many servers, and many phases (up to 10,000 replicas behind a round robin)
ERLANG += [(k, c, rho) for k in (2, 10) for c in (16, 64) for rho in (0.7, 0.97)]
ERLANG += [(1, 64, 0.97), (3, 256, 0.9), (100, 8, 0.9), (1000, 4, 0.9), (1000, 16, 0.9), (10000, 8, 0.7)]
DETERMINISTIC = [(c, rho) for c in (1, 2, 4, 8) for rho in (0.3, 0.9)] + [(16, 0.9)]

TAIL = mpf(10) ** -30


def sigma_estimate(lst, c, mu):
    # Only sizes the truncation, and the mass at the top level is checked.
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if lst(c * mu * (1 - mid)) > mid:
            lo = mid
        else:
            hi = mid
    return hi


def levels(sigma, c):
    return c + int(math.log(1e-33) / math.log(sigma)) + 40


def ctmc(k, c, rho, mu=mpf(1)):
    lam = mpf(rho) * c * mu
    sig = sigma_estimate(lambda s: (float(k * lam) / (float(k * lam) + s)) ** k, c, float(mu))
    N = levels(sig, c)
    dps = mp.dps
    while True:
        # The reduction loses digits at levels the chain seldom visits (level 0
        # with many servers): the check says when, and then it is redone.
        with mp.workdps(dps):
            result = ctmc_truncated(k, c, lam, mu, N)
        if result == "imprecise":
            dps *= 2
        elif result is None:
            N *= 2
        else:
            return result
        assert dps <= 640 and N <= 10 ** 5, ("no convergence", k, c, rho)


def ctmc_truncated(k, c, lam, mu, N):
    # None if level N holds more than TAIL of the mass, relative to the whole
    # or to level 0 (whose equations are the check, and depend on it);
    # "imprecise" if those equations do not hold to TAIL.
    nu = k * lam
    d = [min(n, c) * mu for n in range(N + 2)]
    ys = [None] * (N + 1)
    w = [mpf(0)] * k  # y_{N+1}: R_{N+1} = 0
    for n in range(N, 0, -1):
        a = nu + d[n]
        D = d[n + 1]
        # y (-M_n) = nu e_1, -M_n = -L_n - D e_k w^T: y_j = alpha_j + beta_j y_k
        alpha, beta = nu / a, D * w[0] / a
        al, be = [alpha], [beta]
        for j in range(1, k):
            alpha = nu * alpha / a
            beta = (nu * beta + D * w[j]) / a
            al.append(alpha)
            be.append(beta)
        yk = al[-1] / (1 - be[-1])
        w = [al[j] + be[j] * yk for j in range(k)]
        ys[n] = w
    # level 0: pi_{0,j} = pi_{0,j-1} + pi_{0,k} d_1 w_{1,j} / nu, pi_{0,k} = 1
    p0 = []
    acc = mpf(0)
    for j in range(k):
        acc += d[1] * ys[1][j] / nu
        p0.append(acc)
    check = abs(p0[-1] - 1)
    p0[-1] = mpf(1)
    pi = [p0]
    for n in range(1, N + 1):
        last = pi[-1][k - 1]
        pi.append([last * y for y in ys[n]])
    total = mpmath.fsum(mpmath.fsum(row) for row in pi)
    level = [mpmath.fsum(row) / total for row in pi]
    if level[-1] > TAIL:
        return None
    if check > TAIL:
        if level[0] > 0 and level[-1] > TAIL * level[0]:
            return None
        return "imprecise"
    arr_total = mpmath.fsum(row[k - 1] for row in pi)
    arrivals = [row[k - 1] / arr_total for row in pi]
    assert abs(arr_total / total - mpf(1) / k) < mpf(10) ** -30  # phases are uniform
    little = mpmath.fsum((n - c) * level[n] for n in range(c, N + 1)) / lam
    return lam, mu, arrivals, little


def deterministic(c, rho, mu=mpf(1)):
    lam = mpf(rho) * c * mu
    dt = 1 / lam
    sig = sigma_estimate(lambda s: math.exp(-s / float(lam)), c, float(mu))
    N = levels(sig, c)
    L = c * mu * dt
    poisson = [mpmath.exp(-L)]
    for m in range(1, N + 3):
        poisson.append(poisson[-1] * L / m)
    p_survive = mpmath.exp(-mu * dt)

    def p(i, j):
        # an arrival finds i, the next one j
        n = i + 1
        if j > n:
            return mpf(0)
        if j >= c:
            return poisson[n - j]
        if n <= c:
            return mpmath.binomial(n, j) * p_survive ** j * (1 - p_survive) ** (n - j)
        # n > c > j: m = n - c departures at rate c mu, by time s < dt, then
        # Binomial(c, e^{-mu(dt - s)}) survivors. Expanding the binomial:
        # sum_l (-1)^l C(c-j, l) e^{-(j+l) mu dt} int_0^dt f_m(s) e^{(j+l) mu s} ds
        m = n - c
        tot = mpf(0)
        for l in range(c - j + 1):
            r = (c - j - l) * mu
            if r == 0:
                integral = (c * mu * dt) ** m / mpmath.factorial(m)
            else:
                integral = (c * mu / r) ** m * mpmath.gammainc(m, 0, r * dt, regularized=True)
            tot += (-1) ** l * mpmath.binomial(c - j, l) * mpmath.exp(-(j + l) * mu * dt) * integral
        return mpmath.binomial(c, j) * tot

    # spot check of the closed form against quadrature
    if c > 1:
        i, j = c + 2, c // 2
        m = i + 1 - c
        f = lambda s: (c * mu) ** m * s ** (m - 1) * mpmath.exp(-c * mu * s) / mpmath.factorial(m - 1)
        g = lambda s: f(s) * mpmath.binomial(c, j) * mpmath.exp(-j * mu * (dt - s)) * (1 - mpmath.exp(-mu * (dt - s))) ** (c - j)
        q = mpmath.quad(g, [0, dt])
        assert abs(q - p(i, j)) < mpf(10) ** -25 * abs(q), ("closed form", c, rho)
    pi = [mpf(0)] * (N + 2)
    pi[N] = mpf(1)
    for j in range(N, 0, -1):
        s = mpf(0)
        for i in range(j, N + 1):
            if j >= c:
                s += pi[i] * poisson[i + 1 - j]
            else:
                s += pi[i] * p(i, j)
        pi[j - 1] = (pi[j] - s) / p(j - 1, j)
    residual = pi[0] - mpmath.fsum(pi[i] * p(i, 0) for i in range(N + 1))
    total = mpmath.fsum(pi)
    assert abs(residual) < mpf(10) ** -30 * total, ("state 0", c, rho, residual / total)
    arrivals = [x / total for x in pi[: N + 1]]
    assert min(arrivals) > -mpf(10) ** -30 and arrivals[N] < TAIL, ("truncation", c, rho)
    return lam, mu, arrivals, None


def figures(c, mu, arrivals):
    cmu = c * mu
    pw = mpmath.fsum(arrivals[c:])
    wq = mpmath.fsum(arrivals[n] * (n - c + 1) for n in range(c, len(arrivals))) / cmu
    sigma = arrivals[c] / arrivals[c - 1]
    surv = []
    for t in (1 / cmu, 10 / cmu):
        L = cmu * t
        term = mpmath.exp(-L)
        cdf = term
        s = mpf(0)
        for n in range(c, len(arrivals)):
            s += arrivals[n] * cdf
            m = n - c + 1
            term = term * L / m
            cdf += term
        surv.append((t, s))
    return sigma, pw, wq, surv


def erlang_c(a, c):
    top = a ** c / mpmath.factorial(c) / (1 - a / c)
    return top / (mpmath.fsum(a ** i / mpmath.factorial(i) for i in range(c)) + top)


def fmt(x):
    return mpmath.nstr(x, 20, min_fixed=-5, max_fixed=5)


def main():
    print("# GI/M/c reference values, mu = 1, lambda = rho*c, made by gimc.py (mpmath %s, 40 digits or more, Python %s):"
          % (mpmath.__version__, platform.python_version()))
    print("# k = phases of the Erlang interarrival time (D: deterministic). E_k/M/c rows: stationary distribution of the")
    print("# CTMC (number in system, arrival phase) by linear level reduction; D/M/c rows: stationary distribution of the")
    print("# number found by arrivals by backward recursion on that chain. From the distribution a_n an arrival finds:")
    print("# sigma = a_c/a_{c-1}; wait_probability = sum_{n>=c} a_n; mean_wait = sum_{n>=c} a_n (n-c+1)/(c mu);")
    print("# survival_tN = P(W > tN) = sum_{n>=c} a_n P(Poisson(c mu tN) <= n-c), t1 = 1/(c mu), t2 = 10/(c mu).")
    print("# Regenerate: cd model/testdata && python3 gimc.py > gimc.tsv. The Go test (gimc_test.go) requires")
    print("# relative error at most 1e-12 in every column (it finds about 1e-14).")
    print("k\tc\trho\tlambda\tsigma\twait_probability\tmean_wait\tt1\tsurvival_t1\tt2\tsurvival_t2")
    rows = [("erlang", k, c, rho) for k, c, rho in ERLANG] + [("D", 0, c, rho) for c, rho in DETERMINISTIC]
    for kind, k, c, rho in rows:
        if kind == "erlang":
            lam, mu, arrivals, little = ctmc(k, c, rho)
        else:
            lam, mu, arrivals, little = deterministic(c, rho)
        sigma, pw, wq, surv = figures(c, mu, arrivals)
        if little is not None:
            assert abs(little - wq) < mpf(10) ** -28 * wq, ("Little", k, c, rho)
        if kind == "erlang" and k == 1:
            ec = erlang_c(lam / mu, c)
            assert abs(pw - ec) < mpf(10) ** -28 * ec, ("Erlang C", c, rho)
        if kind == "D" and c == 1:
            s = mpmath.findroot(lambda s: s - mpmath.exp(-(1 - s) / mpf(rho)), (mpf(10) ** -9, 1 - mpf(10) ** -9), solver="anderson")
            assert abs(s - sigma) < mpf(10) ** -28 and abs(s - pw) < mpf(10) ** -28, ("D/M/1", rho, s, sigma, pw)
        label = str(k) if kind == "erlang" else "D"
        print("\t".join([label, str(c), repr(rho), fmt(lam), fmt(sigma), fmt(pw), fmt(wq),
                         fmt(surv[0][0]), fmt(surv[0][1]), fmt(surv[1][0]), fmt(surv[1][1])]), flush=True)
        print(label, c, rho, file=sys.stderr, flush=True)


main()
