package topology

import (
	"cmp"
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

// validate checks the rules of a topology, for Parse and New alike: that
// names are printable and unique, that calls and entries name services that
// exist, that calls form no cycle, and that every value is one kendall
// handles. It also builds the name index. src is where the parser found
// each value, so that a problem is reported at the value's own line, and
// which values it has reported already, so that none is reported twice;
// New's is empty. Past maxErrors problems validate stops, and more says so:
// a topology too broken to report in full is not worth the time to check
// (suggestions for 300,000 misspelt calls took 8 GB).
func (t *Topology) validate(file string, src *source) (errs ErrorList, more bool) {
	c := &checker{t: t, file: file, src: src}
	if t.Name != "" {
		if msg := nameProblem(t.Name); msg != "" {
			c.add(src.name, 0, "name", "%s", msg)
		}
	}
	if !c.index() {
		return c.errs, true
	}
	if len(t.Services) == 0 {
		c.add(src.services, 0, "services", "none defined; add at least one service with a service_time")
	}
	if len(t.Workload) == 0 {
		c.add(src.workload, 0, "workload", "no entries; add one such as {entry: %s, rate: 100} to say where requests arrive", firstServiceName(t))
	}
	for i, s := range t.Services {
		if !c.service(i, s) {
			return c.errs, true
		}
	}
	seen := map[string]bool{} // the entries so far
	for i, w := range t.Workload {
		if c.full() {
			return c.errs, true
		}
		c.entry(i, w, seen)
	}
	if e := t.findCycle(file, src); e != nil {
		c.errs = append(c.errs, e)
	}
	return c.errs, c.full()
}

// checker is one run of validate.
type checker struct {
	t     *Topology
	file  string
	src   *source
	errs  ErrorList
	names []string // of the services, the printable ones, for messages
}

// add reports a problem with the value found at pl, or, when the parser
// recorded no place, with the value of the service, call or entry at line.
// A value the parser has reported already is left alone.
func (c *checker) add(pl place, line int, field, format string, args ...any) {
	if pl.bad {
		return
	}
	c.errs = append(c.errs, &Error{File: c.file, Line: pl.lineOr(line), Field: field, Msg: fmt.Sprintf(format, args...), step: pl.step})
}

func (c *checker) full() bool { return len(c.errs) > maxErrors }

// index indexes the services by name and checks their names: each given,
// printable and given once. It reports false when there are too many
// problems to go on.
func (c *checker) index() bool {
	t := c.t
	t.index = make(map[string]int, len(t.Services))
	c.names = make([]string, 0, len(t.Services))
	for i, s := range t.Services {
		if c.full() {
			return false
		}
		// A key whose value is no mapping may be no service at all (a
		// field indented one step too little looks like one), so the
		// parser's problem with it is the only one. It is still indexed,
		// so that calls to a service written wrong are not reported as
		// calls to none.
		self := place{bad: c.src.service(i).unread}
		path := servicePath(s.Name)
		if _, dup := t.index[s.Name]; dup {
			c.add(self, s.Line, path, "appears twice; service names must be unique")
			continue
		}
		t.index[s.Name] = i
		if s.Name == "" {
			c.add(self, s.Line, path, "a service has an empty name; give it one")
		} else if msg := nameProblem(s.Name); msg != "" {
			c.add(self, s.Line, path, "%s", msg)
		} else {
			c.names = append(c.names, s.Name)
		}
	}
	return true
}

// service checks the settings of the i-th service and its calls. It reports
// false when there are too many problems to go on.
func (c *checker) service(i int, s *Service) bool {
	src := c.src.service(i)
	if src.unread {
		return true
	}
	path := servicePath(s.Name)
	if s.Servers < 1 {
		c.add(src.servers, s.Line, path+".servers", "%d workers; a service needs at least 1", s.Servers)
	} else if s.Servers > MaxServers {
		c.add(src.servers, s.Line, path+".servers", "%d workers; kendall handles up to %d per service", s.Servers, MaxServers)
	}
	if msg := replicasProblem(s.Replicas); msg != "" {
		c.add(src.replicas, s.Line, path+".replicas", "%s", msg)
	}
	// A balancer on a service of one replica is allowed: it has nothing to
	// choose from, so it changes nothing, and a file whose replicas are
	// turned down to 1 for a test need not lose its policy.
	if !slices.Contains(Balancers, s.Balancer) {
		names := make([]string, len(Balancers))
		for i, b := range Balancers {
			names[i] = string(b)
		}
		c.add(src.balancer, s.Line, path+".balancer", "unknown balancer %q%s; use one of %s",
			s.Balancer, Suggest(string(s.Balancer), names), strings.Join(names, ", "))
	}
	if s.ServiceTime <= 0 {
		c.add(src.serviceTime, s.Line, path+".service_time", "%s", notPositive(s.ServiceTime.String()))
	}
	c.distribution(s, src, path)
	// New takes "" for no endpoint and no address; a file that writes
	// one empty has made a mistake.
	if s.Endpoint != "" || src.endpoint != (place{}) {
		if msg := checkURL(s.Endpoint); msg != "" {
			c.add(src.endpoint, s.Line, path+".endpoint", "%s", msg)
		}
	}
	if s.Listen != "" || src.listen != (place{}) {
		if msg := checkListen(s.Listen); msg != "" {
			c.add(src.listen, s.Line, path+".listen", "%s", msg)
		}
	}
	for j, call := range s.Calls {
		if c.full() {
			return false
		}
		c.call(callItem(path, j), call, src.call(j))
	}
	return true
}

// distribution checks the distribution of service s and its cv or k.
func (c *checker) distribution(s *Service, src *serviceSource, path string) {
	switch d := s.Distribution; d.Kind {
	case Exponential, Deterministic:
	case Lognormal:
		if msg := cvProblem(d.CV); msg != "" {
			c.add(src.cv, s.Line, path+".cv", "%s", msg)
		}
	case Erlang:
		if msg := phasesProblem(d.K); msg != "" {
			c.add(src.k, s.Line, path+".k", "%s", msg)
		}
	default:
		names := make([]string, len(Kinds))
		for i, k := range Kinds {
			names[i] = string(k)
		}
		c.add(src.distribution, s.Line, path+".distribution", "unknown distribution %q%s; use one of %s",
			d.Kind, Suggest(string(d.Kind), names), strings.Join(names, ", "))
	}
}

// call checks the i-th call of the service at path.
func (c *checker) call(item string, call Call, src callSource) {
	if call.Group != nil {
		c.group(item, call, src)
		return
	}
	if call.To == "" {
		c.add(src.to, call.Line, item+".to", "is empty; name the service called; the services are %s", serviceList(c.names))
	} else if _, ok := c.t.index[call.To]; !ok {
		c.add(src.to, call.Line, item+".to", "unknown service %q%s; the services are %s",
			call.To, Suggest(call.To, c.names), serviceList(c.names))
	}
	if !(call.Probability >= 0 && call.Probability <= 1) {
		c.add(src.probability, call.Line, item+".probability", "%v is not a probability; use a number from 0 to 1", call.Probability)
	}
	if msg := countProblem(call.Count); msg != "" {
		c.add(src.count, call.Line, item+".count", "%s", msg)
	}
}

// group checks a group of parallel calls: not also a call to a service, at
// least one call, none a group itself, and a wait it can meet.
func (c *checker) group(item string, call Call, src callSource) {
	g := call.Group
	if src.group == nil && src.wait != (place{}) { // wait: without parallel:
		c.add(src.wait, call.Line, item+".wait", "applies only to a group of parallel calls; remove it, or list the calls under parallel:")
		return
	}
	if call.To != "" || src.to != (place{}) {
		c.add(src.to, call.Line, item+".to", "a call is either to a service or a group of parallel calls, not both; move this call into parallel:, or make it a call of its own")
	}
	if src.probability != (place{}) || src.count != (place{}) {
		pl := src.probability
		if pl == (place{}) {
			pl = src.count
		}
		c.add(pl, call.Line, item+".parallel", "probability and count apply to each call of a group, not to the group; move them onto its calls")
	}
	if len(g.Calls) == 0 {
		if !src.list().bad {
			c.add(src.list(), call.Line, item+".parallel", "is empty; list the calls made at once, e.g. parallel: [{to: search}, {to: ads}]")
		}
		return
	}
	switch {
	case g.Wait < 0:
		c.add(src.wait, call.Line, item+".wait", "%d; wait for all, any, or a number of calls from 1 to %d", g.Wait, len(g.Calls))
	case g.Wait > len(g.Calls):
		c.add(src.wait, call.Line, item+".wait", "%d, but the group makes at most %d calls; wait for at most %d (or all)", g.Wait, len(g.Calls), len(g.Calls))
	}
	for j, b := range g.Calls {
		bitem, bsrc := branchItem(item, j), src.branch(j)
		if b.Group != nil {
			c.add(bsrc.list(), b.Line, bitem+".parallel", "a group within a group; list its calls in the outer group instead (groups do not nest)")
			continue
		}
		c.call(bitem, b, bsrc)
	}
}

// callPath is the path of field key of the i-th call of the service at
// path. It is built only for a message.
func callPath(path string, i int, key string) string {
	return callItem(path, i) + "." + key
}

// callItem is the field path of the i-th call of the service at path.
func callItem(path string, i int) string { return path + ".calls[" + strconv.Itoa(i) + "]" }

// branchItem is the field path of the j-th call of the group at item.
func branchItem(item string, j int) string { return item + ".parallel[" + strconv.Itoa(j) + "]" }

// eachCall calls fn for every call service i makes to a service — its
// calls and its groups' calls — with its field path and record.
func (t *Topology) eachCall(i int, src *source, fn func(item string, c *Call, csrc callSource)) {
	s, ssrc := t.Services[i], src.service(i)
	path := servicePath(s.Name)
	for ci := range s.Calls {
		c, csrc := &s.Calls[ci], ssrc.call(ci)
		item := callItem(path, ci)
		if c.Group == nil {
			fn(item, c, csrc)
			continue
		}
		for bj := range c.Group.Calls {
			fn(branchItem(item, bj), &c.Group.Calls[bj], csrc.branch(bj))
		}
	}
}

// entry checks the i-th entry of the workload; seen holds the entries
// before it.
func (c *checker) entry(i int, w Workload, seen map[string]bool) {
	src := c.src.entry(i)
	path := "workload[" + strconv.Itoa(i) + "]"
	if w.Entry == "" {
		c.add(src.entry, w.Line, path+".entry", "is empty; name the service where these requests arrive; the services are %s", serviceList(c.names))
	} else if _, ok := c.t.index[w.Entry]; !ok && len(c.t.Services) > 0 {
		c.add(src.entry, w.Line, path+".entry", "unknown service %q%s; the services are %s", w.Entry, Suggest(w.Entry, c.names), serviceList(c.names))
	} else if seen[w.Entry] {
		c.add(src.entry, w.Line, path+".entry", "%q has a workload already; merge the two into one entry whose rate is their sum", w.Entry)
	}
	seen[w.Entry] = true
	if msg := checkRate(w.Rate); msg != "" {
		c.add(src.rate, w.Line, path+".rate", "%s", msg)
	}
}

// checkVisits reports the first workload entry whose requests make more
// than MaxVisits visits on average, naming the service visited most. It is
// the last check, made once every other rule holds: the calls must be valid
// and acyclic.
func (t *Topology) checkVisits(file string, src *source) *Error {
	for _, w := range t.Workload {
		if _, ok := t.index[w.Entry]; !ok {
			return nil // reported by validate
		}
	}
	for _, s := range t.Services {
		ok := true
		s.EachCall(func(c *Call) {
			if _, known := t.index[c.To]; !known {
				ok = false
			}
		})
		if !ok {
			return nil
		}
	}
	order := t.Order()
	for i, w := range t.Workload {
		v := make([]float64, len(t.Services))
		v[t.index[w.Entry]] = 1
		var total float64
		for _, s := range order { // callers first: a service's visits are final when reached
			total += v[s]
			t.Services[s].EachCall(func(c *Call) {
				v[t.index[c.To]] += v[s] * c.Probability * float64(c.Count)
			})
		}
		if !(total <= MaxVisits) {
			most := 0
			for s := range v {
				if v[s] > v[most] {
					most = s
				}
			}
			return &Error{File: file, Line: src.entry(i).entry.lineOr(w.Line), Field: fmt.Sprintf("workload[%d].entry", i),
				Msg: fmt.Sprintf("a request at %s makes %.3g visits on average (%.3g of them to %s: counts multiply along a chain of calls); kendall handles up to %d visits per request, so lower the counts",
					show(w.Entry), total, v[most], show(t.Services[most].Name), MaxVisits)}
		}
	}
	return nil
}

// finish puts the problems in the order of the file and keeps the first
// maxErrors of them, with a last line saying there are more when there are.
func finish(file string, errs ErrorList, more bool) ErrorList {
	slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.order(), b.order())) })
	if len(errs) > maxErrors {
		errs, more = errs[:maxErrors], true
	}
	if more {
		errs = append(errs, &Error{File: file, Msg: fmt.Sprintf("more than %d problems; fix these and run again to see the rest", maxErrors)})
	}
	return errs
}

// The rules for single values, each written once: validate applies them
// to every topology, and ParseRate and ParseDuration apply theirs as they
// read a rate or a duration, since a message about one quotes it as it was
// written.

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
	if len(names) == 0 {
		return "(none has a printable name)"
	}
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

// replicasProblem says what is wrong with the replicas of a service, or
// returns "".
func replicasProblem(n int) string {
	switch {
	case n < 1:
		return fmt.Sprintf("%d replicas; a service runs at least 1 (the default)", n)
	case n > MaxReplicas:
		return fmt.Sprintf("%d replicas; kendall handles up to %d per service, each served on a port of its own", n, MaxReplicas)
	}
	return ""
}

// notPositive says that the duration d, as written, is not positive.
func notPositive(d string) string {
	return d + " is not positive; give a duration more than zero"
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

// checkURL says what is wrong with an endpoint, or returns "".
func checkURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok || (scheme != "http" && scheme != "https") || rest == "" || strings.HasPrefix(rest, "/") {
		return fmt.Sprintf("%q is not an http or https URL; write one such as http://127.0.0.1:8080/checkout", u)
	}
	return ""
}

// checkListen says what is wrong with a listen address, or returns "".
func checkListen(a string) string {
	i := strings.LastIndex(a, ":")
	if i < 0 {
		return fmt.Sprintf("%q has no port; write host:port such as 127.0.0.1:8081", a)
	}
	port, err := strconv.Atoi(a[i+1:])
	if err != nil || port < 0 || port > 65535 {
		return fmt.Sprintf("%q has no valid port; write host:port such as 127.0.0.1:8081 (port 0 picks a free one)", a)
	}
	return ""
}

// findCycle returns an error naming one cycle of calls, or nil if the call
// graph is acyclic. It is a depth-first search that keeps its path, so the
// cycle can be named in the order the calls are made. src is as for
// validate.
func (t *Topology) findCycle(file string, src *source) *Error {
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
		cycle := false
		t.eachCall(i, src, func(item string, c *Call, csrc callSource) {
			if cycle || found != nil {
				return
			}
			to := csrc.to
			j, ok := t.index[c.To]
			if !ok || to.bad {
				return // reported as an unknown service, or by the parser
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
					Line:  to.lineOr(c.Line),
					Field: item + ".to",
					Msg: fmt.Sprintf("calls form a cycle: %s; calls must form a directed acyclic graph, so remove one of these calls",
						strings.Join(names, " → ")),
					step: to.step,
				}
				cycle = true
			case unvisited:
				if visit(j) {
					cycle = true
				}
			}
		})
		if cycle {
			return true
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
