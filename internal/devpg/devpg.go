// Package devpg finds a PostgreSQL server for `duban-dev dev`: the one named by
// DATABASE_URL, else a server on 127.0.0.1:5432, else a private cluster it
// creates with the machine's initdb and pg_ctl under the data directory.
// It also makes the throwaway databases of the tests and the benchmark
// (NewScratchDatabase). It belongs to the development kit: the production
// binary does not link it.
package devpg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Database is a database ready for Duban.
type Database struct {
	URL string
	// How says where it came from, for the start-up banner.
	How string
	// Stop stops a private cluster; a no-op otherwise.
	Stop func()
}

// LocalAdminURL is the conventional local server with trust authentication.
const LocalAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// privatePort is where a private cluster listens.
const privatePort = 55432

// Ensure returns a database named dbName, creating it if needed.
func Ensure(ctx context.Context, explicitURL, dataDir, dbName string) (*Database, error) {
	if explicitURL != "" {
		if err := ping(ctx, explicitURL); err != nil {
			return nil, fmt.Errorf("DATABASE_URL does not answer: %w", err)
		}
		return &Database{URL: explicitURL, How: "DATABASE_URL", Stop: func() {}}, nil
	}
	if err := ping(ctx, LocalAdminURL); err == nil {
		u, err := createDatabase(ctx, LocalAdminURL, dbName)
		if err != nil {
			return nil, err
		}
		return &Database{URL: u, How: "本机 PostgreSQL（127.0.0.1:5432）", Stop: func() {}}, nil
	}
	return startPrivate(ctx, filepath.Join(dataDir, "postgres"), dbName)
}

func ping(ctx context.Context, dsn string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	return c.Ping(ctx)
}

func createDatabase(ctx context.Context, adminURL, name string) (string, error) {
	c, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return "", fmt.Errorf("create database %s: %w", name, err)
		}
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// findBin looks for a PostgreSQL program on PATH, then in Debian's layout.
func findBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	sort.Strings(matches)
	if len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	return "", fmt.Errorf("%s not found: install PostgreSQL or set DATABASE_URL", name)
}

// command runs a PostgreSQL program, as the postgres system user when we
// are root (initdb and postgres refuse to run as root).
func command(ctx context.Context, bin string, args ...string) (*exec.Cmd, error) {
	if os.Geteuid() != 0 {
		return exec.CommandContext(ctx, bin, args...), nil
	}
	if _, err := user.Lookup("postgres"); err != nil {
		return nil, errors.New("running as root and there is no postgres user to run a private PostgreSQL cluster; set DATABASE_URL")
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return nil, err
	}
	return exec.CommandContext(ctx, runuser, append([]string{"-u", "postgres", "--", bin}, args...)...), nil
}

// clusterDir finds initdb and pg_ctl and makes dir (absolute, returned as
// abs) ready to hold a cluster: created, and owned by postgres when run as root.
func clusterDir(dir string) (initdb, pgctl, abs string, err error) {
	if initdb, err = findBin("initdb"); err != nil {
		return "", "", "", err
	}
	if pgctl, err = findBin("pg_ctl"); err != nil {
		return "", "", "", err
	}
	if abs, err = filepath.Abs(dir); err != nil {
		return "", "", "", err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", "", "", err
	}
	if os.Geteuid() == 0 {
		if u, err := user.Lookup("postgres"); err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			_ = os.Chown(abs, uid, gid)
		}
	}
	return initdb, pgctl, abs, nil
}

func startPrivate(ctx context.Context, dir, dbName string) (*Database, error) {
	initdb, pgctl, abs, err := clusterDir(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(abs, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		cmd, err := command(ctx, initdb, "-D", abs, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
		if err != nil {
			return nil, err
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %w: %s", err, out)
		}
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", privatePort, abs)
	cmd, err := command(ctx, pgctl, "-D", abs, "-o", opts, "-l", filepath.Join(abs, "server.log"), "-w", "start")
	if err != nil {
		return nil, err
	}
	if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(string(out), "another server might be running") {
		return nil, fmt.Errorf("pg_ctl start: %w: %s", err, out)
	}
	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", privatePort)
	u, err := createDatabase(ctx, admin, dbName)
	if err != nil {
		return nil, err
	}
	stop := func() {
		c, err := command(context.Background(), pgctl, "-D", abs, "-m", "fast", "-w", "stop")
		if err == nil {
			_ = c.Run()
		}
	}
	return &Database{URL: u, How: "私有 PostgreSQL 集群（" + abs + "）", Stop: stop}, nil
}

// Cluster is a PostgreSQL cluster of its own in a directory, on a port of
// its own: one that may be restarted, even crashed, without touching any
// other server (the fault suite restarts it).
type Cluster struct {
	dir   string
	port  int
	pgctl string
}

// StartCluster creates (initdb) and starts a cluster in dir on 127.0.0.1:port.
func StartCluster(ctx context.Context, dir string, port int) (*Cluster, error) {
	initdb, pgctl, abs, err := clusterDir(dir)
	if err != nil {
		return nil, err
	}
	cmd, err := command(ctx, initdb, "-D", abs, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	if err != nil {
		return nil, err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	c := &Cluster{dir: abs, port: port, pgctl: pgctl}
	return c, c.ctl(ctx, "start")
}

func (c *Cluster) ctl(ctx context.Context, action string, extra ...string) error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.port, c.dir)
	args := append([]string{"-D", c.dir, "-o", opts, "-l", filepath.Join(c.dir, "server.log"), "-w"}, extra...)
	cmd, err := command(ctx, c.pgctl, append(args, action)...)
	if err != nil {
		return err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %s: %w: %s", action, err, out)
	}
	return nil
}

// AdminURL is the cluster's postgres database.
func (c *Cluster) AdminURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Restart stops the cluster in immediate mode (a crash: no checkpoint,
// recovery from the WAL on start) and starts it again.
func (c *Cluster) Restart(ctx context.Context) error {
	return c.ctl(ctx, "restart", "-m", "immediate")
}

// Stop stops the cluster (fast mode).
func (c *Cluster) Stop() {
	_ = c.ctl(context.Background(), "stop", "-m", "fast")
}

// CreateDatabase creates an empty database on the server at adminURL and
// returns its URL.
func CreateDatabase(ctx context.Context, adminURL, name string) (string, error) {
	return createDatabase(ctx, adminURL, name)
}
