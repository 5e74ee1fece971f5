package topology

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxErrors is the most problems reported at once. Nobody reads further, and
// a small file of aliases could otherwise stand for millions of problems.
const maxErrors = 100

// validate checks what the parser cannot see field by field: that names are
// printable, that calls and entries name services that exist, that calls
// form no cycle, and that the numbers are in range (for topologies built
// with New). It also builds the name index. A problem with a field for
// which skip returns true is left out: Parse passes the fields its parser
// has reported already. Past maxErrors problems it stops, and more says so:
// a topology too broken to report in full is not worth the time to check
// (suggestions for 300,000 misspelt calls took 8 GB).
func (t *Topology) validate(file string, skip func(field string) bool) (errs ErrorList, more bool) {
	add := func(line int, field, format string, args ...any) {
		if skip == nil || !skip(field) {
			errs = append(errs, &Error{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
		}
	}
	full := func() bool { return len(errs) > maxErrors }
	if t.Name != "" {
		if msg := nameProblem(t.Name); msg != "" {
			add(t.nameLine, "name", "%s", msg)
		}
	}
	t.index = make(map[string]int, len(t.Services))
	names := make([]string, 0, len(t.Services)) // the printable ones, for messages
	for i, s := range t.Services {
		if full() {
			return errs, true
		}
		path := servicePath(s.Name)
		if _, dup := t.index[s.Name]; dup {
			add(s.Line, path, "appears twice; service names must be unique")
			continue
		}
		t.index[s.Name] = i
		if s.Name == "" {
			add(s.Line, path, "a service has an empty name; give it one")
		} else if msg := nameProblem(s.Name); msg != "" {
			add(s.Line, path, "%s", msg)
		} else {
			names = append(names, s.Name)
		}
	}
	if len(t.Services) == 0 {
		add(0, "services", "none defined; add at least one service with a service_time")
	}
	if len(t.Workload) == 0 {
		add(0, "workload", "no entries; add one such as {entry: %s, rate: 100} to say where requests arrive", firstServiceName(t))
	}

	for _, s := range t.Services {
		path := servicePath(s.Name)
		if s.Servers < 1 {
			add(s.Line, path+".servers", "%d workers; a service needs at least 1", s.Servers)
		} else if s.Servers > MaxServers {
			add(s.Line, path+".servers", "%d workers; kendall handles up to %d per service", s.Servers, MaxServers)
		}
		if s.ServiceTime <= 0 {
			add(s.Line, path+".service_time", "%v is not positive; give a duration more than zero", s.ServiceTime)
		}
		switch d := s.Distribution; d.Kind {
		case Exponential, Deterministic:
		case Lognormal:
			if msg := cvProblem(d.CV); msg != "" {
				add(s.Line, path+".cv", "%s", msg)
			}
		case Erlang:
			if msg := phasesProblem(d.K); msg != "" {
				add(s.Line, path+".k", "%s", msg)
			}
		default:
			add(s.Line, path+".distribution", "unknown distribution %q", d.Kind)
		}
		for i, c := range s.Calls {
			if full() {
				return errs, true
			}
			cpath := fmt.Sprintf("%s.calls[%d]", path, i)
			if c.To == "" {
				add(c.Line, cpath+".to", "is empty; name the service called; the services are %s", serviceList(names))
			} else if _, ok := t.index[c.To]; !ok {
				add(c.Line, cpath+".to", "unknown service %q%s; the services are %s", c.To, suggest(c.To, names), serviceList(names))
			}
			if !(c.Probability >= 0 && c.Probability <= 1) {
				add(c.Line, cpath+".probability", "%v is not a probability; use a number from 0 to 1", c.Probability)
			}
			if msg := countProblem(c.Count); msg != "" {
				add(c.Line, cpath+".count", "%s", msg)
			}
		}
	}

	seen := map[string]bool{}
	for i, w := range t.Workload {
		if full() {
			return errs, true
		}
		path := fmt.Sprintf("workload[%d]", i)
		if w.Entry == "" {
			add(w.Line, path+".entry", "is empty; name the service where these requests arrive; the services are %s", serviceList(names))
		} else if _, ok := t.index[w.Entry]; !ok && len(t.Services) > 0 {
			add(w.Line, path+".entry", "unknown service %q%s; the services are %s", w.Entry, suggest(w.Entry, names), serviceList(names))
		} else if seen[w.Entry] {
			add(w.Line, path+".entry", "%q has a workload already; merge the two into one entry whose rate is their sum", w.Entry)
		}
		seen[w.Entry] = true
		if msg := checkRate(w.Rate); msg != "" {
			add(w.Line, path+".rate", "%s", msg)
		}
	}

	if e := t.findCycle(file); e != nil && (skip == nil || !skip(e.Field)) {
		errs = append(errs, e)
	}
	return errs, full()
}

// checkVisits reports the first workload entry whose requests make more
// than MaxVisits visits on average, naming the service visited most. It is
// the last check, made once every other rule holds: the calls must be valid
// and acyclic.
func (t *Topology) checkVisits(file string) *Error {
	for _, w := range t.Workload {
		if _, ok := t.index[w.Entry]; !ok {
			return nil // reported elsewhere (or by the parser)
		}
	}
	for _, s := range t.Services {
		for _, c := range s.Calls {
			if _, ok := t.index[c.To]; !ok {
				return nil
			}
		}
	}
	order := t.Order()
	for i, w := range t.Workload {
		v := make([]float64, len(t.Services))
		v[t.index[w.Entry]] = 1
		var total float64
		for _, s := range order { // callers first: a service's visits are final when reached
			total += v[s]
			for _, c := range t.Services[s].Calls {
				v[t.index[c.To]] += v[s] * c.Probability * float64(c.Count)
			}
		}
		if !(total <= MaxVisits) {
			most := 0
			for s := range v {
				if v[s] > v[most] {
					most = s
				}
			}
			return &Error{File: file, Line: w.Line, Field: fmt.Sprintf("workload[%d].entry", i),
				Msg: fmt.Sprintf("a request at %s makes %.3g visits on average (%.3g of them to %s: counts multiply along a chain of calls); kendall handles up to %d visits per request, so lower the counts",
					show(w.Entry), total, v[most], show(t.Services[most].Name), MaxVisits)}
		}
	}
	return nil
}

// finish puts the problems in the order of the file and keeps the first
// maxErrors of them, with a last line saying there are more when there are.
func finish(file string, errs ErrorList, more bool) ErrorList {
	slices.SortStableFunc(errs, func(a, b *Error) int { return a.Line - b.Line })
	if len(errs) > maxErrors {
		errs, more = errs[:maxErrors], true
	}
	if more {
		errs = append(errs, &Error{File: file, Msg: fmt.Sprintf("more than %d problems; fix these and run again to see the rest", maxErrors)})
	}
	return errs
}

// The rules for single values. Each is written once, here: validate applies
// it to every topology, and the parser too where it knows the value's own
// line, which is more precise than the service's; Parse reports a field
// once.

// nameProblem says what is wrong with a non-empty name of a service or of the
// topology, or returns "". Names appear in the tables of every report, which
// a line break, a terminal escape or an invisible space would break.
func nameProblem(name string) string {
	const why = "names appear in every report's tables, so use printable characters only"
	if !utf8.ValidString(name) {
		return fmt.Sprintf("%q is not valid UTF-8; %s%s", name, why, example(name))
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("%q has an unprintable character (%U); %s%s", name, r, why, example(name))
		}
	}
	switch trimmed := strings.TrimSpace(name); {
	case trimmed == "":
		return fmt.Sprintf("%q is only spaces; give it a name", name)
	case trimmed != name:
		return fmt.Sprintf("%q begins or ends with a space, which no table shows; remove it: %q", name, trimmed)
	}
	return ""
}

// example is ", e.g. NAME" with a printable version of name, or "".
func example(name string) string {
	clean := strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(name, " "))
	if clean = strings.TrimSpace(clean); clean == "" {
		return ""
	}
	return fmt.Sprintf(", e.g. %q", clean)
}

// show returns a name, field or value from the file as a message prints it
// on one line: as it is when it is a printable name, quoted otherwise.
func show(s string) string {
	if s == "" || nameProblem(s) != "" {
		return strconv.Quote(s)
	}
	return s
}

// servicePath is the field path of the named service.
func servicePath(name string) string { return "services." + show(name) }

// serviceList lists the service names for a message, the first 20 of them
// in a large topology.
func serviceList(names []string) string {
	const most = 20
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
}

// rateProblem says what is wrong with an arrival rate, or returns "":
// written is the rate as the user wrote it and n its number, in the user's
// unit; perSecond is the rate in requests per second and r its number.
func rateProblem(written string, n float64, perSecond string, r float64) string {
	switch {
	case !(n > 0):
		return written + " is not a positive rate; requests per second must be more than zero"
	case r < MinRate:
		return fmt.Sprintf("%s is below the smallest rate kendall handles, %g req/s (one request every 11.6 days); give a rate of at least %g",
			perSecond, float64(MinRate), float64(MinRate))
	case r > MaxRate:
		return fmt.Sprintf("%s is above the largest rate kendall handles, %g req/s (a billion a second); give a rate of at most %g",
			perSecond, float64(MaxRate), float64(MaxRate))
	}
	return ""
}

// checkRate is rateProblem for a rate r in requests per second.
func checkRate(r float64) string {
	v := fmt.Sprint(r)
	return rateProblem(v, r, v+" req/s", r)
}

// cvProblem says what is wrong with the coefficient of variation of a
// lognormal service time, or returns "".
func cvProblem(cv float64) string {
	switch {
	case !(cv > 0):
		return fmt.Sprintf("%v is not a coefficient of variation; use a positive number (1 is as variable as the exponential)", cv)
	case cv < MinCV:
		return fmt.Sprintf("%v is below %v, the smallest coefficient of variation kendall handles: "+
			"a service time whose standard deviation is under 1%% of its mean is constant for every figure kendall reports, "+
			"so use distribution: deterministic", cv, float64(MinCV))
	case cv > MaxCV:
		return fmt.Sprintf("%v is above %v, the largest coefficient of variation kendall handles: "+
			"beyond it no figure can be computed or simulated with any accuracy; use a cv of at most %v", cv, float64(MaxCV), float64(MaxCV))
	}
	return ""
}

// phasesProblem says what is wrong with the phases k of an Erlang service
// time, or returns "".
func phasesProblem(k int) string {
	switch {
	case k < 1:
		return fmt.Sprintf("%d phases; an Erlang distribution needs k of at least 1", k)
	case k > MaxPhases:
		return fmt.Sprintf("%d phases; kendall handles up to %d, and an Erlang with more phases has a standard deviation under 1%% of its mean, "+
			"constant for every figure kendall reports, so use distribution: deterministic", k, MaxPhases)
	}
	return ""
}

// countProblem says what is wrong with the count of a call, or returns "".
func countProblem(n int) string {
	switch {
	case n < 1:
		return fmt.Sprintf("%d; a call is made at least once (to skip it, remove it or use probability)", n)
	case n > MaxCount:
		return fmt.Sprintf("%d calls in a row; kendall handles up to %d, which it simulates one by one; use a count of at most %d", n, MaxCount, MaxCount)
	}
	return ""
}

// findCycle returns an error naming one cycle of calls, or nil if the call
// graph is acyclic. It is a depth-first search that keeps its path, so the
// cycle can be named in the order the calls are made.
func (t *Topology) findCycle(file string) *Error {
	const (
		unvisited = iota
		onPath
		done
	)
	state := make([]uint8, len(t.Services))
	var path []int // service indexes on the current DFS path
	var found *Error
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = onPath
		path = append(path, i)
		s := t.Services[i]
		for ci, c := range s.Calls {
			j, ok := t.index[c.To]
			if !ok {
				continue // reported as an unknown service
			}
			switch state[j] {
			case onPath:
				start := 0
				for k, p := range path {
					if p == j {
						start = k
					}
				}
				var names []string
				for _, p := range path[start:] {
					names = append(names, show(t.Services[p].Name))
				}
				names = append(names, show(c.To))
				found = &Error{
					File:  file,
					Line:  c.Line,
					Field: fmt.Sprintf("%s.calls[%d].to", servicePath(s.Name), ci),
					Msg: fmt.Sprintf("calls form a cycle: %s; calls must form a directed acyclic graph, so remove one of these calls",
						strings.Join(names, " → ")),
				}
				return true
			case unvisited:
				if visit(j) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return false
	}
	for i := range t.Services {
		if state[i] == unvisited && visit(i) {
			return found
		}
	}
	return nil
}
