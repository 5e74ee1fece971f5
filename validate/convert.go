package validate

import (
	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/reports"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/sim"
)

// FromPrediction turns the model's prediction into report figures.
func FromPrediction(p *result.Prediction) *reports.Figures {
	f := &reports.Figures{Stable: p.Stable}
	for _, e := range p.Entries {
		ef := entryFigures(e, nil)
		ef.Labels = e.Labels
		f.Entries = append(f.Entries, ef)
	}
	for _, s := range p.Services {
		f.Services = append(f.Services, reports.ServiceFigures{Name: s.Name, Utilization: s.Utilization})
	}
	return f
}

// FromSimulation turns a simulation's result into report figures.
func FromSimulation(res *sim.Result) *reports.Figures {
	f := &reports.Figures{Stable: res.Stable, Run: map[string]any{
		"requests": res.Run.Requests, "replications": res.Run.Replications, "warmup_requests": res.Run.WarmupRequests,
		"seconds": res.Run.Seconds, "precision_reached": res.Run.PrecisionReached,
	}}
	for _, e := range res.Entries {
		var ci map[string]float64
		if e.CI95 != nil {
			ci = map[string]float64{"mean": e.CI95.Mean}
			for _, l := range result.Levels {
				v, _ := e.CI95.Percentiles.Get(l.Name)
				ci[l.Name] = v
			}
		}
		ef := entryFigures(e.EndToEnd, ci)
		ef.Requests = e.Histogram().TotalCount()
		f.Entries = append(f.Entries, ef)
	}
	for _, s := range res.Services {
		sf := reports.ServiceFigures{Name: s.Name, Utilization: s.Utilization}
		if s.CI95 != nil {
			sf.UtilizationCI = s.CI95.Utilization
		}
		f.Services = append(f.Services, sf)
	}
	return f
}

// FromMeasurement turns an attack's result into report figures, with every
// request sent, failed or not sent counted, and per-second timelines.
func FromMeasurement(res *loadgen.Result) (*reports.Figures, []reports.Timeline) {
	f := &reports.Figures{Stable: true, Run: map[string]any{
		"duration": res.Run.Duration, "rate_requested": res.Run.RateRequested, "rate_achieved": res.Run.RateAchieved,
		"max_lag": res.Run.MaxLag, "trustworthy": res.Run.Trustworthy,
	}}
	if res.Run.InterarrivalCV != nil {
		f.Run["interarrival_cv"] = *res.Run.InterarrivalCV
	}
	var tls []reports.Timeline
	for _, e := range res.Entries {
		ef := entryFigures(e.EndToEnd, nil) // the spread is added by Spread
		ef.Requests = e.Histogram().TotalCount()
		ef.Sent, ef.NotSent = e.Requests, e.NotSent
		if e.Requests > 0 {
			ratio := e.SuccessRatio
			ef.SuccessRatio = &ratio
		}
		ef.StatusCodes = e.StatusCodes
		for _, c := range e.Errors {
			ef.Errors = append(ef.Errors, reports.ErrorCount{Class: c.Class, Count: c.Count, Example: c.Example})
		}
		f.Entries = append(f.Entries, ef)
		tl := reports.Timeline{Entry: e.Entry}
		for _, p := range e.Series {
			if p.Warmup || p.P50 == nil || p.P99 == nil {
				continue
			}
			tl.Seconds = append(tl.Seconds, float64(p.Second))
			tl.P50 = append(tl.P50, *p.P50)
			tl.P99 = append(tl.P99, *p.P99)
			tl.Offered = append(tl.Offered, p.Offered)
			tl.Achieved = append(tl.Achieved, p.Achieved)
		}
		tls = append(tls, tl)
	}
	return f, tls
}

// entryFigures turns an entry of kendall's JSON shape, with its 95%
// half-widths if any (keyed like the JSON: mean, p50, ...), into report
// figures. Figures that do not exist are left out.
func entryFigures(e result.EndToEnd, ci95 map[string]float64) reports.EntryFigures {
	ef := reports.EntryFigures{Entry: e.Entry, Values: map[string]float64{}}
	if e.Mean != nil {
		ef.Values["mean"] = *e.Mean
	}
	if e.Percentiles != nil {
		for _, l := range result.Levels {
			v, _ := e.Percentiles.Get(l.Name)
			ef.Values[l.Name] = v
		}
	}
	if len(ci95) > 0 {
		ef.CI95 = map[string]float64{}
		for _, m := range reports.Metrics {
			if v, ok := ci95[m]; ok {
				ef.CI95[m] = v
			}
		}
	}
	return ef
}
