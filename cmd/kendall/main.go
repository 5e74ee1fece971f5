// Command kendall answers the question every team that runs services asks —
// how much traffic can this topology take, and what does latency look like
// when it does? — and then checks its own answer: a queueing model predicts,
// a discrete-event simulator validates, and a load generator measures real
// services.
//
// Run kendall help for the commands, and kendall help COMMAND for one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
)

// command is one subcommand. Each lives in its own file and registers itself
// in an init function, so adding one touches nothing else.
type command struct {
	name    string
	args    string // synopsis of the arguments, e.g. "FILE [--rate R] [--json]"
	summary string // one line for the command list
	help    string // the rest of kendall help NAME: what it does, examples
	// flags declares the command's flags on fs and returns the function
	// that runs it once they are parsed, with the positional arguments.
	flags func(fs *flag.FlagSet) func(ctx context.Context, env *env, args []string) error
}

// env is where a command writes: results to stdout, progress and warnings to
// stderr, so that pipes carry only results.
type env struct {
	stdout, stderr io.Writer
	// interactive is true when stderr is a terminal: only then is progress
	// drawn.
	interactive bool
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// usageError is a mistake in the command line; it exits with status 2 and
// points at the help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first Ctrl-C the command winds down and writes what it
	// has; a second one should kill it as usual, so stop catching.
	go func() {
		<-ctx.Done()
		stop()
	}()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, interactive: isTerminal(os.Stderr)}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130 // 128 + SIGINT, as shells report it
)

// run executes one kendall command line and returns its exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printOverview(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				fmt.Fprintf(e.stderr, "kendall: no command %q\n\n", args[1])
				printOverview(e.stderr)
				return exitUsage
			}
			printHelp(e.stdout, c)
			return exitOK
		}
		printOverview(e.stdout)
		return exitOK
	case "version", "--version":
		fmt.Fprintln(e.stdout, "kendall", version())
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(e.stderr, "kendall: no command %q%s\n\n", name, suggestCommand(name))
		printOverview(e.stderr)
		return exitUsage
	}

	fs := flag.NewFlagSet("kendall "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runner := c.flags(fs)
	positional, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		printHelp(e.stdout, c)
		return exitOK
	}
	if err == nil {
		err = runner(ctx, e, positional)
	}
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue) || isFlagError(err):
		fmt.Fprintf(e.stderr, "kendall %s: %v\nRun 'kendall help %s' for usage.\n", c.name, err, c.name)
		return exitUsage
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		fmt.Fprintf(e.stderr, "kendall %s: interrupted\n", c.name)
		return exitInterrupted
	default:
		fmt.Fprintf(e.stderr, "kendall %s: %v\n", c.name, err)
		return exitFailure
	}
}

// flagError marks errors from the flag package, which are usage errors.
type flagError struct{ error }

func isFlagError(err error) bool {
	var fe flagError
	return errors.As(err, &fe)
}

// parseInterspersed parses flags that may come before, between or after the
// positional arguments (kendall predict shop.yaml --rate 200), as users
// type them. "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, flagError{rewordFlagError(err)}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func printOverview(w io.Writer) {
	fmt.Fprint(w, `kendall: how much traffic can this topology take, and what does latency
look like when it does? It predicts with a queueing model, checks the model
with a discrete-event simulator, and measures real HTTP services.

Usage: kendall COMMAND [arguments]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return order(names[i]) < order(names[j]) })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, n := range names {
		fmt.Fprintf(tw, "  %s\t%s\n", n, commands[n].summary)
	}
	tw.Flush()
	fmt.Fprint(w, `
Run 'kendall help COMMAND' for a command's flags and examples.
The topology file format is described in README.md and shown in examples/.
`)
}

// order puts the commands in the order a new user meets them.
func order(name string) string {
	for i, n := range []string{"predict", "capacity", "simulate", "serve", "attack", "validate", "report"} {
		if n == name {
			return fmt.Sprintf("%02d", i)
		}
	}
	return "99" + name
}

func printHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: kendall %s %s\n\n%s\n", c.name, c.args, strings.TrimSpace(c.summary))
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.flags(fs)
	var n int
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprint(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

func suggestCommand(name string) string {
	for n := range commands {
		if strings.HasPrefix(n, name) || strings.HasPrefix(name, n) {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return ""
}

// isTerminal reports whether f is a character device, such as a terminal,
// rather than a file or a pipe.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// rewordFlagError turns the flag package's `invalid value "x" for flag
// -rate: why` into `--rate: why`: the flag as users type it, and the reason,
// which already quotes the value.
func rewordFlagError(err error) error {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "invalid value ")
	if !ok {
		return err
	}
	i := strings.Index(rest, " for flag -")
	if i < 0 {
		return err
	}
	name, why, ok := strings.Cut(rest[i+len(" for flag -"):], ": ")
	if !ok {
		return err
	}
	return fmt.Errorf("--%s: %s", name, why)
}
