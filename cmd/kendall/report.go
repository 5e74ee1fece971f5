package main

import (
	"context"
	"flag"

	"github.com/kendallqn/kendall/reports"
)

func init() {
	register(&command{
		name:    "report",
		args:    "DIR [--json]",
		summary: "draw a validation report again from its report.json, running nothing",
		help: `report reads DIR/report.json, written by kendall validate, and writes every
plot, report.md and index.html again from it: after an upgrade of kendall,
to restyle a report, or to finish one that was interrupted while drawing.

Examples:
  kendall report kendall-report/shop-20261129-120000`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			jsonFlag := fs.Bool("json", false, "print report.json to stdout as well")
			return func(ctx context.Context, e *env, args []string) error {
				if len(args) != 1 {
					return usagef("want one report DIR, got %d arguments", len(args))
				}
				r, err := reports.Load(args[0])
				if err != nil {
					return err
				}
				if _, err := reports.Render(args[0], r); err != nil {
					return err
				}
				if *jsonFlag {
					return writeJSON(e.stdout, r)
				}
				printValidateSummary(e.stdout, args[0], r)
				return nil
			}
		},
	})
}
