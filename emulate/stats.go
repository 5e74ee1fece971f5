package emulate

import (
	"math"

	"github.com/kendallqn/kendall/internal/moments"
)

// ServiceStats is the live state of one emulated service and what it has
// realized so far. Times are in seconds.
type ServiceStats struct {
	Name         string  `json:"name"`
	URL          string  `json:"url"`
	MetricsURL   string  `json:"metrics_url"`
	Servers      int     `json:"servers"`
	ServiceTime  float64 `json:"service_time"` // the file's mean
	Distribution string  `json:"distribution"`
	TargetCV     float64 `json:"target_cv"` // the coefficient of variation of the distribution
	Requests     int64   `json:"requests"`  // received
	Served       int64   `json:"served"`    // service times completed
	Busy         int     `json:"busy"`      // workers holding a request now
	QueueLength  int     `json:"queue_length"`
	InFlight     int64   `json:"in_flight"` // requests in the service: queued, in service, or in its calls
	// RealizedMean and RealizedCV are of the service times as realized:
	// how long each request held its worker, from the moment the worker
	// was handed to it to the moment it was released. nil before any.
	RealizedMean *float64 `json:"realized_mean"`
	RealizedCV   *float64 `json:"realized_cv"`
	// DrawnMean and DrawnCV are of the service times as drawn from the
	// distribution: what a perfect emulator would have realized. The
	// difference between drawn and file is sampling; between realized
	// and drawn, emulation. Both are of the requests served: one cut
	// short by Close is in neither, nor in Served.
	DrawnMean  *float64 `json:"drawn_mean"`
	DrawnCV    *float64 `json:"drawn_cv"`
	CallErrors int64    `json:"call_errors"` // calls to callees that failed
	Timer      string   `json:"timer"`       // how service times are waited: timerfd, or go
}

func (s *service) stats() ServiceStats {
	busy, queued := s.pool.state()
	st := ServiceStats{
		Name:         s.spec.Name,
		URL:          s.url,
		MetricsURL:   s.url + "metrics",
		Servers:      s.spec.Servers,
		ServiceTime:  s.spec.MeanSeconds(),
		Distribution: s.spec.Distribution.String(),
		Requests:     s.requests.Load(),
		Busy:         busy,
		QueueLength:  queued,
		InFlight:     s.inFlight.Load(),
		CallErrors:   s.callErrs.Load(),
		Timer:        s.timer,
	}
	st.TargetCV = math.Sqrt(s.spec.Distribution.SCV())
	s.statsMu.Lock()
	realized, drawn := s.realized, s.drawn
	s.statsMu.Unlock()
	st.Served = realized.N()
	st.RealizedMean, st.RealizedCV = meanCV(realized)
	st.DrawnMean, st.DrawnCV = meanCV(drawn)
	return st
}

func meanCV(m moments.Moments) (mean, cv *float64) {
	if m.N() > 0 {
		v := m.Mean()
		mean = &v
	}
	if m.N() > 1 {
		v := m.CV()
		cv = &v
	}
	return mean, cv
}
