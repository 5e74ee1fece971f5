package topology

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Load reads and validates the topology file at path.
func Load(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading topology: %w", err)
	}
	return Parse(path, data)
}

// Parse reads and validates a topology from data; name is used in error
// messages and, when the document has no name field, to name the topology.
func Parse(name string, data []byte) (*Topology, error) {
	p := &parser{file: name, src: &source{}}
	t := p.document(data)
	if p.unreadable {
		return nil, p.errs
	}
	if p.halt != nil {
		// The topology read so far is a fragment; checking it would only
		// add noise to the problem that stopped the parser.
		return nil, append(finish(name, p.errs, p.more), p.halt)
	}
	errs, more := p.errs, p.more
	if !more {
		// Check the topology even when some values could not be read, so
		// that one run reports every problem; the record tells validate
		// which values the parser has reported already.
		verrs, vmore := t.validate(name, p.src)
		errs, more = append(errs, verrs...), vmore
	}
	if len(errs) > 0 || more {
		return nil, finish(name, errs, more)
	}
	if e := t.checkVisits(name, p.src); e != nil {
		return nil, ErrorList{e}
	}
	if t.Name == "" {
		base := filepath.Base(p.file)
		if base = strings.TrimSuffix(base, filepath.Ext(base)); base != "" {
			t.Name = show(base) // a file's name may hold what a table cannot
		}
	}
	return t, nil
}

// MaxExpandedNodes is the most values (YAML nodes) the parser reads beyond
// those written in the file, by following aliases (*name). An alias stands
// for everything under its anchor, so a file of aliases of aliases can stand
// for a topology far larger than itself: one of 226 KB stood for 10 million
// calls and took 962 MB. Real topologies use an alias to share a few
// settings between services, some ten values each, so a million is far
// beyond one with tens of thousands of services (Alibaba's trace of its
// whole production cluster has about 20,000; Luo et al., "Characterizing
// Microservice Dependency and Performance", SoCC 2021).
const MaxExpandedNodes = 1_000_000

// The fields each level of the file accepts, in the order the docs give them.
var (
	topFields      = []string{"name", "workload", "services"}
	workloadFields = []string{"entry", "rate"}
	serviceFields  = []string{"servers", "replicas", "balancer", "service_time", "distribution", "cv", "k", "endpoint", "listen", "hold", "calls"}
	callFields     = []string{"to", "probability", "count", "parallel", "wait"}
)

// The parser reads the document into a Topology and reports what stops it
// from reading a value: the syntax, a value of the wrong kind, a field that
// is unknown, repeated or missing. Whether a value it read is allowed is
// validate's to say, for files and for New alike; the parser records where
// it found each value (source.go) so that validate can say where.
type parser struct {
	file       string
	errs       ErrorList
	src        *source // where each value was found
	unreadable bool    // the document is not a topology at all; nothing to validate

	budget int    // values left to read; see MaxExpandedNodes
	halt   *Error // the problem that stopped the parser, reported last
	more   bool   // problems past maxErrors were found, and the parser stopped
	steps  int32  // values read and problems found so far; see place.step
}

// at names a value of the file for messages, such as
// services.cart.calls[0].to: the field key of the index-th item of the list
// at path, or of the mapping at path when index is -1. A file of aliases
// stands for a million values and has few problems, so the parser puts the
// name together only for a message.
type at struct {
	path  string
	index int    // the item of the list path; -1 for the mapping path itself
	key   string // the field within; "" for the item or mapping itself
}

// fieldAt names the field key of the mapping at path; key "" is the
// mapping itself.
func fieldAt(path, key string) at { return at{path: path, index: -1, key: key} }

// itemAt names the i-th item of the list at path.
func itemAt(path string, i int) at { return at{path: path, index: i} }

// with names the field key of the item or mapping a, which names no field.
func (a at) with(key string) at {
	a.key = key
	return a
}

func (a at) String() string {
	path := a.path
	if a.index >= 0 {
		path += "[" + strconv.Itoa(a.index) + "]"
	}
	return join(path, a.key)
}

func (p *parser) errorf(n *yaml.Node, a at, format string, args ...any) {
	if p.stopped() {
		return
	}
	if len(p.errs) == maxErrors {
		p.more = true
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Field: a.String(), Msg: fmt.Sprintf(format, args...), step: p.step()})
}

// step counts one more value read or problem found, and returns the count.
func (p *parser) step() int32 {
	p.steps++
	return p.steps
}

// place records that the value n was read now, and whether it could be.
// Its line is that of n as written, an alias where there is one, as the
// parser's own problems with it have.
func (p *parser) place(n *yaml.Node, ok bool) place {
	return place{line: int32(n.Line), step: p.step(), bad: !ok}
}

// stopped reports whether the parser has stopped reading: past maxErrors
// problems, or past its budget of values.
func (p *parser) stopped() bool { return p.more || p.halt != nil }

// read spends the budget on the values of node n, at a, and reports whether
// the parser may go on. Every node is read at most once except through an
// alias, so only aliases can spend more than the file holds.
func (p *parser) read(n *yaml.Node, a at, values int) bool {
	if p.stopped() {
		return false
	}
	if p.budget -= values; p.budget < 0 {
		p.halt = &Error{File: p.file, Line: n.Line, Field: a.String(), Msg: fmt.Sprintf(
			"the aliases (*name) in this file stand for more than %d values beyond those written; "+
				"kendall reads no further, since no topology needs so many: look for an alias that repeats a long list, such as calls",
			MaxExpandedNodes)}
		return false
	}
	return true
}

// join is the path of field key under path; a key "" is path itself.
func join(path, key string) string {
	switch {
	case key == "":
		return path
	case path == "":
		return show(key)
	}
	return path + "." + show(key)
}

// countNodes counts the nodes written in a document, without following
// aliases.
func countNodes(doc *yaml.Node) int {
	n := 0
	stack := []*yaml.Node{doc}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = append(stack[:len(stack)-1], top.Content...)
		n++
	}
	return n
}

func (p *parser) document(data []byte) *Topology {
	t := &Topology{File: p.file}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		// JSON: YAML 1.2 reads it, but not tab indentation. Valid JSON has no
		// raw tab inside a string, so every tab is whitespace.
		data = bytes.ReplaceAll(data, []byte("\t"), []byte(" "))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.syntaxError(err)
		p.unreadable = true
		return t
	}
	p.budget = countNodes(&doc) + MaxExpandedNodes
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errorf(nil, fieldAt("", ""), "the file is empty; a topology needs a workload and services (see examples/)")
		p.unreadable = true
		return t
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errorf(root, fieldAt("", ""), "the document is %s; a topology is a mapping with name, workload and services", kindName(root))
		p.unreadable = true
		return t
	}
	var workload, services *yaml.Node
	p.mapping(root, fieldAt("", ""), topFields, func(key string, v *yaml.Node) {
		switch key {
		case "name":
			name, ok := p.str(v, fieldAt("", key))
			if ok {
				t.Name = name
			}
			p.src.name = p.place(v, ok)
		case "workload":
			workload = v
		case "services":
			services = v
		}
	})
	if services == nil {
		p.errorf(root, fieldAt("", "services"), "missing; list the services under services:, each with at least service_time")
		p.src.services.bad = true
	} else {
		p.services(t, services)
	}
	if p.stopped() {
		return t
	}
	if workload == nil {
		p.errorf(root, fieldAt("", "workload"), "missing; add a workload such as [{entry: %s, rate: 100}] to say where requests arrive and how fast", firstServiceName(t))
		p.src.workload.bad = true
	} else {
		p.workload(t, workload)
	}
	return t
}

// firstServiceName is the name of the first service, for an example in a
// message; the first whose name prints as it is, or a made-up one.
func firstServiceName(t *Topology) string {
	for _, s := range t.Services {
		if s.Name != "" && nameProblem(s.Name) == "" {
			return s.Name
		}
	}
	return "frontend"
}

// syntaxError turns a YAML syntax error ("yaml: line 3: ...") into an Error
// with the file and line in kendall's form.
func (p *parser) syntaxError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: "not valid YAML or JSON: " + msg})
}

// mapping walks the YAML mapping n, at a, reporting unknown and repeated
// keys, and calls fn with each known key and its value.
func (p *parser) mapping(n *yaml.Node, a at, known []string, fn func(key string, v *yaml.Node)) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, a, "is %s; it must be a mapping with the fields %s", kindName(n), strings.Join(known, ", "))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if !p.read(k, a.with(key), 2) {
			return
		}
		if seen[key] {
			p.errorf(k, a.with(key), "appears twice; keep one")
			continue
		}
		seen[key] = true
		if !slices.Contains(known, key) {
			p.errorf(k, a.with(key), "unknown field%s; the fields here are %s", Suggest(key, known), strings.Join(known, ", "))
			continue
		}
		fn(key, v)
	}
}

func (p *parser) workload(t *Topology, n *yaml.Node) {
	n = deref(n)
	list := fieldAt("", "workload")
	p.src.workload = p.place(n, true)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, list, "is %s; it must be a list such as [{entry: %s, rate: 100}]", kindName(n), firstServiceName(t))
		p.src.workload.bad = true
		return
	}
	if len(n.Content) == 0 {
		p.errorf(n, list, "is empty; add at least one entry such as {entry: %s, rate: 100}", firstServiceName(t))
		p.src.workload.bad = true
	}
	for i, item := range n.Content {
		a := itemAt("workload", i)
		if !p.read(item, a, 1) {
			return
		}
		w, src := p.entry(deref(item), a)
		t.Workload = append(t.Workload, w)
		p.src.entries = append(p.src.entries, src)
	}
}

// entry reads one item of the workload. An item that is no mapping is kept,
// all stand-ins, so that the items after it keep their index.
func (p *parser) entry(n *yaml.Node, a at) (Workload, entrySource) {
	w := Workload{Line: n.Line}
	var src entrySource
	p.mapping(n, a, workloadFields, func(key string, v *yaml.Node) {
		var ok bool
		switch key {
		case "entry":
			w.Entry, ok = p.str(v, a.with(key))
			src.entry = p.place(v, ok)
		case "rate":
			// ParseRate judges the rate as it reads it: its messages quote
			// the rate as written, in the user's unit.
			w.Rate, ok = p.rate(v, a.with(key))
			src.rate = p.place(v, ok)
		}
	})
	if n.Kind != yaml.MappingNode {
		src.entry.bad, src.rate.bad = true, true
		return w, src
	}
	if src.entry == (place{}) {
		p.errorf(n, a.with("entry"), "missing; name the service where these requests arrive")
		src.entry.bad = true
	}
	if src.rate == (place{}) {
		p.errorf(n, a.with("rate"), "missing; give the arrival rate in requests per second, e.g. rate: 100")
		src.rate.bad = true
	}
	return w, src
}

func (p *parser) services(t *Topology, n *yaml.Node) {
	n = deref(n)
	list := fieldAt("", "services")
	p.src.services = p.place(n, true)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, list, "is %s; it must be a mapping from service name to its settings", kindName(n))
		p.src.services.bad = true
		return
	}
	if len(n.Content) == 0 {
		p.errorf(n, list, "is empty; add at least one service with a service_time")
		p.src.services.bad = true
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := servicePath(k.Value)
		if !p.read(k, fieldAt(path, ""), 2) {
			return
		}
		// A name given twice is validate's to report, as it is for New;
		// both services are read, so that the mistakes of each are found.
		s, src := p.service(k, v, path)
		t.Services = append(t.Services, s)
		p.src.settings = append(p.src.settings, src)
	}
}

// serviceReading is a service as the parser reads it: the service, the
// record of its values, and the values of cv and k, which are judged once
// the distribution is known.
type serviceReading struct {
	s     *Service
	src   serviceSource
	cv, k *yaml.Node
}

// service reads the service named by key, whose settings are n and whose
// path in messages is path. Problems with the service as a whole point to
// its name.
func (p *parser) service(key, n *yaml.Node, path string) (*Service, serviceSource) {
	n = deref(n)
	r := &serviceReading{s: &Service{Name: key.Value, Servers: 1, Replicas: 1, Balancer: BalancerRandom,
		Distribution: Distribution{Kind: Exponential}, Line: key.Line}}
	a := fieldAt(path, "")
	p.mapping(n, a, serviceFields, func(field string, v *yaml.Node) {
		p.serviceField(r, field, v, a.with(field))
	})
	if n.Kind != yaml.MappingNode {
		// Reported by mapping; the service stays, all defaults, so that
		// calls to it are not reported as calls to no service.
		return r.s, serviceSource{unread: true}
	}
	p.missingAndUnused(r, key, a)
	return r.s, r.src
}

// serviceField reads the field of a service at a, with the value v.
func (p *parser) serviceField(r *serviceReading, field string, v *yaml.Node, a at) {
	s, src := r.s, &r.src
	switch field {
	case "servers":
		c, ok := p.integer(v, a)
		if ok {
			s.Servers = c
		}
		src.servers = p.place(v, ok)
	case "replicas":
		n, ok := p.integer(v, a)
		if ok {
			s.Replicas = n
		}
		src.replicas = p.place(v, ok)
	case "balancer":
		b, ok := p.str(v, a)
		if ok {
			s.Balancer = balancerNamed(b)
		}
		src.balancer = p.place(v, ok)
	case "service_time":
		// ParseDuration judges the duration as it reads it: one too short
		// or too long for a time.Duration has no value to judge later.
		var ok bool
		s.ServiceTime, ok = p.duration(v, a)
		src.serviceTime = p.place(v, ok)
	case "distribution":
		d, ok := p.str(v, a)
		if ok {
			s.Distribution.Kind = kindNamed(d)
		}
		src.distribution = p.place(v, ok)
	case "cv":
		var ok bool
		r.cv = v
		s.Distribution.CV, ok = p.number(v, a)
		src.cv.bad = !ok // its place is recorded once the distribution is known
	case "k":
		var ok bool
		r.k = v
		s.Distribution.K, ok = p.integer(v, a)
		src.k.bad = !ok
	case "endpoint":
		u, ok := p.str(v, a)
		if ok {
			s.Endpoint = u
		}
		src.endpoint = p.place(v, ok)
	case "listen":
		l, ok := p.str(v, a)
		if ok {
			s.Listen = l
		}
		src.listen = p.place(v, ok)
	case "hold":
		h, ok := p.boolean(v, a)
		if ok {
			s.Hold = h
		}
		src.hold = p.place(v, ok)
	case "calls":
		s.Calls, src.calls = p.calls(v, a.path+".calls")
	}
}

// missingAndUnused reports the fields a service lacks and the cv or k its
// distribution has no use for: both are about what the file says, and
// neither is known before the whole service is read. A cv or k that is
// used is recorded now, so that validate's problem with it comes after
// these, as when the parser judged it here.
func (p *parser) missingAndUnused(r *serviceReading, key *yaml.Node, a at) {
	src, kind := &r.src, r.s.Distribution.Kind
	if src.serviceTime == (place{}) {
		p.errorf(key, a.with("service_time"), "missing; give the mean service time as a duration, e.g. service_time: 5ms")
		src.serviceTime.bad = true
	}
	switch {
	case kind == Lognormal && r.cv == nil:
		p.errorf(key, a.with("cv"), "missing; a lognormal distribution needs its coefficient of variation, e.g. cv: 1.5")
		src.cv.bad = true
	case kind == Erlang && r.k == nil:
		p.errorf(key, a.with("k"), "missing; an Erlang distribution needs its number of phases, e.g. k: 4")
		src.k.bad = true
	}
	if r.cv != nil {
		if kind != Lognormal {
			p.errorf(r.cv, a.with("cv"), "applies only to distribution: lognormal; remove it or set distribution: lognormal")
		} else {
			src.cv = p.place(r.cv, !src.cv.bad)
		}
	}
	if r.k != nil {
		if kind != Erlang {
			p.errorf(r.k, a.with("k"), "applies only to distribution: erlang; remove it or set distribution: erlang")
		} else {
			src.k = p.place(r.k, !src.k.bad)
		}
	}
}

// kindNamed is the distribution named d, in any case. A name that is none
// is kept as written, for validate to report.
func kindNamed(d string) Kind {
	if k := Kind(strings.ToLower(d)); slices.Contains(Kinds, k) {
		return k
	}
	return Kind(d)
}

// balancerNamed is the policy named b, in any case. A name that is none is
// kept as written, for validate to report.
func balancerNamed(b string) Balancer {
	if p := Balancer(strings.ToLower(b)); slices.Contains(Balancers, p) {
		return p
	}
	return Balancer(b)
}

// calls reads the list of calls at path.
func (p *parser) calls(n *yaml.Node, path string) ([]Call, []callSource) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, fieldAt(path, ""), "is %s; it must be a list such as [{to: db}]", kindName(n))
		return nil, nil
	}
	calls := make([]Call, 0, len(n.Content))
	srcs := make([]callSource, 0, len(n.Content))
	for i, item := range n.Content {
		a := itemAt(path, i)
		if !p.read(item, a, 1) {
			break
		}
		c, src := p.call(deref(item), a)
		calls = append(calls, c)
		srcs = append(srcs, src)
	}
	return calls, srcs
}

// call reads one call. A call that is no mapping, or names no callee, is
// kept with a stand-in callee, so that the calls after it keep their index.
func (p *parser) call(n *yaml.Node, a at) (Call, callSource) {
	c := Call{Probability: 1, Count: 1, Line: n.Line}
	var src callSource
	p.mapping(n, a, callFields, func(key string, v *yaml.Node) {
		switch key {
		case "to":
			var ok bool
			c.To, ok = p.str(v, a.with(key))
			src.to = p.place(v, ok)
		case "probability":
			pr, ok := p.number(v, a.with(key))
			if ok {
				c.Probability = pr
			}
			src.probability = p.place(v, ok)
		case "count":
			cnt, ok := p.integer(v, a.with(key))
			if ok {
				c.Count = cnt
			}
			src.count = p.place(v, ok)
		case "parallel":
			if c.Group == nil {
				c.Group = &Group{}
			}
			src.group = &groupSource{list: p.place(v, true)}
			c.Group.Calls, src.group.calls = p.calls(v, a.path+".parallel")
		case "wait":
			w, ok := p.wait(v, a.with(key))
			if c.Group == nil {
				c.Group = &Group{}
			}
			if ok {
				c.Group.Wait = w
			}
			src.wait = p.place(v, ok)
		}
	})
	if n.Kind != yaml.MappingNode {
		src.to.bad = true
		return c, src
	}
	if src.to == (place{}) && src.group == nil {
		p.errorf(n, a.with("to"), "missing; name the service called")
		src.to.bad = true
	}
	return c, src
}

// wait reads a group's wait: all, any, or a number of calls.
func (p *parser) wait(n *yaml.Node, a at) (int, bool) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(strings.TrimSpace(n.Value)) {
		case "all":
			return WaitAll, true
		case "any":
			return 1, true
		}
	}
	if !p.scalar(n, a, "all, any, or a number of calls") {
		return 0, false
	}
	if _, err := strconv.Atoi(strings.TrimSpace(n.Value)); err != nil {
		p.errorf(n, a, "%q is not all, any or a number of calls; e.g. wait: 2 for a majority of three", n.Value)
		return 0, false
	}
	return p.integer(n, a)
}

// boolean reads true or false.
func (p *parser) boolean(n *yaml.Node, a at) (bool, bool) {
	n = deref(n)
	if !p.scalar(n, a, "true or false") {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(n.Value)) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	p.errorf(n, a, "%q is not true or false", n.Value)
	return false, false
}

// scalar reports whether n is a scalar, and an error at a if not.
func (p *parser) scalar(n *yaml.Node, a at, want string) bool {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, a, "is %s; it must be %s", kindName(n), want)
		return false
	}
	return true
}

func (p *parser) str(n *yaml.Node, a at) (string, bool) {
	n = deref(n)
	if !p.scalar(n, a, "a string") {
		return "", false
	}
	if n.Tag == "!!null" {
		p.errorf(n, a, "is empty; give a value")
		return "", false
	}
	return n.Value, true
}

func (p *parser) number(n *yaml.Node, a at) (float64, bool) {
	n = deref(n)
	if !p.scalar(n, a, "a number") {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.errorf(n, a, "%q is not a number", n.Value)
		return 0, false
	}
	return v, true
}

func (p *parser) integer(n *yaml.Node, a at) (int, bool) {
	v, ok := p.number(n, a)
	if !ok {
		return 0, false
	}
	if v != math.Trunc(v) {
		p.errorf(n, a, "%s is not a whole number; use an integer", n.Value)
		return 0, false
	}
	if math.Abs(v) > 1e15 {
		p.errorf(n, a, "%s is too large", n.Value)
		return 0, false
	}
	return int(v), true
}

func (p *parser) rate(n *yaml.Node, a at) (float64, bool) {
	n = deref(n)
	if !p.scalar(n, a, "a rate in requests per second") {
		return 0, false
	}
	r, err := ParseRate(n.Value)
	if err != nil {
		p.errorf(n, a, "%v", err)
		return 0, false
	}
	return r, true
}

func (p *parser) duration(n *yaml.Node, a at) (time.Duration, bool) {
	n = deref(n)
	if !p.scalar(n, a, "a duration such as 5ms") {
		return 0, false
	}
	d, err := ParseDuration(n.Value)
	if err != nil {
		p.errorf(n, a, "%v", err)
		return 0, false
	}
	return d, true
}

// ParseDuration reads a positive Go duration ("2ms", "1500us", "1.5s") with a
// message that says how to write one when it is not. Its messages name no
// use of the duration: a service time and an SLO target both read with it.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("%s has no unit; write a duration such as %sms or %sus", s, s, s)
	}
	negative := strings.HasPrefix(s, "-")
	d, err := time.ParseDuration(s)
	switch {
	case err != nil && durationSyntax.MatchString(s) && !negative:
		// Well formed, so too long for the int64 nanoseconds of a
		// time.Duration.
		return 0, fmt.Errorf("%s is longer than the longest duration kendall handles, %dh (about 292 years); give a shorter one",
			s, int64(time.Duration(math.MaxInt64)/time.Hour))
	case err != nil && durationSyntax.MatchString(s):
		return 0, errors.New(notPositive(s))
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration; write one such as 5ms, 1500us or 1.2s", s)
	case d == 0 && !negative && strings.ContainsAny(s, "123456789"):
		// time.ParseDuration truncates to whole nanoseconds.
		return 0, fmt.Errorf("%s is shorter than 1ns, the shortest duration kendall handles; give at least 1ns", s)
	case d <= 0:
		return 0, errors.New(notPositive(s))
	}
	return d, nil
}

// durationSyntax is the syntax time.ParseDuration accepts, without its range.
var durationSyntax = regexp.MustCompile(`^[-+]?(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

// ParseRate reads a rate in requests per second, "120", "120/s", "7200/m" or
// "0.5/s", and checks it is one kendall handles, from MinRate to MaxRate.
func ParseRate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	num, unit, hasUnit := strings.Cut(s, "/")
	per := 1.0
	if hasUnit {
		switch strings.TrimSpace(unit) {
		case "s", "1s", "sec", "second":
			per = 1
		case "m", "min", "minute":
			per = 60
		case "h", "hour":
			per = 3600
		default:
			return 0, fmt.Errorf("%q: unknown unit %q; write the rate as requests per second, e.g. 120 or 120/s", s, unit)
		}
	}
	num = strings.TrimSpace(num)
	n, err := strconv.ParseFloat(num, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is not a rate; write requests per second, e.g. 120 or 120/s", s)
	}
	// Out of range, ParseFloat gives ±Inf, which the range below rejects;
	// below the smallest float64 it gives 0, which is no mistake of sign.
	if n == 0 && nonzero(num) {
		n = math.SmallestNonzeroFloat64
	}
	r := n / per
	perSecond := show(s) + " req/s"
	if per != 1 {
		perSecond = fmt.Sprintf("%s = %.3g req/s", show(s), r)
	} else if hasUnit {
		perSecond = show(s)
	}
	if msg := rateProblem(show(s), n, perSecond, r); msg != "" {
		return 0, errors.New(msg)
	}
	return r, nil
}

// nonzero reports whether a number as ParseFloat reads it has a digit other
// than 0 before its exponent.
func nonzero(num string) bool {
	digits := "123456789"
	if lower := strings.ToLower(num); strings.HasPrefix(strings.TrimLeft(lower, "+-"), "0x") {
		num, _, _ = strings.Cut(lower[strings.Index(lower, "x")+1:], "p")
		digits += "abcdef"
	} else {
		num, _, _ = strings.Cut(lower, "e")
	}
	return strings.ContainsAny(num, digits)
}

// kindName names the kind of n, with its article, for "is a list".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "an empty value"
		}
		return fmt.Sprintf("a value (%s)", show(n.Value))
	case yaml.AliasNode:
		return "an alias"
	default:
		return "a document"
	}
}

// deref follows a YAML alias (*name) to the node it stands for.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}
