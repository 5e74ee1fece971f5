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
	p := &parser{file: name}
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
		// Check references and cycles even when fields had errors, so one
		// run reports every problem; a field the parser already reported
		// is not reported again.
		reported := func(field string) bool {
			for _, e := range p.errs {
				if e.Field == field || strings.HasPrefix(field, e.Field+".") {
					return true
				}
			}
			return false
		}
		verrs, vmore := t.validate(name, reported)
		errs, more = append(errs, verrs...), vmore
	}
	if len(errs) > 0 || more {
		return nil, finish(name, errs, more)
	}
	if e := t.checkVisits(name); e != nil {
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
	serviceFields  = []string{"servers", "service_time", "distribution", "cv", "k", "endpoint", "listen", "calls"}
	callFields     = []string{"to", "probability", "count"}
)

type parser struct {
	file       string
	errs       ErrorList
	unreadable bool // the document is not a topology at all; nothing to validate

	budget int    // values left to read; see MaxExpandedNodes
	halt   *Error // the problem that stopped the parser, reported last
	more   bool   // problems past maxErrors were found, and the parser stopped
}

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
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
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// stopped reports whether the parser has stopped reading: past maxErrors
// problems, or past its budget of values.
func (p *parser) stopped() bool { return p.more || p.halt != nil }

// read spends the budget on the values of node n, the field key of path,
// and reports whether the parser may go on. Every node is read at most once
// except through an alias, so only aliases can spend more than the file
// holds. The field's path is built only for the message, since a parse of a
// large file builds no other string per value.
func (p *parser) read(n *yaml.Node, path, key string, values int) bool {
	if p.stopped() {
		return false
	}
	if p.budget -= values; p.budget < 0 {
		p.halt = &Error{File: p.file, Line: n.Line, Field: join(path, key), Msg: fmt.Sprintf(
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
	t := &Topology{File: p.file, index: map[string]int{}}
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
		p.errorf(nil, "", "the file is empty; a topology needs a workload and services (see examples/)")
		p.unreadable = true
		return t
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "", "the document is %s; a topology is a mapping with name, workload and services", kindName(root))
		p.unreadable = true
		return t
	}
	var workload, services *yaml.Node
	p.mapping(root, "", topFields, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			if s, ok := p.str(v, "name"); ok {
				t.Name, t.nameLine = s, v.Line
			}
		case "workload":
			workload = v
		case "services":
			services = v
		}
	})
	if services == nil {
		p.errorf(root, "services", "missing; list the services under services:, each with at least service_time")
	} else {
		p.services(t, services)
	}
	if p.stopped() {
		return t
	}
	if workload == nil {
		p.errorf(root, "workload", "missing; add a workload such as [{entry: %s, rate: 100}] to say where requests arrive and how fast", firstServiceName(t))
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

// mapping walks a YAML mapping at path, reporting unknown and repeated keys,
// and calls fn for each known key.
func (p *parser) mapping(n *yaml.Node, path string, known []string, fn func(key string, k, v *yaml.Node)) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "is %s; it must be a mapping with the fields %s", kindName(n), strings.Join(known, ", "))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if !p.read(k, path, key, 2) {
			return
		}
		if seen[key] {
			p.errorf(k, join(path, key), "appears twice; keep one")
			continue
		}
		seen[key] = true
		if !slices.Contains(known, key) {
			p.errorf(k, join(path, key), "unknown field%s; the fields here are %s", suggest(key, known), strings.Join(known, ", "))
			continue
		}
		fn(key, k, v)
	}
}

func (p *parser) workload(t *Topology, n *yaml.Node) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "workload", "is %s; it must be a list such as [{entry: %s, rate: 100}]", kindName(n), firstServiceName(t))
		return
	}
	if len(n.Content) == 0 {
		p.errorf(n, "workload", "is empty; add at least one entry such as {entry: %s, rate: 100}", firstServiceName(t))
	}
	for i, item := range n.Content {
		path := fmt.Sprintf("workload[%d]", i)
		if !p.read(item, path, "", 1) {
			return
		}
		item = deref(item)
		w := Workload{Line: item.Line}
		var hasEntry, hasRate bool
		p.mapping(item, path, workloadFields, func(key string, k, v *yaml.Node) {
			switch key {
			case "entry":
				hasEntry = true
				w.Entry, _ = p.str(v, path+".entry")
			case "rate":
				hasRate = true
				w.Rate, _ = p.rate(v, path+".rate")
			}
		})
		if item.Kind != yaml.MappingNode {
			continue
		}
		if !hasEntry {
			p.errorf(item, path+".entry", "missing; name the service where these requests arrive")
		}
		if !hasRate {
			p.errorf(item, path+".rate", "missing; give the arrival rate in requests per second, e.g. rate: 100")
		}
		t.Workload = append(t.Workload, w)
	}
}

func (p *parser) services(t *Topology, n *yaml.Node) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "services", "is %s; it must be a mapping from service name to its settings", kindName(n))
		return
	}
	if len(n.Content) == 0 {
		p.errorf(n, "services", "is empty; add at least one service with a service_time")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if !p.read(k, servicePath(name), "", 2) {
			return
		}
		if _, dup := t.index[name]; dup {
			p.errorf(k, servicePath(name), "appears twice; service names must be unique")
			continue
		}
		s := p.service(name, k, v)
		t.index[name] = len(t.Services)
		t.Services = append(t.Services, s)
	}
}

// service reads one service; key is its name's node, where errors about
// missing fields point.
func (p *parser) service(name string, key, n *yaml.Node) *Service {
	n = deref(n)
	s := &Service{Name: name, Servers: 1, Distribution: Distribution{Kind: Exponential}, Line: key.Line}
	path := servicePath(name)
	var hasTime, cvOK, kOK bool
	var cvNode, kNode *yaml.Node
	p.mapping(n, path, serviceFields, func(key string, k, v *yaml.Node) {
		field := path + "." + key
		switch key {
		case "servers":
			if c, ok := p.integer(v, field); ok {
				switch {
				case c < 1:
					p.errorf(v, field, "%d workers; a service needs at least 1", c)
				case c > MaxServers:
					p.errorf(v, field, "%d workers; kendall handles up to %d per service", c, MaxServers)
				}
				s.Servers = c
			}
		case "service_time":
			hasTime = true
			s.ServiceTime, _ = p.duration(v, field)
		case "distribution":
			if d, ok := p.str(v, field); ok {
				kind := Kind(strings.ToLower(d))
				if !slices.Contains(Kinds, kind) {
					names := make([]string, len(Kinds))
					for i, k := range Kinds {
						names[i] = string(k)
					}
					p.errorf(v, field, "unknown distribution %q%s; use one of %s", d, suggest(d, names), strings.Join(names, ", "))
				} else {
					s.Distribution.Kind = kind
				}
			}
		case "cv":
			// Checked below, once the distribution is known.
			cvNode = v
			s.Distribution.CV, cvOK = p.number(v, field)
		case "k":
			kNode = v
			s.Distribution.K, kOK = p.integer(v, field)
		case "endpoint":
			if u, ok := p.str(v, field); ok {
				if msg := checkURL(u); msg != "" {
					p.errorf(v, field, "%s", msg)
				}
				s.Endpoint = u
			}
		case "listen":
			if a, ok := p.str(v, field); ok {
				if msg := checkListen(a); msg != "" {
					p.errorf(v, field, "%s", msg)
				}
				s.Listen = a
			}
		case "calls":
			s.Calls = p.calls(v, path+".calls")
		}
	})
	if n.Kind != yaml.MappingNode {
		return s
	}
	if !hasTime {
		p.errorf(key, path+".service_time", "missing; give the mean service time as a duration, e.g. service_time: 5ms")
	}
	switch s.Distribution.Kind {
	case Lognormal:
		if cvNode == nil {
			p.errorf(key, path+".cv", "missing; a lognormal distribution needs its coefficient of variation, e.g. cv: 1.5")
		}
	case Erlang:
		if kNode == nil {
			p.errorf(key, path+".k", "missing; an Erlang distribution needs its number of phases, e.g. k: 4")
		}
	}
	// The rules for cv and k are validate's; they are applied here too for
	// the line of the value itself, where validate knows only the service's.
	if cvNode != nil {
		if s.Distribution.Kind != Lognormal {
			p.errorf(cvNode, path+".cv", "applies only to distribution: lognormal; remove it or set distribution: lognormal")
		} else if msg := cvProblem(s.Distribution.CV); cvOK && msg != "" {
			p.errorf(cvNode, path+".cv", "%s", msg)
		}
	}
	if kNode != nil {
		if s.Distribution.Kind != Erlang {
			p.errorf(kNode, path+".k", "applies only to distribution: erlang; remove it or set distribution: erlang")
		} else if msg := phasesProblem(s.Distribution.K); kOK && msg != "" {
			p.errorf(kNode, path+".k", "%s", msg)
		}
	}
	return s
}

func (p *parser) calls(n *yaml.Node, path string) []Call {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "is %s; it must be a list such as [{to: db}]", kindName(n))
		return nil
	}
	calls := make([]Call, 0, len(n.Content))
	for i, item := range n.Content {
		cpath := path + "[" + strconv.Itoa(i) + "]"
		if !p.read(item, cpath, "", 1) {
			break
		}
		item = deref(item)
		c := Call{Probability: 1, Count: 1, Line: item.Line}
		var hasTo bool
		p.mapping(item, cpath, callFields, func(key string, k, v *yaml.Node) {
			field := cpath + "." + key
			switch key {
			case "to":
				hasTo = true
				c.To, _ = p.str(v, field)
			case "probability":
				if pr, ok := p.number(v, field); ok {
					if !(pr >= 0 && pr <= 1) {
						p.errorf(v, field, "%v is not a probability; use a number from 0 to 1", pr)
					}
					c.Probability = pr
				}
			case "count":
				// validate's rule, applied here for the line of the count.
				if cnt, ok := p.integer(v, field); ok {
					if msg := countProblem(cnt); msg != "" {
						p.errorf(v, field, "%s", msg)
					}
					c.Count = cnt
				}
			}
		})
		if item.Kind != yaml.MappingNode {
			continue
		}
		if !hasTo {
			p.errorf(item, cpath+".to", "missing; name the service called")
			continue
		}
		calls = append(calls, c)
	}
	return calls
}

// scalar reports whether n is a scalar, and an error naming field if not.
func (p *parser) scalar(n *yaml.Node, field, want string) bool {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, field, "is %s; it must be %s", kindName(n), want)
		return false
	}
	return true
}

func (p *parser) str(n *yaml.Node, field string) (string, bool) {
	n = deref(n)
	if !p.scalar(n, field, "a string") {
		return "", false
	}
	if n.Tag == "!!null" {
		p.errorf(n, field, "is empty; give a value")
		return "", false
	}
	return n.Value, true
}

func (p *parser) number(n *yaml.Node, field string) (float64, bool) {
	n = deref(n)
	if !p.scalar(n, field, "a number") {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.errorf(n, field, "%q is not a number", n.Value)
		return 0, false
	}
	return v, true
}

func (p *parser) integer(n *yaml.Node, field string) (int, bool) {
	v, ok := p.number(n, field)
	if !ok {
		return 0, false
	}
	if v != math.Trunc(v) {
		p.errorf(n, field, "%s is not a whole number; use an integer", n.Value)
		return 0, false
	}
	if math.Abs(v) > 1e15 {
		p.errorf(n, field, "%s is too large", n.Value)
		return 0, false
	}
	return int(v), true
}

func (p *parser) rate(n *yaml.Node, field string) (float64, bool) {
	n = deref(n)
	if !p.scalar(n, field, "a rate in requests per second") {
		return 0, false
	}
	r, err := ParseRate(n.Value)
	if err != nil {
		p.errorf(n, field, "%v", err)
		return 0, false
	}
	return r, true
}

func (p *parser) duration(n *yaml.Node, field string) (time.Duration, bool) {
	n = deref(n)
	if !p.scalar(n, field, "a duration such as 5ms") {
		return 0, false
	}
	d, err := ParseDuration(n.Value)
	if err != nil {
		p.errorf(n, field, "%v", err)
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
		return 0, fmt.Errorf("%s is not positive; give a duration more than zero", s)
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration; write one such as 5ms, 1500us or 1.2s", s)
	case d == 0 && !negative && strings.ContainsAny(s, "123456789"):
		// time.ParseDuration truncates to whole nanoseconds.
		return 0, fmt.Errorf("%s is shorter than 1ns, the shortest duration kendall handles; give at least 1ns", s)
	case d <= 0:
		return 0, fmt.Errorf("%s is not positive; give a duration more than zero", s)
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

func checkURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok || (scheme != "http" && scheme != "https") || rest == "" || strings.HasPrefix(rest, "/") {
		return fmt.Sprintf("%q is not an http or https URL; write one such as http://127.0.0.1:8080/checkout", u)
	}
	return ""
}

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
