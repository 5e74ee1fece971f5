// Command kendall-accuracy runs the queueing model and the simulator over
// the accuracy grid (package accuracy) and writes the accuracy table: the
// Markdown report (docs/accuracy.md) and the summary the model's labels
// quote (model/accuracy_gen.go). Run it from the repository's root:
//
//	go run ./cmd/kendall-accuracy
//
// after any change to an approximation, and commit both files (then
// rewrite the golden outputs, which quote the labels: go test
// ./cmd/kendall -run TestGolden -update). On two cores the whole grid takes
// about eight minutes; -requests trades time for the
// width of the simulation's intervals, and -shapes runs part of the grid
// (for a look, not for the committed table).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/kendallqn/kendall/accuracy"
)

func main() {
	requests := flag.Int64("requests", 1_000_000, "measured requests per case at 30% load (twice at 70%, four times at 90%)")
	md := flag.String("md", "docs/accuracy.md", "where to write the Markdown table")
	gen := flag.String("go", "model/accuracy_gen.go", "where to write the summary the labels quote")
	rowsOut := flag.String("json", "", "also write every row as JSON to this file (for comparing models against the same simulations)")
	shapes := flag.String("shapes", "", "comma-separated shapes to run (default all): "+shapeNames())
	workers := flag.Int("workers", 0, "parallel replications (default GOMAXPROCS)")
	remodel := flag.String("remodel", "", "read a previous run's rows (its -json `FILE`), recompute the model's figures and classes with the model as it is now, keep the simulations, and write the table: a change to the model measured in seconds")
	elapsed := flag.Duration("remodel-elapsed", 0, "with -remodel, how long the run that simulated the rows took, for the table's header")
	flag.Parse()
	if *remodel != "" {
		if err := remodelRows(*remodel, *md, *gen, *requests, *workers, *elapsed); err != nil {
			fail(err)
		}
		return
	}

	cases := accuracy.Grid()
	if *shapes != "" {
		want := strings.Split(*shapes, ",")
		cases = slices.DeleteFunc(cases, func(c accuracy.Case) bool { return !slices.Contains(want, string(c.Shape)) })
		if len(cases) == 0 {
			fail(fmt.Errorf("-shapes %q: no such shape; the shapes are %s", *shapes, shapeNames()))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	rows, err := accuracy.Run(ctx, cases, accuracy.Options{
		Requests: *requests,
		Workers:  *workers,
		Progress: func(i int, c accuracy.Case) {
			fmt.Fprintf(os.Stderr, "\r[%3d/%d %s] %-40s", i+1, len(cases), time.Since(start).Round(time.Second), c.Name())
		},
	})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		fail(err)
	}
	stats := accuracy.Summarize(rows)
	// The command that makes the same figures: the flags that change them,
	// not where they are written.
	command := "go run ./cmd/kendall-accuracy"
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "md" && f.Name != "go" && f.Name != "json" {
			command += fmt.Sprintf(" -%s %s", f.Name, f.Value)
		}
	})
	w := *workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	if err := writeFile(*md, func(f *os.File) error {
		return accuracy.WriteMarkdown(f, accuracy.Report{Command: command, Elapsed: time.Since(start), Workers: w, Requests: *requests, Rows: rows, Stats: stats})
	}); err != nil {
		fail(err)
	}
	if err := writeFile(*gen, func(f *os.File) error { return accuracy.WriteGo(f, stats, command) }); err != nil {
		fail(err)
	}
	if *rowsOut != "" {
		if err := writeFile(*rowsOut, func(f *os.File) error {
			enc := json.NewEncoder(f)
			enc.SetIndent("", " ")
			return enc.Encode(rows)
		}); err != nil {
			fail(err)
		}
	}
	fmt.Fprintf(os.Stderr, "wrote %s and %s: %d cases, %d figures, in %s\n", *md, *gen, len(cases), len(rows), time.Since(start).Round(time.Second))
}

// writeFile writes path through a temporary file, so that an interrupted
// run leaves the committed table as it was.
func writeFile(path string, write func(*os.File) error) error {
	f, err := os.CreateTemp(dirOf(path), ".accuracy-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return "."
}

func shapeNames() string {
	var s []string
	for _, sh := range accuracy.Shapes {
		s = append(s, string(sh))
	}
	return strings.Join(s, ", ")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kendall-accuracy:", err)
	os.Exit(1)
}

// remodelRows writes the table from a previous run's rows, the model's
// side recomputed (accuracy.Remodel).
func remodelRows(path, md, gen string, requests int64, workers int, elapsed time.Duration) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var rows []accuracy.Row
	if err := json.Unmarshal(data, &rows); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	rows, err = accuracy.Remodel(rows)
	if err != nil {
		return err
	}
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	stats := accuracy.Summarize(rows)
	const command = "go run ./cmd/kendall-accuracy"
	if err := writeFile(md, func(f *os.File) error {
		return accuracy.WriteMarkdown(f, accuracy.Report{Command: command, Elapsed: elapsed, Workers: workers, Requests: requests, Rows: rows, Stats: stats, Remodeled: true})
	}); err != nil {
		return err
	}
	if err := writeFile(gen, func(f *os.File) error { return accuracy.WriteGo(f, stats, command) }); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s and %s from %s: %d figures, the model's recomputed\n", md, gen, path, len(rows))
	return nil
}
