package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Render writes everything a report directory holds, from r alone: the
// plots (PNG and SVG), report.json, report.md and index.html. It is what
// kendall validate does at the end and kendall report does again later.
// It returns the figures written.
func Render(dir string, r *Report) ([]Figure, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r.Sort()
	for i := range r.Points {
		r.Points[i].Judge(r.Entries, r.Settings.MinSuccess)
		r.Points[i].Compare(r.Entries)
	}
	if err := r.Save(dir); err != nil {
		return nil, err
	}
	var figs []Figure
	add := func(f Figure, err error) error {
		if err != nil {
			return fmt.Errorf("plotting %s: %w", f.Name, err)
		}
		figs = append(figs, f)
		return nil
	}
	if len(r.Points) > 0 {
		for _, e := range r.Entries {
			if err := add(writeLatency(dir, r, e)); err != nil {
				return figs, err
			}
		}
		if r.Distribution != nil {
			for _, e := range r.Entries {
				if err := add(writeCCDF(dir, r, e)); err != nil {
					return figs, err
				}
			}
		}
		if len(r.Entries) > 1 {
			if err := add(writeComparison(dir, r)); err != nil {
				return figs, err
			}
		}
		if err := add(writeUtilization(dir, r)); err != nil {
			return figs, err
		}
		for i, pt := range r.Points {
			if len(pt.Timelines) > 0 {
				if err := add(writeTimeline(dir, r, i)); err != nil {
					return figs, err
				}
			}
		}
	}
	if err := writeAtomic(filepath.Join(dir, "report.md"), []byte(Markdown(r, figs))); err != nil {
		return figs, err
	}
	page, err := HTML(dir, r, figs)
	if err != nil {
		return figs, err
	}
	return figs, writeAtomic(filepath.Join(dir, "index.html"), page)
}

// Markdown is report.md: the summary, the plots as PNG links, and the
// tables, with drifting figures in bold.
func Markdown(r *Report, figs []Figure) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# kendall validation: %s\n\n", r.Topology)
	fmt.Fprintf(&b, "%s · topology `%s` · model max rate %s req/s (bottleneck %s) · measured: %s\n\n",
		r.Created.Format(time.RFC3339), r.File, fmtRate(r.MaxRate), r.Bottleneck, r.Settings.Target)
	for _, l := range Summary(r) {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("\n")
	for _, f := range figs {
		fmt.Fprintf(&b, "## %s\n\n![%s](%s.png)\n\n", f.Title, f.Title, f.Name)
	}
	for _, t := range Tables(r) {
		fmt.Fprintf(&b, "## %s\n\n", t.Title)
		fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(t.Header, " | "), strings.Repeat(" --- |", len(t.Header)))
		for _, row := range t.Rows {
			cells := make([]string, len(row))
			for i, c := range row {
				cells[i] = c.Text
				if c.Flag {
					cells[i] = "**" + c.Text + "**"
				}
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Relative differences are (model − other)/other; **bold** beyond %.0f%%. Times are end-to-end latencies, of the successful requests. %s: fewer than %d requests beyond this percentile, too few to compare. %s: not judged (too many failed requests, or the load generator fell behind; see the summary).\n", 100*DriftThreshold, FewMark, MinBeyond, NotJudgedMark)
	return b.String()
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kendall validation: {{.Topology}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; }
ul.summary li { margin: .3rem 0; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
td.drift { background: #fde2e1; font-weight: bold; }
.partial { background: #fff3cd; padding: .5rem 1rem; border: 1px solid #e0c36a; }
</style>
</head>
<body>
<h1>kendall validation: {{.Topology}}</h1>
<p class="meta">{{.Created}} · topology <code>{{.File}}</code> · model max rate {{.MaxRate}} req/s (bottleneck {{.Bottleneck}}) · measured: {{.Target}}</p>
{{if .Partial}}<p class="partial">Partial report: the run was interrupted; only the rates that finished are shown.</p>{{end}}
<ul class="summary">{{range .Summary}}<li>{{.}}</li>{{end}}{{range .Notes}}<li>{{.}}</li>{{end}}</ul>
{{range .Figures}}<h2>{{.Title}}</h2>
<figure>{{.SVG}}</figure>
{{end}}
{{range .Tables}}<h2>{{.Title}}</h2>
<table><thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td{{if .Flag}} class="drift"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{end}}
<p class="meta">Relative differences are (model − other)/other, highlighted beyond {{.Threshold}}%. Times are end-to-end latencies, of the successful requests. {{.Few}}: fewer than {{.MinBeyond}} requests beyond this percentile, too few to compare. {{.NotJudged}}: not judged (too many failed requests, or the load generator fell behind; see the summary).</p>
</body>
</html>
`))

// HTML is index.html: one self-contained page, the SVG plots inline, that
// opens offline.
func HTML(dir string, r *Report, figs []Figure) ([]byte, error) {
	type figure struct {
		Title string
		SVG   template.HTML
	}
	data := struct {
		Topology, File, Created, MaxRate, Bottleneck, Target string
		Partial                                              bool
		Summary, Notes                                       []string
		Figures                                              []figure
		Tables                                               []Table
		Threshold                                            string
		Few, NotJudged                                       string
		MinBeyond                                            int
	}{
		Topology: r.Topology, File: r.File, Created: r.Created.Format(time.RFC3339),
		MaxRate: fmtRate(r.MaxRate), Bottleneck: r.Bottleneck, Target: r.Settings.Target,
		Partial: r.Partial, Summary: Summary(r), Notes: r.Notes, Tables: Tables(r),
		Threshold: fmt.Sprintf("%.0f", 100*DriftThreshold),
		Few:       FewMark, NotJudged: NotJudgedMark, MinBeyond: MinBeyond,
	}
	for _, f := range figs {
		svg, err := os.ReadFile(filepath.Join(dir, f.Name+".svg"))
		if err != nil {
			return nil, err
		}
		// Drop the XML prolog: inline SVG is an element of the page.
		if i := bytes.Index(svg, []byte("<svg")); i > 0 {
			svg = svg[i:]
		}
		// The SVG is kendall's own output, written a moment ago.
		data.Figures = append(data.Figures, figure{Title: f.Title, SVG: template.HTML(svg)}) // #nosec G203
	}
	var b bytes.Buffer
	if err := page.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
