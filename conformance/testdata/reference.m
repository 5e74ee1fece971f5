% Reference figures for kendall's conformance suite, for the cases whose
% services are all exponential: GNU Octave and its queueing package (Moreno
% Marzolla), and closed forms written out here, independently of kendall.
%
%   apt-get install octave octave-queueing
%   cd conformance/testdata && octave --no-gui --quiet reference.m
%
% It writes the .ref.tsv file of each case below (reference.py writes the
% others). The columns are described in README.md; the comment at the top of
% each file says where its values come from.
pkg load queueing;
global levels names ver qver;
levels = [0.5 0.9 0.95 0.99 0.999];
names = {"p50", "p90", "p95", "p99", "p999"};
ver = OCTAVE_VERSION;
qver = pkg("describe", "queueing"){1}.version;

% The model's tolerances, relative. Closed forms (Erlang C, the M/M/c sojourn
% distribution) are held to 1e-9, as model/reference_test.go holds them;
% end-to-end percentiles, which the model finds by inverting a Laplace
% transform numerically (Abate-Whitt), to 1e-6.
global EXACT INVERTED;
EXACT = "exact 1e-9";
INVERTED = "exact 1e-6";

% Solve S(t) = 1 - p for a decreasing survival function S, bracketing first.
function t = inv_survival(S, p, scale)
  hi = scale;
  while S(hi) > 1 - p
    hi = 2 * hi;
  endwhile
  t = fzero(@(x) S(x) - (1 - p), [0, hi], optimset("TolX", 1e-16));
endfunction

% The M/M/c sojourn survival function (Gross & Harris, Fundamentals of
% Queueing Theory, 4th ed., 2008, §2.3): with C = P(wait) and theta = c mu - lambda,
% P(T > t) = (1-C) e^{-mu t} + C (theta e^{-mu t} - mu e^{-theta t}) / (theta - mu).
function S = mmc_survival(lambda, mu, c)
  C = erlangc(lambda / mu, c);
  theta = c * mu - lambda;
  if abs(theta - mu) < 1e-6 * mu
    error("theta too close to mu for the plain formula");
  endif
  S = @(t) (1 - C) * exp(-mu * t) + C * (theta * exp(-mu * t) - mu * exp(-theta * t)) / (theta - mu);
endfunction

% One row of a reference file.
function row(f, scope, name, stat, value, model, sim, emu, source)
  fprintf(f, "%s\t%s\t%s\t%.17g\t%s\t%s\t%s\t%s\n", scope, name, stat, value, model, sim, emu, source);
endfunction

function f = open_case(name, about)
  global ver qver;
  f = fopen([name ".ref.tsv"], "w");
  fprintf(f, "# %s: %s\n", name, about);
  fprintf(f, "# Written by reference.m (GNU Octave %s, queueing %s); do not edit: change reference.m and run it.\n", ver, qver);
endfunction

% The figures of one M/M/c station at arrival rate lambda, mean service
% time s: qsmmm for utilization and mean response, erlangc for the wait
% probability, C/(c mu - lambda) for the mean wait (Gross & Harris §2.3; not
% R - 1/mu, which loses digits when the wait is tiny beside the service),
% and fzero on the sojourn survival function for the percentiles. emu lists
% the statistics the emulation is judged on.
function station(f, name, lambda, s, c, emu)
  global levels names EXACT;
  mu = 1 / s;
  [U, R] = qsmmm(lambda, mu, c);
  C = erlangc(lambda / mu, c);
  S = mmc_survival(lambda, mu, c);
  e = @(stat) ifelse_str(any(strcmp(emu, stat)), "z", "-");
  row(f, "service", name, "utilization", U, EXACT, "z", e("utilization"), "qsmmm");
  row(f, "service", name, "wait_probability", C, EXACT, "z", e("wait_probability"), "erlangc");
  row(f, "service", name, "mean_wait", C / (c * mu - lambda), EXACT, "z", e("mean_wait"), "erlangc/(c mu - lambda), Gross & Harris 2008 sec. 2.3");
  row(f, "service", name, "mean_response", R, EXACT, "z", e("mean_response"), "qsmmm");
  for i = 1:numel(levels)
    row(f, "service", name, names{i}, inv_survival(S, levels(i), R), EXACT, "z", e(names{i}), "fzero on the M/M/c sojourn survival function, Gross & Harris 2008 sec. 2.3");
  endfor
endfunction

function s = ifelse_str(cond, a, b)
  if cond
    s = a;
  else
    s = b;
  endif
endfunction

% The end-to-end figures of an entry whose latency has survival function S
% and mean m; emu as for station.
function entry(f, name, m, S, msource, psource, pmodel, emu)
  global levels names EXACT;
  e = @(stat) ifelse_str(any(strcmp(emu, stat)), "z", "-");
  row(f, "entry", name, "mean", m, EXACT, "z", e("mean"), msource);
  for i = 1:numel(levels)
    row(f, "entry", name, names{i}, inv_survival(S, levels(i), m), pmodel, "z", e(names{i}), psource);
  endfor
endfunction

function header(f)
  fprintf(f, "scope\tname\tstatistic\tvalue\tmodel\tsim\temulation\tsource\n");
endfunction

%% M/M/c: one service s, workload at s. The end-to-end latency of a request
%% is its sojourn at s, so the entry's figures are the station's.
mmc = { % name, c, service time (s), lambda, emulation-judged statistics
  "mm1-rho050",  1, 0.010,   50, {}
  "mm1-rho090",  1, 0.010,   90, {}
  "mm2-rho070",  2, 0.020,   70, {"mean", "p50", "p90"}
  "mm2-rho095",  2, 0.010,  190, {}
  "mm8-rho070",  8, 0.010,  560, {}
  "mm8-rho095",  8, 0.010,  760, {}
  "mm64-rho070", 64, 0.010, 4480, {}
  "mm64-rho095", 64, 0.010, 6080, {}
};
for i = 1:rows(mmc)
  [name, c, s, lambda, emu] = mmc{i, :};
  f = open_case(name, sprintf("M/M/%d at utilization %g.", c, lambda * s / c));
  fprintf(f, "# Every figure exact: Erlang C and the closed-form sojourn distribution.\n");
  header(f);
  station(f, "s", lambda, s, c, {});
  [~, R] = qsmmm(lambda, 1 / s, c);
  entry(f, "s", R, mmc_survival(lambda, 1 / s, c), "qsmmm", ...
        "fzero on the M/M/c sojourn survival function, Gross & Harris 2008 sec. 2.3", INVERTED, emu);
  fclose(f);
endfor

% The survival function of a sum of independent exponentials of distinct
% rates theta (the hypoexponential; Ross, Introduction to Probability
% Models, 11th ed., 2014, §5.2.4):
% P(T > t) = sum_i prod_{j~=i} theta_j/(theta_j - theta_i) e^{-theta_i t}.
function S = hypoexp_survival(theta)
  n = numel(theta);
  w = zeros(1, n);
  for i = 1:n
    others = theta([1:i-1, i+1:n]);
    w(i) = prod(others ./ (others - theta(i)));
  endfor
  S = @(t) sum(w .* exp(-theta * t));
endfunction

%% The tandem of tandem.yaml: qnos with every visit ratio 1 for the means;
%% by Reich's theorem (E. Reich, "Waiting times when queues are in tandem",
%% Ann. Math. Statist. 28(3), 1957) the sojourns are independent
%% exponentials of rates mu_i - lambda, so the end-to-end latency is
%% hypoexponential.
lambda = 100;
svc = [0.004 0.007 0.005 0.006];
sn = {"a", "b", "c", "d"};
[U, R] = qnos(lambda, svc, ones(1, 4), ones(1, 4));
f = open_case("tandem", "four single-worker exponential services in a chain, 100 req/s.");
fprintf(f, "# Every figure exact: each service an M/M/1 queue (Burke), the end-to-end latency hypoexponential (Reich 1957).\n");
header(f);
for k = 1:4
  station(f, sn{k}, lambda, svc(k), 1, {});
endfor
entry(f, "a", sum(R), hypoexp_survival(1 ./ svc - lambda), "qnos: sum(V .* R)", ...
      "fzero on the hypoexponential survival function (Reich 1957; Ross 2014 sec. 5.2.4)", INVERTED, {});
fclose(f);

%% The branch of branch.yaml: a calls b with probability p. Each service is
%% an M/M/1 queue (b's arrivals are a Bernoulli thinning of a's departures,
%% which are Poisson by Burke's theorem). The route a -> b is overtake-free,
%% so a request's sojourns at a and b are independent (J. Walrand and P.
%% Varaiya, "Sojourn times and the overtaking condition in Jacksonian
%% networks", Adv. Appl. Prob. 12(4), 1980): the end-to-end latency is
%% Exp(theta_a) with probability 1 - p and Exp(theta_a) + Exp(theta_b) with
%% probability p, theta = mu - lambda at each.
lambda = 50; p = 0.4;
svc = [0.010 0.025];
V = [1 p];
[U, R] = qnos(lambda, svc, V, [1 1]);
theta = 1 ./ svc - lambda * V;
S2 = hypoexp_survival(theta);
S = @(t) (1 - p) * exp(-theta(1) * t) + p * S2(t);
f = open_case("branch", "a calls b with probability 0.4, single-worker exponential services, 50 req/s.");
fprintf(f, "# Every figure exact: each service an M/M/1 queue (Burke), the end-to-end latency a mixture of\n");
fprintf(f, "# independent exponential sojourns on an overtake-free route (Walrand & Varaiya 1980).\n");
header(f);
station(f, "a", lambda, svc(1), 1, {});
station(f, "b", lambda * p, svc(2), 1, {});
entry(f, "a", sum(V .* R), S, "qnos: sum(V .* R)", ...
      "fzero on (1-p) Exp(theta_a) + p Hypo(theta_a, theta_b) (Walrand & Varaiya 1980)", INVERTED, {"mean", "p50", "p90"});
fclose(f);

%% The network of network.yaml: qnos with visit ratios derived by hand from
%% the calls (per request at gateway): gateway 1; catalog 0.7 (probability
%% 0.7); db 2 (gateway, count 2) + 0.7 * 3 * 0.5 (catalog, count 3,
%% probability 0.5) = 3.05. In a Kelly network (F. P. Kelly, Reversibility
%% and Stochastic Networks, 1979, §3.1) each station is in steady state an
%% M/M/c queue at its total arrival rate, and an arrival, even one fed back
%% to the same station, sees it in that state (the arrival theorem: Kelly
%% 1979, §3.2), so the per-visit figures are the M/M/c ones; the mean
%% end-to-end latency is sum(V .* R). The end-to-end percentiles have no
%% closed form: a request's consecutive visits to db meet the same queue.
lambda = 250;
sn = {"gateway", "catalog", "db"};
svc = [0.005 0.012 0.003];
V = [1 0.7 3.05];
M = [2 3 4];
[U, R, Q, X] = qnos(lambda, svc, V, M);
f = open_case("network", "probabilistic and repeated calls, multi-worker exponential services, 250 req/s.");
fprintf(f, "# Per-service figures exact (an M/M/c queue at the total rate in a Kelly network), the end-to-end mean\n");
fprintf(f, "# exact (qnos); the end-to-end percentiles have no exact value and are left out.\n");
header(f);
for k = 1:3
  station(f, sn{k}, X(k), svc(k), M(k), {});
  % qnos and qsmmm at qnos's throughput must agree: the network is the stations.
  [~, Rk] = qsmmm(X(k), 1 / svc(k), M(k));
  if abs(Rk - R(k)) > 1e-12 * R(k)
    error("qnos and qsmmm disagree at %s: %.17g vs %.17g", sn{k}, R(k), Rk);
  endif
endfor
row(f, "entry", "gateway", "mean", sum(V .* R), EXACT, "z", "-", "qnos: sum(V .* R)");
fclose(f);
