package topology

// The parser builds the topology and records, beside it, where in the file
// it found each value. validate checks the rules for Parse and New alike;
// from the record it reports a problem at the line of the value itself,
// where the user will look for it, rather than at the line of the service
// that holds it. New has no file and records nothing, so validate falls back
// to the Line fields of the values it was given.
//
// The record is kept apart from Service, Call and Workload, which other
// packages build, copy and compare, and it lives only as long as Parse.

// place is where the parser found one value.
type place struct {
	// line is the value's line, 1-based; 0 when nothing was recorded.
	// Both numbers are 32 bits because there is a place for every value
	// read, and a file of aliases stands for a million of them.
	line int32
	// step is when the parser came to the value: problems on one line,
	// found by the parser and by validate, come in the order of reading.
	step int32
	// bad says the parser has reported the value, as missing or not
	// readable, and left a stand-in (a zero, an empty name) that
	// validate must not report a second time.
	bad bool
}

// lineOr is the line of the value, or line when none was recorded.
func (pl place) lineOr(line int) int {
	if pl.line == 0 {
		return line
	}
	return int(pl.line)
}

// source is the record of one file: the places of its values, item by
// item, in the order of Topology.Workload and Topology.Services. New's is
// empty.
type source struct {
	name               place
	workload, services place // bad when the list is missing, empty or not a list
	entries            []entrySource
	settings           []serviceSource
}

type entrySource struct{ entry, rate place }

type serviceSource struct {
	// unread says the service's settings are not a mapping; the parser
	// reported that, and validate says nothing more about the service.
	unread bool

	servers, replicas, balancer, serviceTime, distribution, cv, k, endpoint, listen, hold place
	calls                                                                                 []callSource
}

type callSource struct {
	to, probability, count, wait place
	group                        *groupSource // nil unless the call has a parallel: list
}

// groupSource is the record of a group: its parallel: list and its calls.
type groupSource struct {
	list  place
	calls []callSource
}

// branch is the record of the i-th call of a group.
func (src callSource) branch(i int) callSource {
	if src.group != nil && i < len(src.group.calls) {
		return src.group.calls[i]
	}
	return callSource{}
}

// list is the place of a group's parallel: list.
func (src callSource) list() place {
	if src.group == nil {
		return place{}
	}
	return src.group.list
}

// The accessors give an empty record past the end of what was recorded,
// which is everywhere for a topology built by New.

func (src *source) entry(i int) entrySource {
	if i < len(src.entries) {
		return src.entries[i]
	}
	return entrySource{}
}

func (src *source) service(i int) *serviceSource {
	if i < len(src.settings) {
		return &src.settings[i]
	}
	return &serviceSource{}
}

func (src *serviceSource) call(i int) callSource {
	if i < len(src.calls) {
		return src.calls[i]
	}
	return callSource{}
}
