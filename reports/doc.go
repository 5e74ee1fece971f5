// Package reports turns a validation — the model, the simulation and the
// measurement of one topology over a sweep of load — into a report a person
// would put in a design review: plots (PNG and SVG, drawn with
// gonum.org/v1/plot), report.json with every figure, report.md with the
// tables, and index.html, one self-contained page that opens offline.
//
// A Report holds only data; Render draws every file from it, so a report
// directory can be drawn again from its report.json alone (kendall report).
// The plots:
//
//   - latency-ENTRY: end-to-end mean, p50, p95 and p99 against offered load,
//     the model as lines, the simulation as points with 95% interval bars,
//     the measurement as triangles;
//   - ccdf-ENTRY: the end-to-end latency distribution at one rate, as a
//     complementary CDF on a log scale, all three sources;
//   - utilization: each service's utilization at each rate, the bottleneck
//     marked;
//   - timeline-N-RATE: each measured run second by second, p50 and p99
//     latency above the offered and achieved rates.
package reports
