package result

import "testing"

func TestLevels(t *testing.T) {
	if len(Levels) != NumLevels {
		t.Fatalf("NumLevels %d, but %d levels", NumLevels, len(Levels))
	}
	var p Percentiles
	for i, l := range Levels {
		if err := p.Set(l.Name, float64(i)); err != nil {
			t.Fatal(err)
		}
		if v, err := p.Get(l.Name); err != nil || v != float64(i) {
			t.Errorf("%s: %v, %v", l.Name, v, err)
		}
		if LevelOf(l.Name) != l.P {
			t.Errorf("LevelOf(%s) = %v", l.Name, LevelOf(l.Name))
		}
	}
	if _, err := p.Get("p98"); err == nil || LevelOf("p98") != -1 {
		t.Error("p98 is no level")
	}
}
