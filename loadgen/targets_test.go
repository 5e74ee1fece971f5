package loadgen

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kendallqn/kendall/topology"
)

const twoEntries = `
name: two
workload:
  - {entry: a, rate: 10}
  - {entry: b, rate: 30}
services:
  a: {service_time: 1ms, endpoint: "http://127.0.0.1:8081/"}
  b: {service_time: 1ms}
`

// TestTopologyTargets takes the entries at their endpoint: URLs, and names
// those without one.
func TestTopologyTargets(t *testing.T) {
	top, err := topology.Parse("two.yaml", []byte(twoEntries))
	if err != nil {
		t.Fatal(err)
	}
	_, err = TopologyTargets(top)
	if !errors.Is(err, ErrNoEndpoint) || err.Error() != "two.yaml: workload entry b has no endpoint: give the service an endpoint: URL where it answers" {
		t.Errorf("an entry without an endpoint: %v", err)
	}
	top.Service("b").Endpoint = "http://127.0.0.1:8082/"
	targets, err := TopologyTargets(top)
	want := []Target{{Name: "a", URL: "http://127.0.0.1:8081/", Rate: 10}, {Name: "b", URL: "http://127.0.0.1:8082/", Rate: 30}}
	if err != nil || !slices.EqualFunc(targets, want, sameTarget) {
		t.Errorf("targets %+v, %v; want %+v", targets, err, want)
	}
}

// TestTargetsAt takes the entries at the URLs a lookup gives, as for an
// emulated topology, and names those it gives none.
func TestTargetsAt(t *testing.T) {
	top, err := topology.Parse("two.yaml", []byte(twoEntries))
	if err != nil {
		t.Fatal(err)
	}
	targets, err := TargetsAt(top, func(service string) string { return "http://emulated/" + service })
	want := []Target{{Name: "a", URL: "http://emulated/a", Rate: 10}, {Name: "b", URL: "http://emulated/b", Rate: 30}}
	if err != nil || !slices.EqualFunc(targets, want, sameTarget) {
		t.Errorf("targets %+v, %v; want %+v", targets, err, want)
	}
	_, err = TargetsAt(top, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "workload entry a, b has no URL") {
		t.Errorf("no URLs: %v", err)
	}
}

func sameTarget(a, b Target) bool { return a.Name == b.Name && a.URL == b.URL && a.Rate == b.Rate }
