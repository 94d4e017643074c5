// Command duban runs Duban: the development stack, the API server, the
// worker, migrations, plan and user administration, audits and benchmarks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/duban-dev/duban/config"
)

// command is one subcommand. Each file registers its own in init.
type command struct {
	summary string
	run     func(ctx context.Context, env *cli, args []string) error
}

var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, env *cli, args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

// cli carries what every command shares: output streams and the logger.
type cli struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	log            *slog.Logger
	level          *slog.LevelVar
}

// loadConfig reads the configuration and applies its log level.
func (env *cli) loadConfig(path string) (config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return cfg, err
	}
	if env.level != nil && cfg.LogLevel != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
			return cfg, fmt.Errorf("log_level %q: want debug, info, warn or error", cfg.LogLevel)
		}
		env.level.Set(l)
	}
	return cfg, nil
}

// usageError makes the process exit with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	level := new(slog.LevelVar)
	env := &cli{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, level: level,
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))}
	err := run(ctx, env, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "duban:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, env *cli, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.stdout)
		return nil
	}
	name := args[0]
	// Two-word commands: "plan validate", "user add", "audit verify" …
	if len(args) > 1 {
		if _, ok := commands[name+" "+args[1]]; ok {
			name, args = name+" "+args[1], args[1:]
		}
	}
	cmd, ok := commands[name]
	if !ok {
		usage(env.stderr)
		return usageError{fmt.Sprintf("unknown command %q", strings.Join(args[:1], " "))}
	}
	return cmd.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "督办 Duban — 年度工作要点督办系统\n\nUsage: duban <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'duban <command> -h' for a command's flags. Configuration: --config FILE or DUBAN_CONFIG, and the environment (see docs/operations.md).")
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(env *cli, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("duban "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	return fs
}

// parse parses flags and turns a flag error into a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	return nil
}
