"""Simulated waits for kendall's balanced-replica tests (writes balanced_sim.tsv rows).

n single-server replicas, exponential service of mean 1, Poisson arrivals at total
rate n*rho from M balancers of equal rate, each routing by its own in-flight
counts: jsq (fewest), p2 (shorter of two distinct), rand. The chain is sampled by
uniformization: events at rate n*rho + n, each an arrival with probability
rho/(rho + 1), else a departure from a uniformly chosen replica if it is busy;
arrival events see the time-stationary state (PASTA), and an arrival that joins
v requests waits for v exponential services, so its mean wait is E[v]. Two seeds
of 2e6 events, the first 10% discarded; the two figures printed give the noise.
Run: python3 balanced_sim.py POLICY n rho M EVENTS
"""
import random, sys, collections
def run(policy, n, rho, M=1, events=2_000_000, seed=1, warm=0.1):
    rnd = random.Random(seed)
    lam = n * rho
    tot = lam + n
    qs = [collections.deque() for _ in range(n)]
    own = [[0]*n for _ in range(M)]
    sv = swait = 0.0; na = 0; nw = 0
    hist = collections.Counter()
    w0 = int(events*warm)
    for e in range(events):
        if rnd.random() * tot < lam:
            b = rnd.randrange(M)
            ob = own[b]
            if policy == 'jsq':
                mn = min(ob)
                cand = [j for j in range(n) if ob[j] == mn]
                j = rnd.choice(cand)
            elif policy == 'rand':
                j = rnd.randrange(n)
            else:
                i1 = rnd.randrange(n); i2 = rnd.randrange(n-1)
                if i2 >= i1: i2 += 1
                if ob[i1] < ob[i2]: j = i1
                elif ob[i2] < ob[i1]: j = i2
                else: j = i1 if rnd.random() < 0.5 else i2
            v = len(qs[j])
            if e >= w0:
                na += 1; sv += v; nw += v > 0; hist[v] += 1
            qs[j].append(b); ob[j] += 1
        else:
            j = rnd.randrange(n)
            if qs[j]:
                b = qs[j].popleft(); own[b][j] -= 1
    return nw/na, sv/na, hist, na
if __name__ == '__main__':
    p, n, rho, M, ev = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(float(sys.argv[5]))
    r = [run(p, n, rho, M, ev, seed=s) for s in (1,2)]
    print(p, n, rho, M, 'pwait %.4f %.4f  W %.4f %.4f' % (r[0][0], r[1][0], r[0][1], r[1][1]), flush=True)
