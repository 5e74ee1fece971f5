package emulate

import (
	"bufio"
	"math"
	"net/http"
	"strconv"
)

// serveMetrics writes the service's counters in the Prometheus text
// exposition format, version 0.0.4 (prometheus.io/docs/instrumenting/
// exposition_formats): for each metric a HELP and a TYPE line, then one
// sample line, name{labels} value.
func (s *service) serveMetrics(w http.ResponseWriter) {
	st := s.stats()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	b := bufio.NewWriter(w)
	label := `{service="` + escapeLabel(st.Name) + `"}`
	metric := func(name, typ, help string, v float64) {
		b.WriteString("# HELP " + name + " " + help + "\n")
		b.WriteString("# TYPE " + name + " " + typ + "\n")
		b.WriteString(name + label + " " + formatSample(v) + "\n")
	}
	opt := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	s.statsMu.Lock()
	held := s.realized.Sum()
	s.statsMu.Unlock()

	metric("kendall_requests_total", "counter", "Requests received by the service.", float64(st.Requests))
	metric("kendall_served_total", "counter", "Requests that completed their service time.", float64(st.Served))
	metric("kendall_call_errors_total", "counter", "Calls to callees that failed.", float64(st.CallErrors))
	metric("kendall_workers", "gauge", "Workers of the service (servers).", float64(st.Servers))
	metric("kendall_busy_workers", "gauge", "Workers holding a request now.", float64(st.Busy))
	metric("kendall_queue_length", "gauge", "Requests waiting for a worker now.", float64(st.QueueLength))
	metric("kendall_in_flight", "gauge", "Requests in the service now: queued, in service, or in its calls.", float64(st.InFlight))
	metric("kendall_service_time_target_seconds", "gauge", "Mean service time of the topology file.", st.ServiceTime)
	metric("kendall_service_time_realized_mean_seconds", "gauge", "Mean of the service times realized so far.", opt(st.RealizedMean))
	metric("kendall_service_time_realized_cv", "gauge", "Coefficient of variation of the service times realized so far.", opt(st.RealizedCV))
	metric("kendall_service_time_realized_seconds_total", "counter", "Time the workers were held, over all requests served: divided by kendall_served_total, the realized mean.", held)
	_ = b.Flush()
}

// formatSample writes a sample value as the exposition format wants it:
// a Go float, or NaN, +Inf, -Inf.
func formatSample(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// escapeLabel escapes a label value: backslash, double quote and newline.
func escapeLabel(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			out = append(out, '\\', '\\')
		case '"':
			out = append(out, '\\', '"')
		case '\n':
			out = append(out, '\\', 'n')
		default:
			out = append(out, c)
		}
	}
	return string(out)
}
