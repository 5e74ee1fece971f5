package sim

// Confidence intervals come from independent replications (Law 2015,
// §9.4.1): each replication gives one estimate X_i of a figure, and with n
// replications the interval is X̄ ± t_{n−1, (1+level)/2} · s/√n, where s is
// the sample standard deviation of the X_i and t the Student t quantile.
// The X_i are independent because each replication has its own random
// stream and starts empty, and close to normal because each is an average
// (or a quantile) of many requests, which is what the t interval needs.
