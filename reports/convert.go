package reports

import "github.com/kendallqn/kendall/model"

// FromPrediction turns the model's prediction into report figures.
func FromPrediction(p *model.Prediction) *Figures {
	f := &Figures{Stable: p.Stable}
	for _, e := range p.Entries {
		f.Entries = append(f.Entries, EntryFromResult(e, nil))
	}
	for _, s := range p.Services {
		f.Services = append(f.Services, ServiceFigures{Name: s.Name, Utilization: s.Utilization})
	}
	return f
}

// EntryFromResult turns an entry of kendall's JSON shape, with its 95%
// half-widths if any (keyed like the JSON: mean, p50, ...), into report
// figures. Figures that do not exist are left out.
func EntryFromResult(e model.EntryResult, ci95 map[string]float64) EntryFigures {
	ef := EntryFigures{Entry: e.Entry, Values: map[string]float64{}}
	if e.Mean != nil {
		ef.Values["mean"] = *e.Mean
	}
	if e.Percentiles != nil {
		for _, l := range model.Levels {
			v, _ := e.Percentiles.Get(l.Name)
			ef.Values[l.Name] = v
		}
	}
	if len(ci95) > 0 {
		ef.CI95 = map[string]float64{}
		for _, m := range Metrics {
			if v, ok := ci95[m]; ok {
				ef.CI95[m] = v
			}
		}
	}
	return ef
}
