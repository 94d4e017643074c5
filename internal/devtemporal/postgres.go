package devtemporal

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	pgplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// Postgres persists the embedded server to PostgreSQL through the server's
// own SQL persistence (the postgres12_pgx plugin): its state in Database,
// its visibility records in Database + "_visibility", both created on the
// server URL names and set up with the schema the server ships, as
// temporal-sql-tool sets them up (the version tables at 0.0, then every
// versioned update), so that a later server version's updates apply.
type Postgres struct {
	// URL is a postgres:// URL of the server; its database is not used.
	URL string
	// Database is the name of Temporal's database (duban_temporal when empty).
	Database string
}

// DefaultPostgresDatabase is where `duban-dev dev` keeps Temporal's state.
const DefaultPostgresDatabase = "duban_temporal"

func (p *Postgres) databases() (string, string) {
	db := p.Database
	if db == "" {
		db = DefaultPostgresDatabase
	}
	return db, db + "_visibility"
}

// sqlConfig is the server's SQL configuration for one database of p.
func (p *Postgres) sqlConfig(database string) (*config.SQL, error) {
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, fmt.Errorf("temporal on postgres: %q is not a postgres:// URL with a host", p.URL)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	pw, _ := u.User.Password()
	attrs := map[string]string{}
	if mode := u.Query().Get("sslmode"); mode != "" {
		attrs["sslmode"] = mode
	} else {
		attrs["sslmode"] = "disable"
	}
	return &config.SQL{
		PluginName:        pgplugin.PluginNamePGX,
		DatabaseName:      database,
		ConnectAddr:       net.JoinHostPort(host, port),
		ConnectProtocol:   "tcp",
		User:              u.User.Username(),
		Password:          pw,
		ConnectAttributes: attrs,
		MaxConns:          20,
		MaxIdleConns:      20,
	}, nil
}

// setUp creates the two databases if they are missing and brings their
// schemas to the version the server ships. fresh reports that Temporal's
// database had no schema before: a new, empty Temporal.
func (p *Postgres) setUp() (main, visibility *config.SQL, fresh bool, err error) {
	mainDB, visDB := p.databases()
	for i, s := range []struct {
		db, schemaName string
		cfg            **config.SQL
	}{
		{mainDB, "postgresql/v12/temporal", &main},
		{visDB, "postgresql/v12/visibility", &visibility},
	} {
		cfg, err := p.sqlConfig(s.db)
		if err != nil {
			return nil, nil, false, err
		}
		created, err := setUpSchema(cfg, s.schemaName)
		if err != nil {
			return nil, nil, false, fmt.Errorf("temporal on postgres, database %s: %w", s.db, err)
		}
		if i == 0 {
			fresh = created
		}
		*s.cfg = cfg
	}
	return main, visibility, fresh, nil
}

// setUpSchema creates cfg's database if it is missing and applies the
// server's schema for it; created reports a database that had none.
func setUpSchema(cfg *config.SQL, schemaName string) (created bool, err error) {
	logger := log.NewNoopLogger()
	admin := *cfg
	if err := sqltool.DoCreateDatabase(&admin, "postgres", logger); err != nil {
		return false, fmt.Errorf("create database: %w", err)
	}
	conn, err := sqltool.NewConnection(cfg, logger)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if v, err := conn.ReadSchemaVersion(); err != nil || v == "" {
		created = true
		setup := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger)
		if err := setup.Run(); err != nil {
			return false, fmt.Errorf("set up schema versioning: %w", err)
		}
	}
	update := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: cfg.DatabaseName, SchemaName: schemaName}, logger)
	if err := update.Run(); err != nil {
		return false, fmt.Errorf("update schema %s: %w", schemaName, err)
	}
	return created, nil
}

// Drop removes both of p's databases (for a reset, or after a benchmark).
func (p *Postgres) Drop() error {
	var errs []error
	mainDB, visDB := p.databases()
	for _, db := range []string{mainDB, visDB} {
		cfg, err := p.sqlConfig(db)
		if err != nil {
			return err
		}
		if err := sqltool.DoDropDatabase(cfg, "postgres", log.NewNoopLogger()); err != nil && !strings.Contains(err.Error(), "does not exist") {
			errs = append(errs, fmt.Errorf("drop %s: %w", db, err))
		}
	}
	return errors.Join(errs...)
}
