package reports

import (
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The look of each source, the same in every plot: the model as lines, the
// simulation as filled circles with interval bars, the measurement as
// open triangles.
var (
	modelColor       = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	simulationColor  = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	measurementColor = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	// referenceColor draws reference lines, such as saturation.
	referenceColor = color.RGBA{R: 90, G: 90, B: 90, A: 255}
	// palette distinguishes services or statistics within one plot.
	palette = []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255},
		color.RGBA{R: 214, G: 39, B: 40, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255},
		color.RGBA{R: 148, G: 103, B: 189, A: 255},
		color.RGBA{R: 140, G: 86, B: 75, A: 255},
		color.RGBA{R: 227, G: 119, B: 194, A: 255},
		color.RGBA{R: 127, G: 127, B: 127, A: 255},
		color.RGBA{R: 188, G: 189, B: 34, A: 255},
		color.RGBA{R: 23, G: 190, B: 207, A: 255},
		color.RGBA{R: 255, G: 127, B: 14, A: 255},
	}
)

// Figure is one plot file, written as PNG and SVG.
type Figure struct {
	Name  string // file name without extension, e.g. latency-gateway
	Title string
	// Width and Height of the image; the PNG has Width×Height pixels at
	// DPI dots per inch.
	Width, Height vg.Length
}

// DPI is the resolution of the PNG files.
const DPI = 96

// Pixels is the size of the PNG of a figure.
func (f Figure) Pixels() (w, h int) {
	px := func(l vg.Length) int { return int(float64(l/vg.Inch)*DPI + 0.5) }
	return px(f.Width), px(f.Height)
}

// grid draws rows × cols plots aligned on one canvas.
type grid [][]*plot.Plot

// write draws the grid into name.png and name.svg in dir.
func (g grid) write(dir string, f Figure) error {
	draw1 := func(c vg.CanvasWriterTo, ext string) error {
		dc := draw.New(c)
		tiles := draw.Tiles{Rows: len(g), Cols: len(g[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
			PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
		canvases := plot.Align(g, tiles, dc)
		for i := range g {
			for j := range g[i] {
				if g[i][j] != nil {
					g[i][j].Draw(canvases[i][j])
				}
			}
		}
		return writeTo(filepath.Join(dir, f.Name+"."+ext), c)
	}
	if err := draw1(vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(DPI))}, "png"); err != nil {
		return err
	}
	return draw1(vgsvg.New(f.Width, f.Height), "svg")
}

func writeTo(path string, w io.WriterTo) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(file); err != nil {
		file.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return file.Close()
}

// newPlot is a plot with the house style: a title, labelled axes with units,
// a grid, the legend at the top left.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	return p
}

// dashed is the dash pattern of reference lines.
var dashed = []vg.Length{vg.Points(4), vg.Points(3)}

// line adds a line of xys in colour c, solid or with the given dashes,
// named in the legend.
func line(p *plot.Plot, xys plotter.XYs, c color.Color, width vg.Length, dashes []vg.Length, legend string) error {
	if len(xys) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = width
	l.Dashes = dashes
	p.Add(l)
	if legend != "" {
		p.Legend.Add(legend, l)
	}
	return nil
}

// points adds markers, with vertical interval bars when errs is not nil.
func points(p *plot.Plot, xys plotter.XYs, errs []float64, c color.Color, shape draw.GlyphDrawer, legend string) error {
	if len(xys) == 0 {
		return nil
	}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return err
	}
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(3), Shape: shape}
	if errs != nil {
		bars := make(plotter.YErrors, len(errs))
		for i, e := range errs {
			bars[i].Low, bars[i].High = e, e
		}
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xys, bars})
		if err != nil {
			return err
		}
		eb.Color = c
		eb.CapWidth = vg.Points(5)
		p.Add(eb)
	}
	p.Add(s)
	if legend != "" {
		p.Legend.Add(legend, s)
	}
	return nil
}

// plainTicks are gonum's default ticks with labels written as short as
// they can be: 75, not 75.00.
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i, t := range ticks {
		if t.Label != "" {
			ticks[i].Label = strconv.FormatFloat(t.Value, 'f', -1, 64)
		}
	}
	return ticks
}

// fileSafe turns a name into something safe in a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// loadLabel is the label of an offered-load axis: the total over the
// workload's entries, said so when there are several.
func loadLabel(r *Report) string {
	if len(r.Entries) > 1 {
		return "offered load, all entries (req/s)"
	}
	return "offered load (req/s)"
}

// ms converts seconds to milliseconds, the unit of every latency axis.
func ms(s float64) float64 { return s * 1e3 }

// metricLabel is how a metric is written on a plot.
func metricLabel(m string) string {
	if m == "p999" {
		return "p99.9"
	}
	return m
}
