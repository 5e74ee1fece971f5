"""Reference figures for kendall's conformance suite, for the cases with
non-exponential service times: closed forms and numerical solutions written
out here, independently of kendall's code, each with its source.

    python3 reference.py        (Python 3 with mpmath; from conformance/testdata)

It writes the .ref.tsv file of each case below (reference.m writes the
others), and before that checks each numerical method against a closed form
it must reproduce; it stops if one is off. README.md describes the columns.

Times are computed in units of the mean service time m and scaled at the
end. The methods:

- M/G/1 means: the Pollaczek-Khinchine mean-value formula, E[Wq] =
  lambda E[S^2] / (2 (1 - rho)) (L. Kleinrock, Queueing Systems Vol. 1,
  1975, ch. 5); it needs only the first two moments, so it is exact for
  every service distribution. An arrival waits with probability rho
  (PASTA).
- M/D/c, any c: the number in system Q at times D apart is the Markov chain
  Q' = (Q - c)^+ + A, A ~ Poisson(lambda D) (C. D. Crommelin, "Delay
  probability formulae when the holding times are constant", P.O. Elect.
  Engrs. J. 25, 1932): every customer present at t, in service or among the
  first c waiting, has left by t + D. Its stationary distribution is solved
  by the GTH algorithm (W. K. Grassmann, M. I. Taksar and D. P. Heyman,
  "Regenerative analysis and steady state distributions for Markov chains",
  Oper. Res. 33(5), 1985), which has no subtractions and keeps the relative
  accuracy of the smallest probabilities. The wait follows by the same
  argument (as in G. J. Franx, "A simple solution for the M/D/c waiting
  time distribution", Oper. Res. Lett. 29, 2001): for x = kD + u, 0 <= u < D,
      P(W <= x) = P((Q - c)^+ + A_u <= (k+1)c - 1),  A_u ~ Poisson(lambda (D - u)),
  Q and A_u independent, since the customers ahead of an arrival at tau are
  those present at tau - (D - u) less c of them, plus those that arrived
  since, and k more periods of D take kc more of them away. For c = 1 it
  is checked against A. K. Erlang's closed form (1909), in 60-digit
  arithmetic, as model/testdata/md1.py computes it.
- M/E_k/1: the Pollaczek-Khinchine transform is rational, and the sojourn
  transform is (1 - rho) r^k / prod_i (s + g_i), where r = k/m is the phase
  rate and -g_i the k nonzero roots of (s - lambda)(r + s)^k + lambda r^k
  (the P-K transform equation, Kleinrock 1975, ch. 5, with the Erlang
  transform (r/(r + s))^k of §4.3): the sojourn is a generalized
  hypoexponential, P(T > t) = (1 - rho) r^k sum_i e^{-g_i t} / (g_i
  prod_{j != i} (g_j - g_i)). Roots by mpmath.polyroots at 40 digits.
- M/LN/1: no closed form. The waiting time distribution solves the Volterra
  equation F(x) = 1 - rho + lambda int_0^x F(x - y) (1 - B(y)) dy, the
  stationary form of Takacs's integro-differential equation for the
  virtual waiting time (L. Takacs, Introduction to the Theory of Queues,
  1962, ch. 2), or the Pollaczek-Khinchine formula F = (1 - rho) sum_n
  rho^n R^{*n} (R the equilibrium residual distribution) as a renewal
  equation. It is solved on a grid by the trapezoidal rule, and the
  sojourn distribution found as int F(t - s) dB(s); the errors are series
  in h^2, so Romberg extrapolation over the grids h, h/2 and h/4 cancels
  the first two terms. The solver is checked on M/M/1 and on the M/E_4/1
  above, where the answer is known.
"""
import math
import platform
import sys

import mpmath as mp

LEVELS = [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999)]

# The model's tolerances, relative. Closed forms are held to 1e-9;
# percentiles the model finds by inverting the Pollaczek-Khinchine transform
# numerically to 1e-5 (deterministic service, whose transform is the
# hardest to invert; as model/reference_test.go) or 1e-6. Figures the model
# approximates carry "approx" and the error it makes today, rounded up.
EXACT = "exact 1e-9"

# The model's tolerances on the figures it approximates: its errors today,
# about 1.2 times, rounded up. M/E4/2 at 0.8 (Kimura's M/G/c
# interpolation): P(wait) -0.13%, mean wait +0.004%, mean response
# +0.002%, p50 +1.7%, p90 -1.2%, p95 -1.7%, p99 -2.4%, p999 -2.8%. Six
# visits to an M/M/1 db (Takacs's feedback queue, independent returns):
# p50 -0.059%, p90 +0.068%, p95 +0.082%, p99 +0.097%, p999 +0.11%.
MEKC_TOL = {"wait_probability": "approx 0.0015", "mean_wait": "approx 5e-5", "mean_response": "approx 3e-5",
            "p50": "approx 0.02", "p90": "approx 0.015", "p95": "approx 0.021", "p99": "approx 0.03", "p999": "approx 0.035"}
SIX_TOL = {"p50": "approx 8e-4", "p90": "approx 9e-4", "p95": "approx 0.001", "p99": "approx 0.0012", "p999": "approx 0.0013"}


# The model's tolerances on the cases of parallel calls and held workers
# (parallel_cases). A group's mean is an integral of its survival function,
# computed numerically: 1e-6, as for an inverted transform. The quorum's
# end-to-end percentiles are approximate (the group enters the end-to-end
# transform as a fitted mixture of Erlangs, model/group.go): its errors
# today, about 1.5 times, rounded up: p50 -0.51%, p90 -0.41%, p95 -0.03%,
# p99 +0.93%, p999 +2.3%. The held M/D/2 (hold-pool) the model labels
# approximate (Kimura's M/G/c), but at a constant holding time that is the
# exact M/D/c: exact figures.
GROUP_PCT = "exact 1e-6"
ANY_OF_2_MODEL = dict(service=EXACT, mean=GROUP_PCT, p50=GROUP_PCT, p90=GROUP_PCT, p95=GROUP_PCT, p99=GROUP_PCT, p999=GROUP_PCT)
QUORUM_MODEL = dict(service=EXACT, mean=GROUP_PCT, p50="approx 0.008", p90="approx 0.006", p95="approx 0.0005", p99="approx 0.015", p999="approx 0.035")
HOLD_MD1_MODEL = dict(service="exact 1e-5", mean=EXACT, p50="exact 1e-5", p90="exact 1e-5", p95="exact 1e-5", p99="exact 1e-5", p999="exact 1e-5")
HOLD_POOL_MODEL = dict(wait_probability=EXACT, mean_wait=EXACT, mean_response=EXACT, mean=EXACT,
                       p50="exact 1e-6", p90="exact 1e-6", p95="exact 1e-6", p99="exact 1e-6", p999="exact 1e-6",
                       service_p50="exact 1e-6", service_p90="exact 1e-6", service_p95="exact 1e-6", service_p99="exact 1e-6", service_p999="exact 1e-6")


def row(scope, name, stat, value, model, sim="z", emu="-", source=""):
    return "\t".join([scope, name, stat, "%.17g" % float(value), model, sim, emu, source])


def write_case(name, about, notes, rows):
    with open(name + ".ref.tsv", "w") as f:
        f.write("# %s: %s\n" % (name, about))
        f.write("# Written by reference.py (Python %s, mpmath %s); do not edit: change reference.py and run it.\n"
                % (platform.python_version(), mp.__version__))
        for n in notes:
            f.write("# %s\n" % n)
        f.write("scope\tname\tstatistic\tvalue\tmodel\tsim\temulation\tsource\n")
        for r in rows:
            f.write(r + "\n")


def check(what, got, want, tol):
    rel = abs(got - want) / abs(want)
    print("check %-50s %.17g vs %.17g: relative %.2g (tolerance %g)" % (what, got, want, rel, tol))
    if not rel <= tol:
        sys.exit("reference.py: %s is off; the method is not trustworthy" % what)
    return rel


def check_small(what, err, tol):
    """A relative error computed by the caller (of complex values, say)."""
    print("check %-50s relative %.2g (tolerance %g)" % (what, err, tol))
    if not err <= tol:
        sys.exit("reference.py: %s is off; the method is not trustworthy" % what)


def bisect(f, p, lo, hi, rel=1e-15):
    """The x in [lo, hi] with f(x) = p for an increasing f, lo < x."""
    while f(hi) < p:
        lo, hi = hi, 2 * hi
    while hi - lo > rel * hi:
        mid = (lo + hi) / 2
        if f(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def single_station_rows(name, util, pwait, mwait, mresp, pct, models, sources):
    """The rows of a one-service case: the service and its entry, whose
    latency is the service's sojourn. models maps a statistic to the model's
    tolerance (the key "percentiles" stands for every level not given
    alone); sources maps "wait_probability", "mean" and "percentiles" to the
    value's source."""
    def tol(stat):
        if stat in models:
            return models[stat]
        return models["percentiles"]  # a level not given alone
    out = [
        row("service", name, "utilization", util, EXACT, source="lambda m"),
        row("service", name, "wait_probability", pwait, tol("wait_probability"), source=sources["wait_probability"]),
        row("service", name, "mean_wait", mwait, tol("mean_wait"), source=sources["mean"]),
        row("service", name, "mean_response", mresp, tol("mean_response"), source=sources["mean"]),
    ]
    for lv, _ in LEVELS:
        out.append(row("service", name, lv, pct[lv], tol(lv), source=sources["percentiles"]))
    out.append(row("entry", name, "mean", mresp, tol("mean_response"), source=sources["mean"]))
    for lv, _ in LEVELS:
        out.append(row("entry", name, lv, pct[lv], tol(lv), source=sources["percentiles"]))
    return out


# ---------------------------------------------------------------- M/D/c

def gth(P):
    """Stationary distribution of the stochastic matrix P (lists of rows) by
    the GTH algorithm (Grassmann, Taksar & Heyman 1985): state elimination
    from the last, then back substitution."""
    n = len(P)
    P = [r[:] for r in P]
    for k in range(n - 1, 0, -1):
        s = math.fsum(P[k][:k])
        for i in range(k):
            P[i][k] /= s
        for i in range(k):
            pik = P[i][k]
            if pik == 0:
                continue
            ri, rk = P[i], P[k]
            for j in range(k):
                ri[j] += pik * rk[j]
    x = [1.0] + [0.0] * (n - 1)
    for k in range(1, n):
        x[k] = math.fsum(x[i] * P[i][k] for i in range(k))
    total = math.fsum(x)
    return [v / total for v in x]


def poisson_pmf(a, n):
    return [math.exp(-a + j * math.log(a) - math.lgamma(j + 1)) if a > 0 else float(j == 0) for j in range(n)]


def mdc_chain(c, a, N):
    """Stationary law of Q' = (Q - c)^+ + A, A ~ Poisson(a), on 0..N-1; the
    mass beyond N-1 is put on N-1 (it is below 1e-30 for the N used)."""
    pmf = poisson_pmf(a, N)
    P = []
    for i in range(N):
        base = max(i - c, 0)
        r = [0.0] * N
        for j in range(base, N):
            r[j] = pmf[j - base]
        r[N - 1] += max(0.0, 1 - math.fsum(r))
        P.append(r)
    return gth(P)


class MDc:
    """M/D/c with D = 1 and arrival rate lam = rho c."""

    def __init__(self, c, rho, N=200):
        self.c, self.lam = c, rho * c
        self.pi = mdc_chain(c, self.lam, N)
        if self.pi[-1] > 1e-25:
            sys.exit("reference.py: M/D/%d chain truncated too early (pi[N-1] = %g)" % (c, self.pi[-1]))
        # r[m] = P((Q - c)^+ = m)
        self.r = [math.fsum(self.pi[: c + 1])] + self.pi[c + 1:]

    def wait_probability(self):
        return math.fsum(self.pi[self.c:])

    def mean_wait(self):
        # Little's law on the queue: E[Lq] / lambda, the queue being the
        # customers beyond the c in service.
        return math.fsum((n - self.c) * p for n, p in enumerate(self.pi) if n > self.c) / self.lam

    def wait_cdf(self, x):
        k = math.floor(x)
        u = x - k
        M = (k + 1) * self.c - 1
        a = self.lam * (1 - u)
        pmf = poisson_pmf(a, M + 1)
        cdf, acc = [], 0.0
        for v in pmf:
            acc += v
            cdf.append(acc)
        return math.fsum(self.r[m] * cdf[M - m] for m in range(min(M, len(self.r) - 1) + 1))

    def sojourn_quantile(self, p):
        if p <= self.wait_cdf(0.0):
            return 1.0  # no wait: the sojourn is exactly D
        return 1 + bisect(self.wait_cdf, p, 0.0, 1.0)

    def wait_quantile(self, p):
        return self.sojourn_quantile(p) - 1


def md1_erlang_wait_cdf(t, rho):
    """Erlang's M/D/1 wait distribution (D = 1), 60 digits: the sum
    alternates with large terms."""
    mp.mp.dps = 60
    t = mp.mpf(t)
    total = mp.mpf(0)
    for k in range(0, int(mp.floor(t)) + 1):
        x = rho * (k - t)
        total += x ** k / mp.factorial(k) * mp.exp(-x)
    return float((1 - rho) * total)


def check_mdc():
    rho = 0.7
    q = MDc(1, rho)
    for x in [0.3, 1.0, 2.5, 7.2]:
        check("M/D/1 chain P(W <= %g) vs Erlang 1909" % x, q.wait_cdf(x), md1_erlang_wait_cdf(x, mp.mpf(rho)), 1e-12)
    check("M/D/1 chain mean wait vs Pollaczek-Khinchine", q.mean_wait(), rho / (2 * (1 - rho)), 1e-12)
    check("M/D/1 chain P(wait) vs rho", q.wait_probability(), rho, 1e-12)
    q2 = MDc(2, 0.8)
    # The mean wait again, as the integral of P(W > x), which the chain's
    # wait distribution must give (Simpson on each period, where it is smooth).
    n = 100
    integral = 0.0
    for k in range(60):
        xs = [k + i / n for i in range(n + 1)]
        fs = [1 - q2.wait_cdf(x if i < n else x - 1e-13) for i, x in enumerate(xs)]
        integral += (fs[0] + fs[-1] + 4 * sum(fs[1:-1:2]) + 2 * sum(fs[2:-1:2])) / (3 * n)
    check("M/D/2 integral of P(W > x) vs Little's law", integral, q2.mean_wait(), 1e-9)


# ---------------------------------------------------------------- M/E_k/1

class MEk1:
    """M/E_k/1 with mean service 1 and arrival rate rho."""

    def __init__(self, k, rho):
        mp.mp.dps = 40
        self.k, self.rho = k, mp.mpf(rho)
        lam, r = self.rho, mp.mpf(k)
        # (s - lam)(r + s)^k + lam r^k, highest power first, divided by s
        # (s = 0 is a root).
        binom = [mp.binomial(k, j) * r ** (k - j) for j in range(k + 1)]  # coeff of s^j in (r+s)^k
        poly = [mp.mpf(0)] * (k + 2)  # poly[j] = coeff of s^j
        for j in range(k + 1):
            poly[j + 1] += binom[j]
            poly[j] -= lam * binom[j]
        poly[0] += lam * r ** k
        if abs(poly[0]) > mp.mpf(10) ** -30:
            sys.exit("reference.py: s = 0 is not a root")
        coeffs = list(reversed(poly[1:]))  # highest first, divided by s
        self.g = [-z for z in mp.polyroots(coeffs, maxsteps=200, extraprec=200)]
        self.r = r
        self.w = []
        for i, gi in enumerate(self.g):
            d = gi
            for j, gj in enumerate(self.g):
                if j != i:
                    d *= gj - gi
            self.w.append(1 / d)
        self.scale = (1 - self.rho) * r ** k

    def survival(self, t):
        mp.mp.dps = 40
        t = mp.mpf(t)
        return float(mp.re(self.scale * mp.fsum(w * mp.exp(-g * t) for w, g in zip(self.w, self.g))))

    def sojourn_quantile(self, p):
        return bisect(lambda t: 1 - self.survival(t), p, 0.0, 1.0)

    def mean(self):
        return float(mp.re(mp.fsum(1 / g for g in self.g)))


def check_mek1():
    q = MEk1(4, 0.8)
    check("M/E4/1 transform at 0 is 1", float(mp.re(q.scale / mp.fprod(q.g))), 1.0, 1e-14)
    check("M/E4/1 sum of 1/g_i vs Pollaczek-Khinchine mean", q.mean(), 1 + 0.8 * 1.25 / (2 * 0.2), 1e-14)
    check("M/E4/1 P(T > 0) = 1", q.survival(0), 1.0, 1e-14)


# ---------------------------------------------------------------- M/G/1 on a grid

def mg1_grid(lam, Bbar, B, h, tmax):
    """F_W on the grid 0, h, ..., and a function giving P(T <= t_n)."""
    rho = lam  # mean service 1
    N = int(math.ceil(tmax / h))
    Bb = [Bbar(j * h) for j in range(N + 1)]
    F = [0.0] * (N + 1)
    F[0] = 1 - rho
    c0 = 1 - lam * h / 2 * Bb[0]
    for n in range(1, N + 1):
        # trapezoid on int_0^{nh} F(nh - y) Bbar(y) dy; the j = 0 end holds F[n]
        s = 0.5 * F[0] * Bb[n] + sum(map(float.__mul__, F[n - 1:0:-1], Bb[1:n]))  # positive terms: plain sum is exact enough
        F[n] = (1 - rho + lam * h * s) / c0
    dB = [B((j + 1) * h) - B(j * h) for j in range(N)]

    def sojourn_cdf(n):
        # int_0^{nh} F_W(nh - s) dB(s), F_W at the middle of each step by
        # the mean of its ends.
        return math.fsum(dB[j] * (F[n - j] + F[n - j - 1]) / 2 for j in range(n))

    return F, sojourn_cdf


def grid_quantile(cdf, h, p, N):
    """The p-quantile from the CDF on the grid: the first grid point past p,
    then the polynomial through the six points around the crossing, solved
    by bisection. Its error, O(h^6), stays below the terms in h^2 and h^4
    that the extrapolation cancels (linear interpolation would not do: its
    error depends on where p falls between two points, differently on each
    grid)."""
    lo, hi = 3, N - 2
    while lo < hi:  # the first n with cdf(n) >= p
        mid = (lo + hi) // 2
        if cdf(mid) >= p:
            hi = mid
        else:
            lo = mid + 1
    xs = list(range(lo - 3, lo + 3))
    ys = [cdf(n) for n in xs]

    def poly(x):  # Lagrange form
        total = 0.0
        for i, yi in enumerate(ys):
            term = yi
            for j, xj in enumerate(xs):
                if j != i:
                    term *= (x - xj) / (xs[i] - xj)
            total += term
        return total

    a, b = lo - 1.0, float(lo)
    for _ in range(100):
        mid = (a + b) / 2
        if poly(mid) < p:
            a = mid
        else:
            b = mid
    return h * (a + b) / 2


def mg1_quantiles(lam, Bbar, B, h, tmax):
    """Sojourn percentiles on the grids h, h/2 and h/4, extrapolated to h = 0
    by Romberg's scheme (the errors are series in h^2: Richardson once to
    cancel h^2, again to cancel h^4); also the largest relative change that
    the last step made, an estimate of the error left."""
    grids = []
    for d in [1, 2, 4]:
        F, c = mg1_grid(lam, Bbar, B, h / d, tmax)
        grids.append((c, h / d, len(F) - 1))
    out, err = {}, 0.0
    for lv, p in LEVELS:
        q = [grid_quantile(c, hh, p, N) for c, hh, N in grids]
        r1 = [(4 * q[1] - q[0]) / 3, (4 * q[2] - q[1]) / 3]
        out[lv] = (16 * r1[1] - r1[0]) / 15
        err = max(err, abs(out[lv] - r1[1]) / out[lv])
    return out, err


def lognormal(cv):
    s2 = math.log(1 + cv * cv)
    s, mu = math.sqrt(s2), -s2 / 2  # mean 1
    B = lambda y: 0.0 if y <= 0 else 0.5 * math.erfc(-(math.log(y) - mu) / (s * math.sqrt(2)))
    Bbar = lambda y: 1.0 if y <= 0 else 0.5 * math.erfc((math.log(y) - mu) / (s * math.sqrt(2)))
    return B, Bbar


def check_grid():
    rho = 0.7
    Bbar = lambda y: math.exp(-y)
    B = lambda y: 1 - math.exp(-y)
    got, _ = mg1_quantiles(rho, Bbar, B, 0.02, 40)
    for lv, p in LEVELS:
        check("grid M/M/1 %s vs -ln(1-p)/(1-rho)" % lv, got[lv], -math.log(1 - p) / (1 - rho), 1e-6)
    q = MEk1(4, 0.8)
    k = 4
    Bbar = lambda y: math.exp(-k * y) * sum((k * y) ** j / math.factorial(j) for j in range(k))
    B = lambda y: 1 - Bbar(y)
    got, _ = mg1_quantiles(0.8, Bbar, B, 0.02, 60)
    for lv, p in LEVELS:
        check("grid M/E4/1 %s vs the roots" % lv, got[lv], q.sojourn_quantile(p), 1e-6)


# ---------------------------------------------------------------- M/M/c

def erlang_c(c, a):
    """P(wait) of M/M/c at offered load a = lambda/mu (Erlang C), by the
    Erlang B recursion B(n) = a B(n-1) / (n + a B(n-1)), which has no
    subtractions (Gross & Harris 2008, sec. 2.3)."""
    b = 1.0
    for n in range(1, c + 1):
        b = a * b / (n + a * b)
    return c * b / (c - a * (1 - b))


class MMc:
    """M/M/c with service rate mu and arrival rate lam (any time unit)."""

    def __init__(self, c, lam, mu):
        self.c, self.lam, self.mu = c, lam, mu
        self.C = erlang_c(c, lam / mu)
        self.gamma = c * mu - lam  # the rate of a positive wait

    def mean_wait(self):
        return self.C / self.gamma

    def survival(self, t):
        """P(T > t) for the sojourn T = S + W: S ~ Exp(mu), W = 0 with
        probability 1 - C, else Exp(gamma) (Gross & Harris sec. 2.3); the
        sum of two exponentials in closed form (gamma != mu here)."""
        mu, g, C = self.mu, self.gamma, self.C
        return (1 - C) * math.exp(-mu * t) + C * (g * math.exp(-mu * t) - mu * math.exp(-g * t)) / (g - mu)

    def sojourn_quantile(self, p):
        return bisect(lambda t: 1 - self.survival(t), p, 0.0, 1 / self.mu)

    def sojourn_lst(self, s):
        mu, g, C = self.mu, self.gamma, self.C
        return mu / (mu + s) * ((1 - C) + C * g / (g + s))


def check_mmc():
    # Against reference.m's figures for M/M/2 at 0.7 (mm2-rho070.ref.tsv:
    # Octave's erlangc and fzero), 20ms service at 70 req/s.
    q = MMc(2, 70.0, 50.0)
    check("M/M/2 Erlang C vs Octave erlangc", q.C, 0.57647058823529418, 1e-14)
    check("M/M/2 mean wait vs Octave", q.mean_wait(), 0.019215686274509806, 1e-14)
    check("M/M/2 p99 vs Octave fzero", q.sojourn_quantile(0.99), 0.16531152990784936, 1e-12)
    check("M/M/1 Erlang C = rho", erlang_c(1, 0.9), 0.9, 1e-14)


# ---------------------------------------------------------------- M/E_k/c

def gth_sparse(n, rates):
    """Stationary distribution of the CTMC on states 0..n-1 whose
    off-diagonal rates are rates[i] = {j: q_ij}, by the GTH algorithm
    (Grassmann, Taksar & Heyman 1985) on the generator: state elimination
    from the last, the rates of the eliminated state redistributed, no
    subtractions. Sparse: eliminating k touches only the states it leads to
    and from, so with states ordered by level the fill stays within
    neighbouring levels."""
    out = [dict(r) for r in rates]           # out[i][j] = rate i -> j
    inc = [dict() for _ in range(n)]         # inc[j][i] = rate i -> j
    for i in range(n):
        for j, v in out[i].items():
            inc[j][i] = v
    s = [0.0] * n
    for k in range(n - 1, 0, -1):
        down = {j: v for j, v in out[k].items() if j < k}
        s[k] = math.fsum(down.values())
        if s[k] == 0:
            sys.exit("reference.py: GTH: state %d leads nowhere below it" % k)
        ups = {i: v for i, v in inc[k].items() if i < k}
        for i, qik in ups.items():
            w = qik / s[k]
            oi = out[i]
            for j, qkj in down.items():
                if j == i:
                    continue
                oi[j] = oi.get(j, 0.0) + w * qkj
                inc[j][i] = oi[j]
    x = [0.0] * n
    x[0] = 1.0
    for k in range(1, n):
        x[k] = math.fsum(x[i] * v for i, v in inc[k].items() if i < k) / s[k]
    total = math.fsum(x)
    return [v / total for v in x]


class MEkc:
    """M/E_k/c with mean service 1 and arrival rate lam = rho c, FCFS, as the
    CTMC of (number waiting, the remaining phases of each server), the
    servers' phases kept as a sorted tuple (0: idle); the queue truncated at
    N waiting (arrivals then lost), N chosen so that the mass there is
    negligible. Its stationary law by GTH; P(wait) = P(no server idle)
    (PASTA), the mean wait E[queue] / lambda (Little); the sojourn of an
    arrival as a phase-type absorption time (see survival)."""

    def __init__(self, c, k, rho, N):
        self.c, self.k, self.lam, self.r = c, k, rho * c, float(k)
        cfgs = sorted(set(tuple(sorted(t)) for t in self._tuples(c, k)))
        self.states = [(0, g) for g in cfgs]
        busy = [g for g in cfgs if 0 not in g]
        self.busy = busy
        for q in range(1, N + 1):
            self.states += [(q, g) for g in busy]
        index = {st: i for i, st in enumerate(self.states)}
        rates = [dict() for _ in self.states]

        def add(i, st, v):
            j = index[st]
            rates[i][j] = rates[i].get(j, 0.0) + v

        for i, (q, g) in enumerate(self.states):
            if 0 in g:
                h = list(g)
                h[h.index(0)] = k
                add(i, (q, tuple(sorted(h))), self.lam)
            elif q < N:
                add(i, (q + 1, g), self.lam)
            for pos, ph in enumerate(g):
                if ph == 0:
                    continue
                h = list(g)
                if ph > 1:
                    h[pos] = ph - 1
                    add(i, (q, tuple(sorted(h))), self.r)
                elif q > 0:
                    h[pos] = k
                    add(i, (q - 1, tuple(sorted(h))), self.r)
                else:
                    h[pos] = 0
                    add(i, (q, tuple(sorted(h))), self.r)
        self.pi = gth_sparse(len(self.states), rates)
        top = math.fsum(p for (q, _), p in zip(self.states, self.pi) if q == N)
        if top > 1e-15:
            sys.exit("reference.py: M/E%d/%d chain truncated too early (mass %g at N)" % (k, c, top))
        self.top = top

    @staticmethod
    def _tuples(c, k):
        if c == 0:
            yield ()
            return
        for t in MEkc._tuples(c - 1, k):
            for v in range(k + 1):
                yield t + (v,)

    def wait_probability(self):
        return math.fsum(p for (q, g), p in zip(self.states, self.pi) if 0 not in g)

    def mean_wait(self):
        return math.fsum(q * p for (q, g), p in zip(self.states, self.pi)) / self.lam

    def survival_steps(self, K):
        """a[n] = P(the tagged arrival's sojourn has not ended after n steps
        of the uniformized absorbing chain), n = 0..K, uniformization rate
        c r. Its states: ('w', j, g): j service completions still to come
        before it enters service, the servers (all busy) in phases g; ('s',
        i): in service, i phases left. An arrival finding a server idle
        starts service; one finding q waiting and all busy needs q + 1
        completions (FCFS), during which every server stays busy."""
        k, r, c = self.k, self.r, self.c
        L = c * r
        v = {}
        for (q, g), p in zip(self.states, self.pi):
            st = ('s', k) if 0 in g else ('w', q + 1, g)
            v[st] = v.get(st, 0.0) + p
        a = [math.fsum(v.values())]
        for _ in range(K):
            nv = {}

            def put(st, m):
                nv[st] = nv.get(st, 0.0) + m

            for st, m in v.items():
                if st[0] == 's':
                    i = st[1]
                    put(st, m * (1 - r / L))
                    if i > 1:
                        put(('s', i - 1), m * r / L)
                    continue
                _, j, g = st
                # every server busy: total rate c r = L, no self-loop
                for pos, ph in enumerate(g):
                    h = list(g)
                    if ph > 1:
                        h[pos] = ph - 1
                        put(('w', j, tuple(sorted(h))), m / c)
                    elif j > 1:
                        h[pos] = k
                        put(('w', j - 1, tuple(sorted(h))), m / c)
                    else:
                        put(('s', k), m / c)
            v = nv
            a.append(math.fsum(v.values()))
        return a

    def sojourn_quantiles(self, levels, tmax):
        L = self.c * self.r
        K = int(L * tmax + 12 * math.sqrt(L * tmax) + 60)
        a = self.survival_steps(K)

        def survival(t):
            x = L * t
            # Poisson(x) weights from the mode outwards, in logs
            return math.fsum(math.exp(-x + n * math.log(x) - math.lgamma(n + 1)) * a[n] for n in range(K + 1)) if x > 0 else a[0]

        if survival(tmax) > 1e-4:
            sys.exit("reference.py: tmax too small")
        return {lv: bisect(lambda t: 1 - survival(t), p, 0.0, 1.0) for lv, p in levels}, survival


def check_mekc():
    # c = 1: M/E4/1, against Pollaczek-Khinchine and the roots of its transform.
    q = MEkc(1, 4, 0.8, 250)
    check("M/E4/1 CTMC P(wait) vs rho", q.wait_probability(), 0.8, 1e-12)
    check("M/E4/1 CTMC mean wait vs Pollaczek-Khinchine", q.mean_wait(), 0.8 * 1.25 / (2 * 0.2), 1e-12)
    pct, _ = q.sojourn_quantiles(LEVELS, 30)
    ref = MEk1(4, 0.8)
    for lv, p in LEVELS:
        check("M/E4/1 CTMC sojourn %s vs the roots" % lv, pct[lv], ref.sojourn_quantile(p), 1e-10)
    # k = 1: M/M/2, against Erlang C and the closed-form sojourn.
    q = MEkc(2, 1, 0.8, 250)
    mm = MMc(2, 1.6, 1.0)
    check("M/M/2 CTMC P(wait) vs Erlang C", q.wait_probability(), mm.C, 1e-12)
    check("M/M/2 CTMC mean wait vs Erlang C / (c mu - lambda)", q.mean_wait(), mm.mean_wait(), 1e-12)
    pct, _ = q.sojourn_quantiles(LEVELS, 40)
    for lv, p in LEVELS:
        check("M/M/2 CTMC sojourn %s vs closed form" % lv, pct[lv], mm.sojourn_quantile(p), 1e-10)


# ---------------------------------------------------------------- repeated visits

class Revisits:
    """The total sojourn of a customer that visits a FCFS exponential single
    server V times in a row, re-joining the back of the queue after each
    visit; new customers arrive in a Poisson stream of rate lam, each making
    V visits; service rate mu, total load rho = V lam / mu < 1.

    The customer's visits are rounds: in round v it is served after every
    customer ahead of it, and each of those, if it has visits left, re-joins
    behind it, so is ahead of it again in round v + 1. Hence every customer
    ahead of it in round 1 with R visits left (this one included) is served
    once in each of its rounds 1..min(R, V), and one arriving during its
    round v once in each of its rounds v+1..V: the sojourn is the total of
    exponential service "slots", each of which lets in a Poisson number of
    arrivals, each of which adds a slot to every later round. That is a
    multi-type branching process: with G_w(s) the transform of the time of
    a slot in round w and of every slot it begets,

        G_w(s) = mu / (mu + s_w + lam (1 - prod_{u > w} G_u(s))),

    (a slot of Exp(mu) length D lets in Poisson(lam D) arrivals, each
    contributing a slot with its offspring to each round u > w). At the
    customer's arrival the queue holds n ~ Geometric(rho) customers (the
    number in an M/M/1 queue at rho: a Kelly network, F. P. Kelly,
    Reversibility and Stochastic Networks, 1979, ch. 3, whose FCFS station
    holds its customers in every order with the product of their rates, so
    that each has R visits left uniformly on 1..V, independently: the V
    stages of a route arrive at the same rate), so

        E[exp(-s T)] = prod_{w=1..V} G_w(s) (1 - rho) / (1 - rho M(s)),
        M(s) = (1/V) sum_{R=1..V} prod_{w=1..R} G_w(s).

    s is a vector: s_w weighs round w's slots only, so that the transform of
    the sojourn of one visit alone is at hand for the checks (each must be
    the M/M/1 sojourn Exp(mu - V lam), by Kelly's theorem)."""

    def __init__(self, V, lam, mu):
        self.V, self.lam, self.mu = V, mp.mpf(lam), mp.mpf(mu)
        self.rho = V * self.lam / self.mu

    def lst(self, s):
        """s: a list of V transform variables, one per round."""
        V, lam, mu = self.V, self.lam, self.mu
        G = [None] * (V + 1)
        H = mp.mpf(1)  # prod_{u > w} G_u
        for w in range(V, 0, -1):
            G[w] = mu / (mu + s[w - 1] + lam * (1 - H))
            H *= G[w]
        M = mp.mpf(0)
        P = mp.mpf(1)
        for R in range(1, V + 1):
            P *= G[R]
            M += P
        M /= V
        return H * (1 - self.rho) / (1 - self.rho * M)

    def total_lst(self, s):
        return self.lst([s] * self.V)


def invert_cdf(lst, t):
    """P(T <= t) from the transform of T, by Talbot's contour (mpmath
    invertlaplace, at mpmath's working precision)."""
    return float(mp.invertlaplace(lambda s: lst(s) / s, t, method="talbot"))


def check_revisits():
    mp.mp.dps = 30
    q = Revisits(6, 30, 200)
    # The mean by the derivative at 0, against Kelly: 6 visits of an M/M/1
    # sojourn at the total load, 6 / (mu - 6 lam).
    mean = -mp.diff(lambda s: q.total_lst(s), 0)
    check("6 visits: mean by the transform vs 6/(mu - 6 lam)", float(mean), 6 / (200 - 180), 1e-12)
    # Each visit alone is the M/M/1 sojourn Exp(mu - 6 lam) (Kelly).
    for v in range(6):
        for s in [mp.mpf(3), mp.mpf(50), mp.mpc(10, 40)]:
            sv = [mp.mpf(0)] * 6
            sv[v] = s
            got = q.lst(sv)
            want = 20 / (20 + s)
            check_small("6 visits: visit %d alone at s = %s vs M/M/1 sojourn" % (v + 1, mp.nstr(s, 4)),
                        float(abs(got - want) / abs(want)), 1e-20)
    # Two visits, the cross moment against a direct count: T1 is n + 1
    # slots, n ~ Geometric(rho) the queue met; T2 is 1 + I2 + A1 slots, I2 ~
    # Binomial(n, 1/2) the customers met with a second visit left, A1 the
    # arrivals during T1, so E[T1 T2] = E[(n+1)(n/2+1)] / mu^2 + lam
    # E[(n+1)(n+2)] / mu^3.
    lam, mu = mp.mpf(45), mp.mpf(100)
    q2 = Revisits(2, lam, mu)
    rho = 2 * lam / mu
    En, En2 = rho / (1 - rho), rho * (1 + rho) / (1 - rho) ** 2
    direct = (En2 / 2 + 1.5 * En + 1) / mu ** 2 + lam * (En2 + 3 * En + 2) / mu ** 3
    cross = mp.diff(lambda a, b: q2.lst([a, b]), (0, 0), (1, 1))
    check("2 visits: E[T1 T2] by the transform vs a direct count", float(cross), float(direct), 1e-12)
    # The inversion, on the one-visit queue plus an M/M/4 ahead: closed forms.
    q1 = Revisits(1, 30, 200)
    api = MMc(4, 30.0, 1000.0)
    for t in [0.005, 0.01, 0.03]:
        want = 1 - math.exp(-170 * t)
        check("1 visit: P(T <= %g) by Talbot vs M/M/1" % t, invert_cdf(q1.total_lst, t), want, 1e-12)
        both = lambda s: q1.total_lst(s) * api.sojourn_lst(s)
        # T1 + A, A the M/M/4 sojourn (hypoexponential with a mixture): the
        # survival of Exp(a) + Exp(b) is (b e^{-a t} - a e^{-b t}) / (b - a).
        C, g = api.C, api.gamma
        def hypo(rates, t):
            # survival of a sum of exponentials with distinct rates
            tot = 0.0
            for i, ri in enumerate(rates):
                w = 1.0
                for j, rj in enumerate(rates):
                    if j != i:
                        w *= rj / (rj - ri)
                tot += w * math.exp(-ri * t)
            return tot
        want = 1 - ((1 - C) * hypo([170.0, 1000.0], t) + C * hypo([170.0, 1000.0, g], t))
        check("1 visit + M/M/4: P(T <= %g) by Talbot vs closed form" % t, invert_cdf(both, t), want, 1e-11)


# ---------------------------------------------------------------- parallel calls and held workers

def exp_quantile(p, m):
    return -m * math.log(1 - p)


def mp_quantile(surv, p, lo, hi):
    """The t with P(T <= t) = p, surv(t) = P(T > t) decreasing, in mpmath
    (50 digits): bracketed by doubling hi, then solved by the Anderson-
    Bjorck method (mpmath.findroot, solver 'anderson')."""
    mp.mp.dps = 50
    f = lambda t: (1 - surv(t)) - p
    while f(hi) < 0:
        lo, hi = hi, 2 * hi
    return mp.findroot(f, (mp.mpf(lo), mp.mpf(hi)), solver="anderson", tol=mp.mpf(10) ** -40)


def expsum_survival(terms):
    """P(T > t) = sum_i c_i e^{-a_i t} for terms [(c_i, a_i)]."""
    return lambda t: mp.fsum(c * mp.exp(-a * t) for c, a in terms)


def plus_exponential(terms, nu):
    """The terms of X + Y, Y ~ Exp(nu) independent of X, X's survival the
    exponential sum terms (whose c_i sum to 1): P(X + Y > t) = e^{-nu t}
    + int_0^t nu e^{-nu y} P(X > t - y) dy = e^{-nu t} + sum_i c_i nu
    (e^{-a_i t} - e^{-nu t}) / (nu - a_i)."""
    out = [(mp.mpf(1), nu)]
    for c, a in terms:
        out.append((c * nu / (nu - a), a))
        out.append((-c * nu / (nu - a), nu))
    return out


def kofn_exp_terms(rates, k):
    """The survival function of the k-th smallest of independent
    exponentials of the given rates, as an exponential sum: P(T > t) =
    P(fewer than k done by t) = sum over the sets D of fewer than k done of
    prod_{i in D} (1 - e^{-r_i t}) prod_{i not in D} e^{-r_i t}, each
    product expanded by inclusion-exclusion."""
    from itertools import combinations
    n = len(rates)
    terms = {}
    for d in range(k):
        for D in combinations(range(n), d):
            rest = sum(rates[i] for i in range(n) if i not in D)
            for e in range(len(D) + 1):  # expand prod_{i in D} (1 - e^{-r_i t})
                for E in combinations(D, e):
                    a = rest + sum(rates[i] for i in E)
                    terms[a] = terms.get(a, mp.mpf(0)) + (-1) ** e
    return [(c, a) for a, c in terms.items() if c != 0]


def expsum_mean(terms):
    return mp.fsum(c / a for c, a in terms)


def check_parallel():
    mp.mp.dps = 50
    # The k-of-n survival against its closed forms: the minimum of
    # exponentials is exponential with the sum of the rates; the 2nd of 3
    # by the memoryless property, 1/S + sum_i (r_i/S) / (S - r_i) (the
    # first to finish leaves a race of the other two); the maximum of two
    # identical ones, 3/(2 mu).
    r = [mp.mpf(100), mp.mpf(200) / 3, mp.mpf(50)]
    S = sum(r)
    check("min of 2 exponentials is Exp(r1 + r2)", float(expsum_survival(kofn_exp_terms(r[:2], 1))(mp.mpf("0.013"))),
          float(mp.exp(-(r[0] + r[1]) * mp.mpf("0.013"))), 1e-15)
    check("2nd of 3 exponentials: mean vs the memoryless race", float(expsum_mean(kofn_exp_terms(r, 2))),
          float(1 / S + mp.fsum(ri / S / (S - ri) for ri in r)), 1e-15)
    check("2nd of 3 exponentials: mean vs int P(T > t)", float(mp.quad(expsum_survival(kofn_exp_terms(r, 2)), [0, 0.05, 1, mp.inf])),
          float(expsum_mean(kofn_exp_terms(r, 2))), 1e-15)
    check("max of 2 Exp(mu): mean 3/(2 mu)", float(expsum_mean(kofn_exp_terms([r[0], r[0]], 2))), 1.5 / 100, 1e-15)
    check("Flatto-Hahn R_2 at rho -> 0 is the max of 2 Exp(mu)", (12 - 1e-12) / 8, 1.5, 1e-12)
    # The convolution with an exponential against quadrature.
    nu = mp.mpf(10) ** 3
    terms = plus_exponential(kofn_exp_terms(r, 2), nu)
    t = mp.mpf("0.02")
    direct = mp.exp(-nu * t) + mp.quad(lambda y: nu * mp.exp(-nu * y) * expsum_survival(kofn_exp_terms(r, 2))(t - y), [0, 0.005, t])
    check("X + Exp(nu): survival vs quadrature", float(expsum_survival(terms)(t)), float(direct), 1e-14)
    check("X + Exp(nu): mean", float(expsum_mean(terms)), float(expsum_mean(kofn_exp_terms(r, 2)) + 1 / nu), 1e-15)
    check("X + Exp(nu): P(T > 0) = 1", float(expsum_survival(terms)(0)), 1.0, 1e-15)
    q = mp_quantile(expsum_survival(kofn_exp_terms(r[:1], 1)), mp.mpf("0.99"), 0, 0.01)
    check("root-finding: the p99 of Exp(100)", float(q), math.log(100) / 100, 1e-15)


def service_exp_rows(name, rate, m, servers_never_wait_model, model_pct):
    """A service of many workers that never waits (the Erlang C
    probability below 1e-300), exponential service of mean m: the sojourn
    is the service time. No wait_probability or mean_wait rows: both are
    0, which the files cannot hold."""
    out = [row("service", name, "utilization", rate * m / servers_never_wait_model, EXACT, source="lambda m / c")]
    out.append(row("service", name, "mean_response", m, EXACT, source="no wait (Erlang C < 1e-300): the service time"))
    for lv, p in LEVELS:
        out.append(row("service", name, lv, exp_quantile(p, m), model_pct, source="no wait: -m ln(1 - p)"))
    return out


def mm1_rows(name, lam, mu):
    rho = lam / mu
    src = "M/M/1 (Burke: the fork's departures are Poisson), Gross & Harris 2008 sec. 2.2"
    out = [
        row("service", name, "utilization", rho, EXACT, source="lambda / mu"),
        row("service", name, "wait_probability", rho, EXACT, source=src),
        row("service", name, "mean_wait", rho / (mu - lam), EXACT, source=src),
        row("service", name, "mean_response", 1 / (mu - lam), EXACT, source=src),
    ]
    for lv, p in LEVELS:
        out.append(row("service", name, lv, -math.log(1 - p) / (mu - lam), EXACT, source=src + ": Exp(mu - lambda) sojourn"))
    return out


def entry_rows(name, mean, pct, model, emu, mean_src, pct_src):
    out = [row("entry", name, "mean", mean, model["mean"], emu=("z" if "mean" in emu else "-"), source=mean_src)]
    for lv, _ in LEVELS:
        out.append(row("entry", name, lv, pct[lv], model[lv], emu=("z" if lv in emu else "-"), source=pct_src))
    return out


def parallel_cases():
    check_parallel()

    # forkjoin2-rho070: f (1000 workers, Exp 1us) forks to a and b, single
    # workers, Exp 10ms, wait all; 70 req/s.
    lam, mu, d = 70.0, 100.0, 1e-6
    rho = lam / mu
    rows = mm1_rows("a", lam, mu) + mm1_rows("b", lam, mu)
    rows.append(row("entry", "f", "mean", d + (12 - rho) / 8 / (mu - lam), EXACT,
                    source="f's 1us + (12 - rho)/8 / (mu - lambda): Flatto & Hahn 1984, Nelson & Tantawi 1988 eq. 5"))
    write_case("forkjoin2-rho070", "a fork-join of two identical M/M/1 branches at utilization 0.7, 70 req/s.", [
        "The branches' figures are M/M/1's (Burke: the fork's departures are Poisson); the end-to-end mean is",
        "f's own 1us plus the exact two-branch fork-join mean (Flatto & Hahn 1984; Nelson & Tantawi 1988).",
        "The end-to-end percentiles have no closed form and are left out.",
    ], rows)

    # any-of-2: f (1000 workers, deterministic 1us) makes a (Exp 40ms) and,
    # with probability 0.5, b (Exp 60ms), at once, and waits for the first.
    lam, d, ma, mb, p = 30.0, mp.mpf("1e-6"), mp.mpf("0.04"), mp.mpf("0.06"), mp.mpf("0.5")
    mp.mp.dps = 50
    terms = [(1 - p, 1 / ma), (p, 1 / ma + 1 / mb)]  # coins once per branch: {a} or {a, b}
    surv = expsum_survival(terms)
    pct = {lv: d + mp_quantile(surv, mp.mpf(q), 0, 0.05) for lv, q in LEVELS}
    rows = service_exp_rows("a", lam, float(ma), 1000, ANY_OF_2_MODEL["service"])
    rows += service_exp_rows("b", lam * float(p), float(mb), 1000, ANY_OF_2_MODEL["service"])
    rows += entry_rows("f", d + expsum_mean(terms), pct, ANY_OF_2_MODEL, {"mean", "p50", "p90"},
                       "1us + (1 - p) m_a + p / (1/m_a + 1/m_b): the first of independent exponentials",
                       "root of 1us + (1 - p) Exp(1/m_a) + p Exp(1/m_a + 1/m_b) (mpmath.findroot, 50 digits)")
    write_case("any-of-2", "the first answer of two parallel calls, one made with probability 0.5; no queueing, 30 req/s.", [
        "Every figure exact: no service ever waits (1000 workers each), so the branches' latencies are their",
        "independent exponential service times, and the first of them is exponential with the sum of the rates.",
    ], rows)

    # quorum-2-of-3: f (1000 workers, Exp 1us) makes a, b, c (Exp 10, 15,
    # 20ms) at once and waits for 2.
    lam, nu = 100.0, mp.mpf(10) ** 6
    ms = [mp.mpf("0.010"), mp.mpf("0.015"), mp.mpf("0.020")]
    terms = plus_exponential(kofn_exp_terms([1 / m for m in ms], 2), nu)
    surv = expsum_survival(terms)
    pct = {lv: mp_quantile(surv, mp.mpf(q), 0, 0.05) for lv, q in LEVELS}
    rows = []
    for name, m in zip("abc", ms):
        rows += service_exp_rows(name, lam, float(m), 1000, QUORUM_MODEL["service"])
    rows += entry_rows("f", expsum_mean(terms), pct, QUORUM_MODEL, set(),
                       "f's Exp(1us) + the 2nd of 3 independent exponentials: sum_i 1/(S - r_i) - 2/S",
                       "root of the survival of Exp(1us) + 2nd of 3 exponentials, in closed form (mpmath.findroot)")
    write_case("quorum-2-of-3", "a quorum: 2 of 3 parallel calls waited for; no queueing, 100 req/s.", [
        "Every figure exact: no service ever waits (1000 workers each), so the branches' latencies are",
        "independent exponentials, the 2nd of three has a closed-form survival function (inclusion-exclusion),",
        "and f's own exponential 1us is added by convolution.",
    ], rows)

    # hold-md1: api (1 worker, deterministic 2ms, hold) calls db (1000
    # workers, deterministic 3ms); 140 req/s. The worker is held 5ms.
    lam, own, db = 140.0, 0.002, 0.003
    D = own + db
    rho = lam * D
    q = MDc(1, rho)
    mw = D * rho / (2 * (1 - rho))
    src_pk = "M/D/1 with the holding time D = 5ms: Pollaczek-Khinchine, Kleinrock 1975 ch. 5"
    src_ch = "M/D/1 with D = 5ms: Crommelin 1932 chain by GTH; = Erlang 1909"
    rows = [
        row("service", "api", "utilization", rho, EXACT, source="lambda D, the worker busy while held"),
        row("service", "api", "held_utilization", lam * db, "-", source="lambda x 3ms: the held part of the utilization (the simulator's)"),
        row("service", "api", "wait_probability", rho, EXACT, source="rho (PASTA)"),
        row("service", "api", "mean_wait", mw, EXACT, source=src_pk),
        row("service", "api", "mean_response", mw + own, EXACT, source=src_pk + ", plus the own 2ms (a visit: wait and own work)"),
    ]
    for lv, p in LEVELS:
        rows.append(row("service", "api", lv, own + D * q.wait_quantile(p), HOLD_MD1_MODEL["service"], source=src_ch + ", plus the own 2ms"))
    rows.append(row("service", "db", "utilization", lam * db / 1000, EXACT, source="lambda m / c"))
    rows += entry_rows("api", D + mw, {lv: D * q.sojourn_quantile(p) for lv, p in LEVELS}, HOLD_MD1_MODEL, set(),
                       src_pk, src_ch)
    write_case("hold-md1", "a single worker held across a call that never waits: M/D/1 at 0.7, 140 req/s.", [
        "Every figure exact: db never waits, so api's worker is held exactly 2 + 3 = 5ms and api is an M/D/1",
        "queue with D = 5ms; a request's latency is its wait plus 5ms. Per-visit figures of api: wait plus",
        "its own 2ms (sim/doc.go). Utilization counts the held worker as busy.",
    ], rows)

    # hold-pool: api (2 workers, deterministic 10ms, hold) calls db (1000
    # workers, deterministic 40ms); 28 req/s. The worker is held 50ms.
    lam, own, db = 28.0, 0.010, 0.040
    D = own + db
    rho = lam * D / 2
    q = MDc(2, rho)
    mw = D * q.mean_wait()
    src = "M/D/2 with the holding time D = 50ms: Crommelin 1932 chain by GTH"
    rows = [
        row("service", "api", "utilization", rho, EXACT, source="lambda D / c, the workers busy while held"),
        row("service", "api", "held_utilization", lam * db / 2, "-", source="lambda x 40ms / c: the held part of the utilization (the simulator's)"),
        row("service", "api", "wait_probability", q.wait_probability(), HOLD_POOL_MODEL["wait_probability"], source=src + ": P(Q >= c)"),
        row("service", "api", "mean_wait", mw, HOLD_POOL_MODEL["mean_wait"], source=src + ": E[(Q - c)^+] / lambda"),
        row("service", "api", "mean_response", mw + own, HOLD_POOL_MODEL["mean_response"], source=src + ", plus the own 10ms"),
    ]
    for lv, p in LEVELS:
        rows.append(row("service", "api", lv, own + D * q.wait_quantile(p), HOLD_POOL_MODEL["service_" + lv],
                        source=src + ", wait as in Franx 2001, plus the own 10ms"))
    rows.append(row("service", "db", "utilization", lam * db / 1000, EXACT, source="lambda m / c"))
    rows += entry_rows("api", D + mw, {lv: D * q.sojourn_quantile(p) for lv, p in LEVELS}, HOLD_POOL_MODEL,
                       {"mean", "p50", "p90"}, src + ": E[(Q - c)^+] / lambda", src + ", wait as in Franx 2001")
    write_case("hold-pool", "two workers held across a call that never waits: M/D/2 at 0.7, 28 req/s.", [
        "Every figure exact: db never waits, so api's workers are held exactly 10 + 40 = 50ms and api is an",
        "M/D/2 queue with D = 50ms (Crommelin's chain). The model treats a holding time as a general",
        "distribution (Kimura's M/G/c interpolation), not as M/D/c: approximate, its errors today the tolerances.",
    ], rows)


# ---------------------------------------------------------------- the cases

def main():
    check_mdc()
    if sys.argv[1:] == ["--parallel"]:  # only the cases of parallel calls and held workers
        parallel_cases()
        return
    check_mek1()
    check_grid()
    check_mmc()
    check_mekc()
    check_revisits()
    parallel_cases()

    m = 0.010  # every case's mean service time, seconds

    # M/D/1 at 0.7.
    rho = 0.7
    q = MDc(1, rho)
    pct = {lv: m * q.sojourn_quantile(p) for lv, p in LEVELS}
    write_case("md1-rho070", "M/D/1 at utilization 0.7.", [
        "Every figure exact: the mean by Pollaczek-Khinchine, the percentiles by Crommelin's chain (checked",
        "against Erlang's 1909 closed form). The model inverts the P-K transform: 1e-5 (model/reference_test.go).",
    ], single_station_rows("s", rho, rho, m * rho / (2 * (1 - rho)), m * (1 + rho / (2 * (1 - rho))), pct,
                           {"wait_probability": EXACT, "mean_wait": EXACT, "mean_response": EXACT, "percentiles": "exact 1e-5"},
                           {"wait_probability": "rho (PASTA)", "mean": "Pollaczek-Khinchine mean-value formula, Kleinrock 1975 ch. 5",
                            "percentiles": "Crommelin 1932 chain by GTH; = Erlang 1909"}))

    # M/D/2 at 0.8: exact in the model too (its M/D/c by Crommelin's roots
    # and Franx's wait), by a method independent of this chain.
    rho = 0.8
    q = MDc(2, rho)
    pct = {lv: m * q.sojourn_quantile(p) for lv, p in LEVELS}
    mw = q.mean_wait()
    rows = single_station_rows("s", rho, q.wait_probability(), m * mw, m * (1 + mw), pct,
                               {"wait_probability": EXACT, "mean_wait": EXACT, "mean_response": EXACT, "percentiles": "exact 1e-6"},
                               {"wait_probability": "Crommelin 1932 chain by GTH: P(Q >= c)",
                                "mean": "Crommelin 1932 chain by GTH: E[(Q - c)^+] / lambda",
                                "percentiles": "Crommelin 1932 chain by GTH, wait as in Franx 2001"})
    write_case("md2-rho080", "M/D/2 at utilization 0.8.", [
        "Every figure exact: Crommelin's chain, solved by GTH. The model's M/D/c (Crommelin's roots, Franx's",
        "wait as an E_c/D/1 wait) is exact too, computed another way; its percentiles invert a transform: 1e-6.",
    ], rows)

    # M/E_4/1 at 0.8.
    rho, k = 0.8, 4
    q = MEk1(k, rho)
    pct = {lv: m * q.sojourn_quantile(p) for lv, p in LEVELS}
    mw = rho * (1 + 1 / k) / (2 * (1 - rho))
    write_case("mek1-rho080", "M/E4/1 at utilization 0.8.", [
        "Every figure exact: the mean by Pollaczek-Khinchine, the percentiles from the rational P-K transform",
        "(roots by mpmath.polyroots). The model inverts the P-K transform numerically.",
    ], single_station_rows("s", rho, rho, m * mw, m * (1 + mw), pct,
                           {"wait_probability": EXACT, "mean_wait": EXACT, "mean_response": EXACT, "percentiles": "exact 1e-6"},
                           {"wait_probability": "rho (PASTA)", "mean": "Pollaczek-Khinchine mean-value formula, Kleinrock 1975 ch. 5",
                            "percentiles": "P-K transform (Kleinrock 1975 ch. 5): hypoexponential by its roots"}))

    # M/LN/1 at cv 0.5 (rho 0.7) and cv 2 (rho 0.6).
    # The model's percentiles are approximate (the lognormal enters them
    # through a fitted mixture of Erlangs); their tolerances are its errors
    # today, about 1.5 times, rounded up. cv 0.5: p50 +0.04%, p90 +0.08%,
    # p95 +0.09%, p99 +0.10%, p999 +0.10%. cv 2: p50 +0.08%, p90 -0.08%,
    # p95 -0.17%, p99 -0.40%, p999 -0.81% (with the two-moment fit it
    # had, p99 was -20% and p999 -45%).
    for name, cv, rho, tmax, approx_pct in [
        ("mln1-cv05-rho070", 0.5, 0.7, 25,
         {"p50": "approx 0.001", "p90": "approx 0.0015", "p95": "approx 0.0015", "p99": "approx 0.0015", "p999": "approx 0.0015"}),
        ("mln1-cv2-rho060", 2.0, 0.6, 130,
         {"p50": "approx 0.0015", "p90": "approx 0.0015", "p95": "approx 0.003", "p99": "approx 0.006", "p999": "approx 0.012"}),
    ]:
        B, Bbar = lognormal(cv)
        pct, err = mg1_quantiles(rho, Bbar, B, 0.01, tmax)
        if err > 1e-5:
            sys.exit("reference.py: %s: the grids disagree by %g" % (name, err))
        pct = {lv: m * v for lv, v in pct.items()}
        mw = rho * (1 + cv * cv) / (2 * (1 - rho))
        write_case(name, "M/LN/1, lognormal service of cv %g, at utilization %g." % (cv, rho), [
            "Means exact by Pollaczek-Khinchine (two moments suffice). Percentiles from the Volterra equation of the",
            "M/G/1 wait on grids h = m/100, m/200, m/400, Romberg-extrapolated (error estimate %.1g)." % err,
            "The model's percentiles fit the lognormal with a phase-type distribution of the same two moments",
            "(Tijms 2003, App. B): approximate; the tolerances are the errors it makes today, rounded up.",
        ], single_station_rows("s", rho, rho, m * mw, m * (1 + mw), pct,
                               dict(wait_probability=EXACT, mean_wait=EXACT, mean_response=EXACT, **approx_pct),
                               {"wait_probability": "rho (PASTA)", "mean": "Pollaczek-Khinchine mean-value formula, Kleinrock 1975 ch. 5",
                                "percentiles": "M/G/1 Volterra equation (Takacs 1962 ch. 2) on grids, Romberg"}))


    # M/D/8 at 0.3: light, smooth load, where the simulator's warm-up rule
    # once misfired. An arrival waits with probability 0.0034, so p50 to
    # p99 are the service time itself, exactly.
    rho = 0.3
    q = MDc(8, rho)
    pct = {lv: m * q.sojourn_quantile(p) for lv, p in LEVELS}
    mw = q.mean_wait()
    write_case("md8-rho030", "M/D/8 at utilization 0.3.", [
        "Every figure exact: Crommelin's chain, solved by GTH. The model's M/D/c (Crommelin's roots, Franx's",
        "wait) is exact too, computed another way; its percentiles invert a transform: 1e-6. An arrival waits",
        "with probability %.3g, so p50 to p99 are the service time, 10ms." % q.wait_probability(),
    ], single_station_rows("s", rho, q.wait_probability(), m * mw, m * (1 + mw), pct,
                           {"wait_probability": EXACT, "mean_wait": EXACT, "mean_response": EXACT, "percentiles": "exact 1e-6"},
                           {"wait_probability": "Crommelin 1932 chain by GTH: P(Q >= c)",
                            "mean": "Crommelin 1932 chain by GTH: E[(Q - c)^+] / lambda",
                            "percentiles": "Crommelin 1932 chain by GTH, wait as in Franx 2001"}))

    # Deterministic front feeding deterministic back: front M/D/1 at 0.7;
    # back's arrivals are front's departures, at least m apart, so back
    # never waits (a sample-path fact) and its sojourn is m.
    rho = 0.7
    q = MDc(1, rho)
    pct = {lv: m * q.sojourn_quantile(p) for lv, p in LEVELS}
    mw = rho / (2 * (1 - rho))
    src_pk = "Pollaczek-Khinchine mean-value formula, Kleinrock 1975 ch. 5"
    src_cr = "Crommelin 1932 chain by GTH; = Erlang 1909"
    src_back = "front's departures are >= 10ms apart and back serves in 10ms: back never waits"
    rows = [
        row("service", "front", "utilization", rho, EXACT, source="lambda m"),
        row("service", "front", "wait_probability", rho, EXACT, source="rho (PASTA)"),
        row("service", "front", "mean_wait", m * mw, EXACT, source=src_pk),
        row("service", "front", "mean_response", m * (1 + mw), EXACT, source=src_pk),
    ] + [row("service", "front", lv, pct[lv], "exact 1e-5", source=src_cr) for lv, _ in LEVELS] + [
        row("service", "back", "utilization", rho, EXACT, source="lambda m"),
        row("service", "back", "wait_probability", 0, EXACT, source=src_back),
        row("service", "back", "mean_wait", 0, EXACT, source=src_back),
        row("service", "back", "mean_response", m, EXACT, source=src_back),
    ] + [row("service", "back", lv, m, "exact 1e-6", source=src_back) for lv, _ in LEVELS] + [
        row("entry", "front", "mean", m * (1 + mw) + m, EXACT, source=src_pk + ", + 10ms at back"),
    ] + [row("entry", "front", lv, pct[lv] + m, "exact 1e-5", source=src_cr + ", + 10ms at back") for lv, _ in LEVELS]
    write_case("det-tandem", "a deterministic single worker feeding another, 70 req/s.", [
        "Every figure exact. front is M/D/1 at 0.7 (as md1-rho070). back receives front's departures, which are",
        "at least 10ms apart, and serves each in 10ms: it never has a request waiting, on every sample path, so",
        "its wait is 0 and its response 10ms; the end-to-end latency is front's sojourn + 10ms. A zero value is",
        "judged by absolute error (model) and by the simulator's exact zero (see model_test.go, sim_test.go).",
    ], rows)

    # M/E_4/2 at 0.8: the CTMC, truncated at 400 waiting (mass there below
    # 1e-15, checked), solved by GTH.
    rho, k, c = 0.8, 4, 2
    q = MEkc(c, k, rho, 400)
    pw, mw = q.wait_probability(), q.mean_wait()
    p, _ = q.sojourn_quantiles(LEVELS, 40)
    pct = {lv: m * v for lv, v in p.items()}
    # The model's figures are approximate (Kimura's M/G/c interpolation);
    # the tolerances are its errors today, rounded up (MEKC_TOL).
    write_case("me4-2-rho080", "M/E4/2 at utilization 0.8.", [
        "Every figure exact: the CTMC of (number waiting, the servers' phases), truncated at 400 waiting (mass",
        "there %.1g), stationary law by GTH; P(wait) by PASTA, the mean wait by Little, the sojourn as the" % q.top,
        "absorption time of a tagged arrival (q + 1 completions of busy servers, then its own phases), by",
        "uniformization. The method is checked on M/E4/1 (P-K, the transform's roots) and M/M/2 (Erlang C).",
        "The model approximates (Kimura 1994's M/G/c interpolation): tolerances are its errors today, rounded up.",
    ], single_station_rows("s", rho, pw, m * mw, m * (1 + mw), pct, MEKC_TOL,
                           {"wait_probability": "M/E4/2 CTMC by GTH: P(no server idle), PASTA",
                            "mean": "M/E4/2 CTMC by GTH: E[queue] / lambda (Little)",
                            "percentiles": "M/E4/2 CTMC by GTH, sojourn by phase-type absorption (uniformization)"}))

    # Six consecutive visits to an M/M/1 db, api an M/M/4 ahead of them.
    mp.mp.dps = 30
    api = MMc(4, 30.0, 1000.0)
    db = MMc(1, 180.0, 200.0)
    rv = Revisits(6, 30, 200)
    both = lambda s: rv.total_lst(s) * api.sojourn_lst(s)
    e2e = {lv: bisect(lambda t: invert_cdf(both, t), p, 0.0, 0.1, rel=1e-13) for lv, p in LEVELS}
    mean = 1 / 1000.0 + api.mean_wait() + 6 * (1 / 200.0 + db.mean_wait())
    src_k = "Kelly 1979: M/M/c at the total rate; Erlang C, Gross & Harris 2008 sec. 2.3"
    src_kp = "Kelly 1979: M/M/c sojourn at the total rate, bisection on the closed form (Gross & Harris sec. 2.3)"
    rows = []
    for name, st, lam in [("api", api, 30.0), ("db", db, 180.0)]:
        rows += [
            row("service", name, "utilization", lam / st.mu / st.c, EXACT, source="lambda m / c"),
            # api's requests wait with probability 3.3e-8: a run of two
            # million has none, so the simulator is not judged on these two.
            row("service", name, "wait_probability", st.C, EXACT, sim="-" if name == "api" else "z", source=src_k),
            row("service", name, "mean_wait", st.mean_wait(), EXACT, sim="-" if name == "api" else "z", source=src_k),
            row("service", name, "mean_response", 1 / st.mu + st.mean_wait(), EXACT, source=src_k),
        ] + [row("service", name, lv, st.sojourn_quantile(p), EXACT, source=src_kp) for lv, p in LEVELS]
    rows.append(row("entry", "api", "mean", mean, EXACT, source="api's mean response + 6 x db's (linearity; Kelly 1979)"))
    rows += [row("entry", "api", lv, e2e[lv], SIX_TOL[lv],
                 source="6 visits as a branching process, transform inverted by Talbot (mpmath); api independent")
             for lv, _ in LEVELS]
    write_case("six-visits", "api calls db 6 times in a row, 30 req/s (db at 0.9).", [
        "Per-service figures exact: a Kelly network, each service an M/M/c queue at its total rate; the",
        "end-to-end mean exact by linearity. The end-to-end percentiles: db's six visits as a multi-type",
        "branching process of service slots (Revisits), whose transform is inverted by Talbot's method,",
        "checked on one visit (M/M/1), against Kelly's marginals of each visit, the mean, and a cross moment",
        "of two visits counted directly. api's sojourn is convolved as independent of db's: it is not quite,",
        "as a request that overtakes this one at api (probability about 1.5%, api having 4 workers) reaches",
        "db ahead of it; the covariance this makes, about lam Var(api) x 15ms / 2 ~ 2e-7 s^2 against a",
        "variance of 0.09 s^2, moves these percentiles by an estimated 1e-6 relative, far below the",
        "simulator's resolution and the model's tolerance. The model approximates them (Takacs's feedback",
        "queue, its customers returning independently): tolerances are its errors today, rounded up.",
        "api's P(wait) is 3.3e-8, which a simulated run never meets: the simulator is not judged on it, nor on",
        "api's mean wait.",
    ], rows)


if __name__ == "__main__":
    main()
