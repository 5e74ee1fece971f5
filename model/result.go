package model

import "fmt"

// Prediction is the model's answer for one topology at one workload, and the
// JSON shape kendall prints (predict --json) and builds on: the simulator
// and the load generator report in the same shape, so a figure has one name
// wherever it comes from. Times are in seconds, rates in requests per second.
// Figures that do not exist, because a service saturates, are nil (JSON
// null).
type Prediction struct {
	Topology    string  `json:"topology"`
	Stable      bool    `json:"stable"`
	Approximate bool    `json:"approximate"`
	Rate        float64 `json:"rate"`       // total external rate
	MaxRate     float64 `json:"max_rate"`   // largest total rate with every service below saturation
	Bottleneck  string  `json:"bottleneck"` // the service that saturates first
	Headroom    float64 `json:"headroom"`   // MaxRate / Rate

	Services []ServiceResult `json:"services"` // in file order
	Entries  []EntryResult   `json:"entries"`  // in workload order
}

// ServiceResult is one service as a station: its load and the per-visit
// figures (wait and own service, not the calls it makes).
type ServiceResult struct {
	Name            string       `json:"name"`
	Servers         int          `json:"servers"`
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
	Approximate     bool         `json:"approximate"` // the station is M/G/c, not M/M/c
}

// EntryResult is the end-to-end latency of the requests arriving at one
// workload entry: the whole call tree of each request.
type EntryResult struct {
	Entry       string       `json:"entry"`
	Rate        float64      `json:"rate"`
	Mean        *float64     `json:"mean"`
	Percentiles *Percentiles `json:"percentiles"`
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

func ptr(v float64) *float64 { return &v }
