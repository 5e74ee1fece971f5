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
//
// Each replica serves its own counters, as each process of a real service
// does, with the label service="name", and replica="r" (from 0) beside it
// when the service has several: Prometheus scrapes every replica, and
// sum by (service) gives the service's.
func (s *service) serveMetrics(w http.ResponseWriter) {
	st := s.stats()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	b := bufio.NewWriter(w)
	label := `{service="` + escapeLabel(st.Name) + `"}`
	if s.spec.Replicas > 1 {
		label = `{service="` + escapeLabel(st.Name) + `",replica="` + strconv.Itoa(s.replica) + `"}`
	}
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
	realized, _, inCalls := s.moments()
	held, heldInCalls := realized.Sum(), inCalls.Sum()
	par := st.Parallel

	metric("kendall_requests_total", "counter", "Requests received by the service.", float64(st.Requests))
	metric("kendall_served_total", "counter", "Requests that completed their service time.", float64(st.Served))
	metric("kendall_call_errors_total", "counter", "Calls to callees that failed, in groups or not.", float64(st.CallErrors))
	metric("kendall_workers", "gauge", "Workers of the service (servers).", float64(st.Servers))
	metric("kendall_busy_workers", "gauge", "Workers holding a request now: in service, or held in calls.", float64(st.Busy))
	metric("kendall_workers_in_service", "gauge", "Workers doing their request's own work (its service time) now.", float64(st.InService))
	metric("kendall_workers_held_in_calls", "gauge", "Workers held while their request's calls are under way now (hold: true).", float64(st.HeldInCalls))
	metric("kendall_queue_length", "gauge", "Requests waiting for a worker now.", float64(st.QueueLength))
	metric("kendall_in_flight", "gauge", "Requests in the service now: queued, in service, or in its calls.", float64(st.InFlight))
	metric("kendall_service_time_target_seconds", "gauge", "Mean service time of the topology file.", st.ServiceTime)
	metric("kendall_service_time_realized_mean_seconds", "gauge", "Mean of the service times realized so far.", opt(st.RealizedMean))
	metric("kendall_service_time_realized_cv", "gauge", "Coefficient of variation of the service times realized so far.", opt(st.RealizedCV))
	metric("kendall_service_time_realized_seconds_total", "counter", "Time the workers were held for service times, over all requests served: divided by kendall_served_total, the realized mean.", held)
	metric("kendall_held_in_calls_seconds_total", "counter", "Time the workers were held across their requests' calls, after the service times (hold: true), over the requests whose calls returned.", heldInCalls)
	metric("kendall_parallel_calls_total", "counter", "Calls made in groups of parallel calls (a call with a count once).", float64(par.Calls))
	metric("kendall_parallel_calls_waited_total", "counter", "Answers of calls of groups that the requests waited for.", float64(par.Waited))
	metric("kendall_parallel_calls_background_completed_total", "counter", "Calls of groups not waited for that ran on to the end and succeeded.", float64(par.BackgroundCompleted))
	metric("kendall_parallel_calls_background_failed_total", "counter", "Calls of groups not waited for that failed, or were cut short by shutdown.", float64(par.BackgroundFailed))
	metric("kendall_parallel_calls_background_in_flight", "gauge", "Calls of groups not waited for and still under way now.", float64(par.BackgroundInFlight))
	metric("kendall_parallel_groups_failed_total", "counter", "Groups of parallel calls that could not get the successful answers they wait for: each failed its request with 502.", float64(par.GroupsFailed))
	if len(st.Callees) > 0 {
		// What this replica's balancers route to: the replicas of each
		// callee it knows now, and the calls it sent each.
		b.WriteString("# HELP kendall_callee_replicas Replicas of a callee that this replica's balancer routes its calls to now.\n")
		b.WriteString("# TYPE kendall_callee_replicas gauge\n")
		for _, c := range st.Callees {
			b.WriteString("kendall_callee_replicas" + withLabel(label, "callee", c.Service) + " " + strconv.Itoa(len(c.Replicas)) + "\n")
		}
		b.WriteString("# HELP kendall_callee_calls_total Calls this replica sent to a replica of a callee, since its balancer learned of that replica.\n")
		b.WriteString("# TYPE kendall_callee_calls_total counter\n")
		for _, c := range st.Callees {
			for _, r := range c.Replicas {
				b.WriteString("kendall_callee_calls_total" + withLabel(withLabel(label, "callee", c.Service), "url", r.URL) + " " + strconv.FormatInt(r.Calls, 10) + "\n")
			}
		}
	}
	_ = b.Flush()
}

// withLabel adds name="value" to a set of labels, {…}.
func withLabel(labels, name, value string) string {
	return labels[:len(labels)-1] + "," + name + `="` + escapeLabel(value) + `"}`
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
