package sim

import (
	"testing"

	"github.com/kendallqn/kendall/model"
)

// TestLevels holds nLevels, the number of percentile figures per service
// and per entry, to the percentiles the model reports.
func TestLevels(t *testing.T) {
	if nLevels != len(model.Levels) {
		t.Fatalf("nLevels is %d but model.Levels has %d percentiles: set nLevels to len(model.Levels)", nLevels, len(model.Levels))
	}
}
