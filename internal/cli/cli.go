// Package cli is Duban's command line: the framework the two binaries share
// (flags, configuration, exit codes) and the production commands (serve,
// worker, migrate, plan, user, audit, notify). cmd/duban runs these alone;
// cmd/duban-dev adds the development kit (dev, bench, mailcatcher) on top,
// so the production binary links neither the embedded Temporal server nor
// the benchmark.
package cli

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

// Command is one subcommand, such as "serve" or "plan launch".
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, env *Env, args []string) error
}

// Production is the command set of the production binary.
func Production() []Command {
	return []Command{
		{"serve", "serve the HTTP API (and the web UI) on http_addr", serve},
		{"worker", "run the Temporal worker", runWorker},
		{"migrate", "apply database migrations and seed the units", storeCommand("migrate", migrate)},
		{"plan validate", "check a plan file; every error with file, line and field", planValidate},
		{"plan import", "validate and store a plan file (or a shipped plan by id)", planImport},
		{"plan launch", "start every task instance of a stored plan for a year", planLaunch},
		{"plan list", "list stored plans", storeCommand("plan list", planList)},
		{"score snapshot", "take today's snapshot of the rollup counters (plan time; again the same day replaces it)", scoreSnapshot},
		{"score show", "a unit's 考核 score as of a day, explained line by line (--unit CODE --as-of DATE)", scoreShow},
		{"score rank", "rank the units under a unit as of a day; --xlsx and --pdf write the ranking and its 考核通报", scoreRank},
		{"plan draft", "draft a plan from a work notice (text, Markdown, .docx): every sentence reviewed, a template per obligation", planDraft},
		{"user add", "add a user (admins, approvers, officials, supervisors)", userAdd},
		{"verify", "compare the store with the workflows, the counters and the inbox; --repair repairs the drift (audited)", verify},
		{"audit verify", "check the audit log's hash chain and its signed seals; name the first broken row or seal", auditVerify},
		{"audit seal", "sign the audit chain's head with the key outside the database (serve does it on a schedule)", auditSeal},
		{"audit keygen", "write a new Ed25519 key pair for sealing the audit chain (--out FILE; FILE.pub is the public key)", auditKeygen},
		{"notify test", "send a test message on each of a user's channels (--to USERNAME)", notifyTest},
		{"notify prefs", "show or change a user's notification settings", notifyPrefs},
		{"notify list", "list deliveries (sent, waiting, failed) for admins", notifyList},
		{"prune", "delete read inbox rows, finished deliveries and ended sessions past their ages (--dry-run counts)", prune},
	}
}

// Env carries what every command shares: the program's name, output
// streams and the logger.
type Env struct {
	Program        string // "duban" or "duban-dev", for usage texts
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	Log            *slog.Logger
	Level          *slog.LevelVar
}

// LoadConfig reads the configuration and applies its log level.
func (env *Env) LoadConfig(path string) (config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return cfg, err
	}
	if env.Level != nil && cfg.LogLevel != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
			return cfg, fmt.Errorf("log_level %q: want debug, info, warn or error", cfg.LogLevel)
		}
		env.Level.Set(l)
	}
	return cfg, nil
}

// UsageError makes the process exit with status 2.
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

// Main runs one of the commands on the process's arguments and exits.
func Main(program string, commands []Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	level := new(slog.LevelVar)
	env := &Env{Program: program, Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Level: level,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))}
	err := Run(ctx, env, commands, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
		var u UsageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// Run finds the command the arguments name and runs it.
func Run(ctx context.Context, env *Env, commands []Command, args []string) error {
	byName := make(map[string]Command, len(commands))
	for _, c := range commands {
		byName[c.Name] = c
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env, commands, env.Stdout)
		return nil
	}
	name := args[0]
	// Two-word commands: "plan validate", "user add", "audit verify" …
	if len(args) > 1 {
		if _, ok := byName[name+" "+args[1]]; ok {
			name, args = name+" "+args[1], args[1:]
		}
	}
	cmd, ok := byName[name]
	if !ok {
		usage(env, commands, env.Stderr)
		return UsageError{fmt.Sprintf("unknown command %q", strings.Join(args[:1], " "))}
	}
	return cmd.Run(ctx, env, args[1:])
}

func usage(env *Env, commands []Command, w io.Writer) {
	program := env.program()
	fmt.Fprintf(w, "督办 Duban — 年度工作要点督办系统\n\nUsage: %s <command> [flags]\n\nCommands:\n", program)
	sorted := append([]Command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-16s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> -h' for a command's flags. Configuration: --config FILE or DUBAN_CONFIG, and the environment (see docs/operations.md).\n", program)
}

func (env *Env) program() string {
	if env.Program == "" {
		return "duban"
	}
	return env.Program
}

// NewFlags returns a flag set that reports errors instead of exiting.
func NewFlags(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(env.program()+" "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// Parse parses flags and turns a flag error into a usage error.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return UsageError{err.Error()}
	}
	return nil
}
