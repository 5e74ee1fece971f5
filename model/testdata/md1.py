"""M/D/1 sojourn-time percentiles for kendall's model tests (writes md1.tsv).

Independent of kendall's code: the waiting time distribution of the M/D/1
queue in closed form (A. K. Erlang, 1909; see also Franx, "A simple solution
for the M/D/c waiting time distribution", Oper. Res. Lett. 29, 2001),
with service time D = 1 and arrival rate lambda = rho:

    P(W <= t) = (1 - rho) * sum_{k=0}^{floor(t)} (lambda (k - t))^k / k! * e^{-lambda (k - t)}

The sum alternates with large terms, so it is evaluated with 80 significant
digits (Python's decimal module), and each percentile is found by bisection
to 1e-18. The sojourn is D + W. Run: python3 md1.py
"""
from decimal import Decimal as D, getcontext
import math, platform

getcontext().prec = 80
LEVELS = [D("0.5"), D("0.9"), D("0.95"), D("0.99"), D("0.999")]


def wait_cdf(t, lam, rho):
    total = D(0)
    for k in range(0, int(t) + 1):
        x = lam * (D(k) - t)
        total += x ** k / D(math.factorial(k)) * (-x).exp()
    return (1 - rho) * total


def sojourn_quantile(p, rho):
    lam = rho
    if p <= 1 - rho:
        return D(1)  # the atom: a share 1 - rho do not wait; sojourn is exactly D
    lo, hi = D(0), D(1)
    while wait_cdf(hi, lam, rho) < p:
        lo, hi = hi, hi * 2
    while hi - lo > D("1e-18"):
        mid = (lo + hi) / 2
        if wait_cdf(mid, lam, rho) < p:
            lo = mid
        else:
            hi = mid
    return 1 + (lo + hi) / 2


with open("md1.tsv", "w") as f:
    f.write("# M/D/1 sojourn time, service D = 1, arrival rate lambda = rho: the closed-form waiting\n")
    f.write("# time distribution P(W<=t) = (1-rho) sum_{k=0}^{floor(t)} (lambda(k-t))^k/k! e^{-lambda(k-t)}\n")
    f.write("# (Erlang, 1909) in 80-digit decimal arithmetic, Python %s, md1.py; mean from\n" % platform.python_version())
    f.write("# Pollaczek-Khinchine, D + rho D/(2(1-rho)). Tolerance: relative 1e-5.\n")
    f.write("lambda\tmean\tp50\tp90\tp95\tp99\tp999\n")
    for rho in [D("0.3"), D("0.5"), D("0.8")]:
        mean = 1 + rho / (2 * (1 - rho))
        row = [rho, mean] + [sojourn_quantile(p, rho) for p in LEVELS]
        f.write("\t".join("%.17g" % float(v) for v in row) + "\n")
