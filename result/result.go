// Package result is the shape in which kendall reports figures: the JSON
// contract of predict, simulate, attack and validate. The model, the
// simulator and the load generator all answer in these types, so that a
// figure has one name and one meaning wherever it comes from; each view
// adds its own fields beside them (a simulation's confidence intervals, a
// measurement's requests and failures). It is a leaf: it imports nothing
// of kendall.
//
// Times are in seconds, rates in requests per second. Figures that do not
// exist, because a service saturates or nothing was measured, are nil
// (JSON null).
package result

import "fmt"

// Summary is what a topology at one workload is as a whole: whether it is
// stable, its largest sustainable rate and the service that limits it.
// These depend on the file alone and are computed, in every view.
type Summary struct {
	Topology    string  `json:"topology"`
	Stable      bool    `json:"stable"`
	Approximate bool    `json:"approximate"`
	Rate        float64 `json:"rate"`       // total external rate
	MaxRate     float64 `json:"max_rate"`   // largest total rate with every service below saturation
	Bottleneck  string  `json:"bottleneck"` // the service that saturates first
	Headroom    float64 `json:"headroom"`   // MaxRate / Rate
}

// Prediction is the model's answer for one topology at one workload, the
// object predict --json prints.
type Prediction struct {
	Summary
	Services []Service  `json:"services"` // in file order
	Entries  []EndToEnd `json:"entries"`  // in workload order
}

// Service is one service as a station: its load and the per-visit figures
// (wait and own service, not the calls it makes).
type Service struct {
	Name    string `json:"name"`
	Servers int    `json:"servers"` // per replica
	// Replicas and Balancer are the service's replicas, each Servers
	// workers with a queue of its own, and how callers choose among them;
	// omitted for a service of one replica.
	Replicas        int          `json:"replicas,omitempty"`
	Balancer        string       `json:"balancer,omitempty"`
	ServiceTime     float64      `json:"service_time"` // mean
	Distribution    string       `json:"distribution"`
	ArrivalRate     float64      `json:"arrival_rate"`
	Utilization     float64      `json:"utilization"` // offered: may exceed 1 when saturated
	WaitProbability *float64     `json:"wait_probability"`
	MeanWait        *float64     `json:"mean_wait"`
	MeanResponse    *float64     `json:"mean_response"`
	MeanQueueLength *float64     `json:"mean_queue_length"`
	MeanInSystem    *float64     `json:"mean_in_system"`
	Percentiles     *Percentiles `json:"percentiles"`
	Approximate     bool         `json:"approximate"` // some figure of it is approximate (see Labels)
	// Labels say, figure by figure, whether the model's figure is exact or
	// approximate, and why; nil for figures that are estimated, not
	// computed.
	Labels Labels `json:"labels,omitempty"`
	// CI95 holds the 95% confidence half-widths of the figures of an
	// estimate (a simulation); nil for computed ones.
	CI95 *ServiceCI `json:"ci95,omitempty"`
}

// EndToEnd is the latency of the requests arriving at one workload entry:
// the whole call tree of each request.
type EndToEnd struct {
	Entry       string       `json:"entry"`
	Rate        float64      `json:"rate"`
	Mean        *float64     `json:"mean"`
	Percentiles *Percentiles `json:"percentiles"`
	// Labels say whether the model's mean and percentiles are exact or
	// approximate, and why.
	Labels Labels `json:"labels,omitempty"`
	// CI95 holds the 95% confidence half-widths of the figures of an
	// estimate (a simulation); nil for computed ones.
	CI95 *EntryCI `json:"ci95,omitempty"`
}

// Label says how the model obtained a figure: exactly, because a theorem
// covers it for this topology (Basis names it), or approximately (Basis
// names the approximation, Why says in plain words what the topology does
// that theory does not cover, and Error the size of the error the accuracy
// table measured for such cases, when it knows it).
type Label struct {
	Exact bool   `json:"exact"`
	Basis string `json:"basis"`
	Why   string `json:"why,omitempty"`
	Error string `json:"error,omitempty"`
}

// Labels are the labels of the figures of a service or an entry, by the
// figure's JSON name: for a service "wait_probability", "mean_wait",
// "mean_response" and "percentiles" (which also covers mean_queue_length
// and mean_in_system, computed from the means by Little's law); for an
// entry "mean" and "percentiles". Utilization is always exact (the rate
// in times the mean service time, whatever the distributions).
type Labels map[string]Label

// Figure names of the labels.
const (
	FigWaitProbability = "wait_probability"
	FigMeanWait        = "mean_wait"
	FigMeanResponse    = "mean_response"
	FigMean            = "mean"
	FigPercentiles     = "percentiles"
)

// Approximate reports whether any of the labels is approximate.
func (l Labels) Approximate() bool {
	for _, x := range l {
		if !x.Exact {
			return true
		}
	}
	return false
}

// ServiceCI holds the confidence half-widths of a service's figures, under
// the figures' names: the interval is the figure ± the half-width.
type ServiceCI struct {
	ArrivalRate     float64 `json:"arrival_rate"`
	Utilization     float64 `json:"utilization"`
	WaitProbability float64 `json:"wait_probability"`
	MeanWait        float64 `json:"mean_wait"`
	MeanResponse    float64 `json:"mean_response"`
	MeanQueueLength float64 `json:"mean_queue_length"`
	MeanInSystem    float64 `json:"mean_in_system"`
	Percentiles
}

// EntryCI holds the confidence half-widths of an entry's figures.
type EntryCI struct {
	Mean float64 `json:"mean"`
	Percentiles
}

// Percentiles of a latency, in seconds.
type Percentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
}

// Level is one reported percentile: its name in JSON and flags, and its
// probability.
type Level struct {
	Name string  // "p99"
	P    float64 // 0.99
}

// Levels are the percentiles kendall reports, in increasing order.
var Levels = []Level{{"p50", 0.50}, {"p90", 0.90}, {"p95", 0.95}, {"p99", 0.99}, {"p999", 0.999}}

// NumLevels is len(Levels), for arrays with one element per level.
const NumLevels = 5

// LevelOf returns the probability of the named percentile, or -1.
func LevelOf(name string) float64 {
	for _, l := range Levels {
		if l.Name == name {
			return l.P
		}
	}
	return -1
}

// Get returns the percentile named by a Level name ("p99").
func (p *Percentiles) Get(name string) (float64, error) {
	ptr, err := p.field(name)
	if err != nil {
		return 0, err
	}
	return *ptr, nil
}

// Set sets the percentile named by a Level name.
func (p *Percentiles) Set(name string, v float64) error {
	ptr, err := p.field(name)
	if err != nil {
		return err
	}
	*ptr = v
	return nil
}

func (p *Percentiles) field(name string) (*float64, error) {
	switch name {
	case "p50":
		return &p.P50, nil
	case "p90":
		return &p.P90, nil
	case "p95":
		return &p.P95, nil
	case "p99":
		return &p.P99, nil
	case "p999":
		return &p.P999, nil
	}
	return nil, fmt.Errorf("unknown percentile %q; use one of p50, p90, p95, p99, p999", name)
}
