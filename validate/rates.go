package validate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kendallqn/kendall/topology"
)

// DefaultRates is the default sweep: 10% to 90% of the model's largest
// sustainable rate.
const DefaultRates = "0.1,0.3,0.5,0.7,0.9"

// ParseRates resolves a sweep against the model's largest sustainable rate:
// plain numbers are fractions of it ("0.5"), rates with a unit are absolute
// ("120/s", "7200/m"). The result is sorted, without repeats, and every
// rate is below saturation and within the range kendall handles.
func ParseRates(spec string, maxRate float64) ([]float64, error) {
	var rates []float64
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var r float64
		if f, err := strconv.ParseFloat(part, 64); err == nil {
			if !(f > 0 && f < 1) {
				return nil, fmt.Errorf("%s is not a fraction of the max rate (%s) between 0 and 1; for an absolute rate write %s/s", part, fmtRate(maxRate), part)
			}
			r = f * maxRate
		} else {
			abs, err := topology.ParseRate(part)
			if err != nil {
				return nil, fmt.Errorf("%v (or give a fraction of the max rate, such as 0.5)", err)
			}
			r = abs
		}
		if r < topology.MinRate {
			return nil, fmt.Errorf("%s is %s, below the smallest rate kendall handles (%g req/s)", part, fmtRate(r), topology.MinRate)
		}
		if r >= maxRate {
			return nil, fmt.Errorf("%s is at or past saturation (%s); validate compares steady states, so keep every rate below it (kendall attack shows an overload)",
				part, fmtRate(maxRate))
		}
		rates = append(rates, r)
	}
	if len(rates) == 0 {
		return nil, fmt.Errorf("no rate given; e.g. 0.2,0.5,0.8 (fractions of the max rate) or 50/s,100/s")
	}
	slices.Sort(rates)
	return slices.Compact(rates), nil
}

// Closest is the rate of rates closest to x.
func Closest(rates []float64, x float64) float64 {
	best := rates[0]
	for _, v := range rates {
		if abs(v-x) < abs(best-x) {
			best = v
		}
	}
	return best
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// fmtRate writes a rate with three significant digits and its unit.
func fmtRate(r float64) string {
	return strconv.FormatFloat(r, 'g', 3, 64) + " req/s"
}
