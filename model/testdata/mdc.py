"""M/D/c reference values for kendall's model tests (writes mdc.tsv).

Independent of kendall's code and of its method (roots of z^c = e^{a(z-1)}):
the number in system N at times t, t + D, t + 2D, ... of an M/D/c queue with
service time D is the Markov chain N' = max(N - c, 0) + A, A ~ Poisson(a),
a = lambda*D (every customer in service at t has left by t + D, the waiting
ones are still there, and so are the arrivals in between); since t is
arbitrary its stationary distribution pi is the time-stationary one. It is
found here by iterating pi <- pi P from the empty state on a state space
truncated far into the geometric tail (1e-30), in double precision with
compensated sums (math.fsum), until successive iterates differ by less than
1e-16 in total variation. Then, by PASTA and
Little's law,

    P(wait) = P(N >= c),  Wq = E[(N - c)+] / lambda,

and the waiting time has the distribution of G. J. Franx, "A simple solution
for the M/D/c waiting time distribution", Oper. Res. Lett. 29 (2001):

    P(W <= kD + u) = P((N - c)+ + Poisson(lambda (D - u)) <= (k+1)c - 1),  0 <= u < D,

whose percentiles (of the sojourn D + W) are found by bisection to 1e-13.
D = 1. Run: python3 mdc.py > mdc.tsv (a few minutes)
"""
import math
import platform

LEVELS = [0.5, 0.9, 0.95, 0.99, 0.999]
CASES = [(1, 0.7), (2, 0.3), (2, 0.9), (3, 0.5), (8, 0.7), (8, 0.9), (64, 0.7), (64, 0.95)]


def poisson(mean, n):
    # pmf by the recursion from the mode down and up, in logs: no underflow
    # of e^{-mean} for large means.
    return [math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1)) if mean > 0 else float(k == 0) for k in range(n)]


def stationary(c, a):
    rho = a / c
    # the tail decays geometrically; 1e-30 is reached well within this
    n = int(c + a + 80 * (a ** 0.5 + 1) / (1 - rho)) + 100
    pa = poisson(a, n)
    kmax = max(k for k in range(n) if pa[k] > 1e-40) + 1
    pi = [0.0] * n
    pi[0] = 1.0
    for it in range(1000000):
        q = [0.0] * n  # (pi - c)+
        q[0] = math.fsum(pi[: c + 1])
        for j in range(c + 1, n):
            q[j - c] = pi[j]
        new = [0.0] * n
        top = max(j for j in range(n) if q[j] > 1e-40) + 1
        for i in range(top):
            qi = q[i]
            for k in range(min(kmax, n - i)):
                new[i + k] += qi * pa[k]
        s = math.fsum(new)
        new = [x / s for x in new]
        diff = math.fsum(abs(x - y) for x, y in zip(new, pi))
        pi = new
        if diff < 1e-16:
            return pi
    raise RuntimeError("no convergence")


def wait_cdf(x, c, lam, q):
    # q: distribution of (N - c)+
    k = int(math.floor(x))
    u = x - k
    m = (k + 1) * c - 1
    if m < 0:
        return 0.0
    pp = poisson(lam * (1 - u), m + 1)
    cum = [0.0] * (m + 1)
    acc = 0.0
    for j in range(m + 1):
        acc += pp[j]
        cum[j] = acc
    return math.fsum(q[j] * cum[m - j] for j in range(min(len(q), m + 1)))


def main():
    print("# M/D/c, service time D = 1, arrival rate lambda = rho*c: the stationary distribution of")
    print("# N' = max(N-c,0) + Poisson(lambda) iterated in double precision with compensated sums (Python %s), and" % platform.python_version())
    print("# the waiting time distribution of Franx (2001); mdc.py says how. Tolerance: relative 1e-9")
    print("# for P(wait) and the means, 1e-6 for the percentiles (the model inverts a transform).")
    print("c\tlambda\twait_probability\tmean_wait\tp50\tp90\tp95\tp99\tp999")
    for c, rho in CASES:
        lam = rho * c
        pi = stationary(c, lam)
        pw = math.fsum(pi[c:])
        lq = math.fsum((j - c) * pi[j] for j in range(c, len(pi)))
        q = [math.fsum(pi[: c + 1])] + pi[c + 1:]
        row = [str(c), repr(float(lam)), repr(float(pw)), repr(float(lq / lam))]
        for p in LEVELS:
            lo, hi = 0.0, 1.0
            while wait_cdf(hi, c, lam, q) < p:
                hi *= 2
            if wait_cdf(0.0, c, lam, q) >= p:
                row.append(repr(1.0))
                continue
            while hi - lo > 1e-13:
                mid = (lo + hi) / 2
                if wait_cdf(mid, c, lam, q) < p:
                    lo = mid
                else:
                    hi = mid
            row.append(repr(float(1 + hi)))
        print("\t".join(row), flush=True)


main()
