package reports

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

// sample builds a report of the shop example: the real model over a sweep,
// with a simulation and a measurement made up from it (seeded noise, and a
// measurement that drifts at the highest rate), a timeline and CCDFs.
func sample(t *testing.T) *Report {
	t.Helper()
	topo, err := topology.Load(filepath.Join("..", "examples", "shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n := model.Analyze(topo)
	maxRate, bottleneck := n.MaxRate()
	r := &Report{
		Topology: topo.Name, File: "examples/shop.yaml", Created: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC),
		MaxRate: maxRate, Bottleneck: bottleneck, Entries: []string{"gateway"},
		Settings: Settings{Duration: 20, Warmup: 2, Precision: 0.01, Seed: 1, Target: "emulation"},
	}
	for _, s := range topo.Services {
		r.Services = append(r.Services, s.Name)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	jitter := func(f *Figures, scale float64) *Figures {
		out := &Figures{Stable: f.Stable}
		for _, e := range f.Entries {
			ef := EntryFigures{Entry: e.Entry, Values: map[string]float64{}, CI95: map[string]float64{}}
			for k, v := range e.Values {
				ef.Values[k] = v * (1 + scale*rng.NormFloat64())
				ef.CI95[k] = v * scale
			}
			out.Entries = append(out.Entries, ef)
		}
		for _, s := range f.Services {
			out.Services = append(out.Services, ServiceFigures{Name: s.Name, Utilization: s.Utilization * (1 + scale*rng.NormFloat64()), UtilizationCI: s.Utilization * scale})
		}
		return out
	}
	for i, frac := range []float64{0.2, 0.4, 0.6, 0.8} {
		at, _ := topo.WithRate(frac * maxRate)
		mf := modelFigures(model.Analyze(at).Predict())
		pt := Point{Rate: frac * maxRate, Fraction: frac, Model: mf, Simulation: jitter(mf, 0.01), Measurement: jitter(mf, 0.03)}
		if i == 3 {
			for k := range pt.Measurement.Entries[0].Values {
				pt.Measurement.Entries[0].Values[k] *= 1.4 // drifts
			}
		}
		tl := Timeline{Entry: "gateway"}
		for s := 0; s < 20; s++ {
			tl.Seconds = append(tl.Seconds, float64(s))
			tl.P50 = append(tl.P50, mf.Entries[0].Values["p50"]*(1+0.05*rng.NormFloat64()))
			tl.P99 = append(tl.P99, mf.Entries[0].Values["p99"]*(1+0.1*rng.NormFloat64()))
			tl.Offered = append(tl.Offered, frac*maxRate*(1+0.05*rng.NormFloat64()))
			tl.Achieved = append(tl.Achieved, frac*maxRate*(1+0.05*rng.NormFloat64()))
		}
		pt.Timelines = []Timeline{tl}
		r.Points = append(r.Points, pt)
	}
	for frac := 0.02; frac < 0.96; frac += 0.02 {
		at, _ := topo.WithRate(frac * maxRate)
		r.Curve = append(r.Curve, CurvePoint{Rate: frac * maxRate, Model: modelFigures(model.Analyze(at).Predict())})
	}
	at, _ := topo.WithRate(0.8 * maxRate)
	an := model.Analyze(at)
	d := &Distribution{Rate: 0.8 * maxRate}
	for _, src := range []string{Model, Simulation, Measurement} {
		c := Curve{Source: src, Entry: "gateway"}
		for x := 0.001; x < 0.4; x *= 1.1 {
			p := an.EndToEndSurvival(0, x)
			if src != Model {
				p = math.Min(1, p*(1+0.1*rng.NormFloat64()))
			}
			c.Points = append(c.Points, [2]float64{x, p})
		}
		d.Curves = append(d.Curves, c)
	}
	r.Distribution = d
	return r
}

// TestRenderFiles checks every file a report writes: each plot as a PNG
// that decodes, has the stated size and is not blank, and as an SVG that
// parses; report.md with its tables; index.html self-contained.
func TestRenderFiles(t *testing.T) {
	dir := t.TempDir()
	r := sample(t)
	figs, err := Render(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	// latency, ccdf, utilization, and four timelines.
	if len(figs) != 7 {
		t.Errorf("%d figures, want 7: %v", len(figs), figs)
	}
	for _, f := range figs {
		checkPNG(t, filepath.Join(dir, f.Name+".png"), f)
		checkSVG(t, filepath.Join(dir, f.Name+".svg"))
		if !strings.Contains(f.Title, "shop") {
			t.Errorf("%s: title %q does not name the topology", f.Name, f.Title)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# kendall validation: shop", "| total rate (req/s) | % of max | statistic | model | simulation ± 95% CI | measured ± 95% run spread |", "![", "(latency-gateway.png)", "**-"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(page, []byte("<svg")); n != len(figs) {
		t.Errorf("index.html embeds %d SVGs, want %d", n, len(figs))
	}
	for _, bad := range []string{"<img", "src=\"http", "<script", "<link"} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("index.html is not self-contained: has %q", bad)
		}
	}
	if !bytes.Contains(page, []byte(`class="drift"`)) {
		t.Error("index.html highlights no drifting figure; the sample drifts at 80%")
	}
}

func checkPNG(t *testing.T, path string, f Figure) {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	img, err := png.Decode(file)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	w, h := f.Pixels()
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: %dx%d pixels, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
	if frac := inked(img); frac < 0.01 {
		t.Errorf("%s: only %.2f%% of pixels are not background: blank", path, 100*frac)
	}
}

// inked is the fraction of pixels that differ from the top-left one (the
// background).
func inked(img image.Image) float64 {
	b := img.Bounds()
	r0, g0, b0, _ := img.At(b.Min.X, b.Min.Y).RGBA()
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r != r0 || g != g0 || bb != b0 {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}

func checkSVG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	elements, paths := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			elements++
			if se.Name.Local == "path" {
				paths++
			}
			if elements == 1 && se.Name.Local != "svg" {
				t.Fatalf("%s: root element %q, want svg", path, se.Name.Local)
			}
		}
	}
	if paths < 20 {
		t.Errorf("%s: %d paths; a plot with axes and data has many more", path, paths)
	}
}

// TestReportRoundTrip renders a report, reads report.json back and renders
// it again elsewhere: the JSON and the Markdown must come out the same.
func TestReportRoundTrip(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if _, err := Render(a, sample(t)); err != nil {
		t.Fatal(err)
	}
	r, err := Load(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Render(b, r); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"report.json", "report.md", "index.html"} {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs after a round trip through report.json", name)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "no report.json here") {
		t.Errorf("empty dir: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "report.json"), []byte("{not json"), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a kendall report") {
		t.Errorf("bad json: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "report.json"), []byte(`{"version": 99}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "report version 99") {
		t.Errorf("future version: %v", err)
	}
}

func TestSummary(t *testing.T) {
	r := sample(t)
	for i := range r.Points {
		r.Points[i].Compare(r.Entries)
	}
	s := strings.Join(Summary(r), "\n")
	for _, want := range []string{"Model vs simulation: holds within 10% on every figure at all 4 rates", "Model vs measurement: holds within 10% at", "drifts at 1 rate(s)", "Measured knee (gateway)"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	r.Partial = true
	if s := Summary(r); !strings.HasPrefix(s[0], "PARTIAL") {
		t.Errorf("partial report not flagged: %v", s)
	}
}

// TestCompareSkipsFewRequests checks that a percentile estimated from too
// few requests beyond it is neither compared nor left unmarked.
func TestCompareSkipsFewRequests(t *testing.T) {
	fig := func(v float64, n int64) *Figures {
		vals := map[string]float64{}
		for _, m := range Metrics {
			vals[m] = v
		}
		return &Figures{Stable: true, Entries: []EntryFigures{{Entry: "e", Values: vals, Requests: n}}}
	}
	pt := Point{Rate: 1, Model: fig(1, 0), Measurement: fig(2, 500)}
	pt.Compare([]string{"e"})
	got := map[string]bool{}
	for _, d := range pt.Differences {
		got[d.Metric] = true
	}
	// 500 requests: 5 beyond p99, 0.5 beyond p99.9; 25 beyond p95.
	for m, want := range map[string]bool{"mean": true, "p50": true, "p95": true, "p99": false, "p999": false} {
		if got[m] != want {
			t.Errorf("%s compared = %v, want %v", m, got[m], want)
		}
	}
	r := &Report{Entries: []string{"e"}, Points: []Point{pt}}
	tb := Tables(r)[0]
	for _, row := range tb.Rows {
		marked := strings.HasSuffix(row[5].Text, FewMark)
		if wantMark := row[2].Text == "p99" || row[2].Text == "p99.9"; marked != wantMark {
			t.Errorf("%s: measured cell %q, marked %v, want %v", row[2].Text, row[5].Text, marked, wantMark)
		}
	}
}

// TestFailedRequestsShown: a measurement in which requests failed says so
// everywhere — summary, tables, report.json — and one below MinSuccess is
// not used to judge the model, however well its few successes agree.
func TestFailedRequestsShown(t *testing.T) {
	r := sample(t)
	r.Settings.MinSuccess = 0.99
	ratio := func(f float64) *float64 { return &f }
	for i := range r.Points {
		e := &r.Points[i].Measurement.Entries[0]
		e.Sent, e.SuccessRatio, e.StatusCodes = 1000, ratio(1), map[string]int64{"200": 1000}
	}
	// At the second rate 81% failed, and the successes agree with the model
	// (they would "hold"); at the third a few failed, above the threshold.
	bad := &r.Points[1].Measurement.Entries[0]
	bad.Sent, bad.SuccessRatio = 913, ratio(175.0/913)
	bad.StatusCodes = map[string]int64{"200": 175, "0": 700, "500": 38}
	bad.Errors = []ErrorCount{{Class: "connection refused", Count: 700, Example: "dial tcp 127.0.0.1:9: connect: connection refused"}, {Class: "status 500", Count: 38}}
	for k, v := range r.Points[1].Model.Entries[0].Values {
		bad.Values[k] = v
	}
	few := &r.Points[2].Measurement.Entries[0]
	few.SuccessRatio, few.StatusCodes = ratio(0.995), map[string]int64{"200": 995, "503": 5}
	few.Errors = []ErrorCount{{Class: "status 503", Count: 5}}

	dir := t.TempDir()
	if _, err := Render(dir, r); err != nil {
		t.Fatal(err)
	}
	if len(r.Points[1].NotJudged) != 1 || r.Points[1].Judged("gateway", Measurement) || !r.Points[2].Judged("gateway", Measurement) {
		t.Fatalf("not judged: %+v / %+v", r.Points[1].NotJudged, r.Points[2].NotJudged)
	}
	for _, d := range r.Points[1].Differences {
		if d.Source == Measurement {
			t.Errorf("a measurement with 81%% failed judged the model: %+v", d)
		}
	}
	s := strings.Join(Summary(r), "\n")
	for _, want := range []string{
		"Not judged at 100 req/s (only 19.2% of its 913 requests succeeded, below the 99% required)",
		"Measured at 100 req/s: 738 of 913 requests failed (80.8%): connection refused ×700, status 500 ×38.",
		"Measured at 150 req/s: 5 of 1000 requests failed (0.5%): status 503 ×5.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "Model vs measurement: holds within 10% on every figure at all") {
		t.Errorf("summary says the measurement holds everywhere:\n%s", s)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, want := range []string{"## gateway: measured requests", "| 100 | 913 | 175 | **19.2%** |", "connection refused ×700 (\"dial tcp", "not judged ‡"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	again, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := again.Points[1].Measurement.Entries[0]
	if e.Sent != 913 || e.SuccessRatio == nil || e.Failed() != 738 || len(e.Errors) != 2 || e.StatusCodes["0"] != 700 || len(again.Points[1].NotJudged) != 1 {
		t.Errorf("report.json lost the failures: %+v, %+v", e, again.Points[1].NotJudged)
	}

	// Every rate failing: nothing is said to hold.
	for i := range r.Points {
		r.Points[i].Measurement.Entries[0].SuccessRatio = ratio(0)
	}
	if _, err := Render(dir, r); err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(Summary(r), "\n"); !strings.Contains(s, "Model vs measurement: NOT JUDGED at any rate") {
		t.Errorf("all failed:\n%s", s)
	}
}

// modelFigures is the model's prediction as report figures, as package
// validate makes them, for the sample report.
func modelFigures(p *result.Prediction) *Figures {
	f := &Figures{Stable: p.Stable}
	for _, e := range p.Entries {
		ef := EntryFigures{Entry: e.Entry, Values: map[string]float64{}}
		if e.Mean != nil {
			ef.Values["mean"] = *e.Mean
		}
		if e.Percentiles != nil {
			for _, l := range result.Levels {
				ef.Values[l.Name], _ = e.Percentiles.Get(l.Name)
			}
		}
		f.Entries = append(f.Entries, ef)
	}
	for _, s := range p.Services {
		f.Services = append(f.Services, ServiceFigures{Name: s.Name, Utilization: s.Utilization})
	}
	return f
}
