// Package devtemporal runs a complete Temporal server inside the current
// process, persisted to a SQLite file, to PostgreSQL (the server's own SQL
// persistence, its schema set up from the schema files the server ships),
// or kept in memory. It backs `duban-dev dev`, the benchmark and the
// integration tests; production connects to an external cluster.
package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// Options configures an embedded server.
type Options struct {
	// DatabaseFile persists state to SQLite; empty (and no Postgres) means
	// in memory (tests).
	DatabaseFile string
	// Postgres, when set, persists state to PostgreSQL instead.
	Postgres *Postgres
	// HistoryShards is the number of history shards (1 when 0). A
	// persisted server keeps the count it was created with.
	HistoryShards int
	// Namespace is registered on start if it does not exist (required).
	Namespace string
	// Port for the frontend gRPC endpoint on 127.0.0.1; 0 picks a free one.
	Port int
	// FixedPorts puts the other services on the seven ports after Port
	// instead of free ones, so a server restarted on the same database
	// file finds its services where its membership table left them.
	FixedPorts bool
	// Logger receives the server's own logs; nil discards them.
	Logger log.Logger
}

// Server is a running embedded Temporal server.
type Server struct {
	srv       temporal.Server
	hostPort  string
	namespace string
	fresh     bool
}

// Fresh reports whether this start created the server's database: a new,
// empty Temporal (always true in memory).
func (s *Server) Fresh() bool { return s.fresh }

// Start builds and starts the server. It returns once the frontend accepts
// connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Namespace == "" {
		return nil, errors.New("devtemporal: no namespace")
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNoopLogger()
	}
	ports, err := freePorts(opts.Port, 8)
	if opts.FixedPorts && opts.Port != 0 {
		ports, err = nil, nil
		for i := range 8 {
			ports = append(ports, opts.Port+i)
		}
	}
	if err != nil {
		return nil, err
	}
	frontend := ports[0]

	shards := int32(max(opts.HistoryShards, 1))
	sqlCfg := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{},
		DatabaseName:      opts.DatabaseFile,
	}
	visCfg := sqlCfg
	fresh := true
	if opts.Postgres != nil {
		if sqlCfg, visCfg, fresh, err = opts.Postgres.setUp(); err != nil {
			return nil, err
		}
	} else if opts.DatabaseFile == "" {
		sqlCfg.ConnectAttributes["mode"] = "memory"
		sqlCfg.ConnectAttributes["cache"] = "shared"
		sqlCfg.DatabaseName = "duban-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	} else {
		sqlCfg.ConnectAttributes["mode"] = "rwc"
		sqlCfg.ConnectAttributes["_journal_mode"] = "wal"
		sqlCfg.ConnectAttributes["_synchronous"] = "normal"
		if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o755); err != nil {
			return nil, fmt.Errorf("temporal data directory: %w", err)
		}
		_, err := os.Stat(opts.DatabaseFile)
		fresh = errors.Is(err, os.ErrNotExist)
		if fresh {
			if err := sqlite.SetupSchema(sqlCfg); err != nil {
				return nil, fmt.Errorf("set up temporal schema: %w", err)
			}
		}
	}

	cfg := &config.Config{}
	cfg.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: "127.0.0.1"}
	cfg.Global.PProf = config.PProf{Port: 0}
	cfg.Persistence = config.Persistence{
		DefaultStore:     "default",
		VisibilityStore:  "default",
		NumHistoryShards: shards,
		DataStores:       map[string]config.DataStore{"default": {SQL: sqlCfg}},
	}
	if visCfg != sqlCfg {
		cfg.Persistence.VisibilityStore = "visibility"
		cfg.Persistence.DataStores["visibility"] = config.DataStore{SQL: visCfg}
	}
	hostPort := net.JoinHostPort("127.0.0.1", strconv.Itoa(frontend))
	cfg.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        "active",
		CurrentClusterName:       "active",
		ClusterInformation: map[string]cluster.ClusterInformation{
			"active": {Enabled: true, InitialFailoverVersion: 1, RPCAddress: hostPort},
		},
	}
	cfg.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	service := func(grpc, membership int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: grpc, MembershipPort: membership, BindOnIP: "127.0.0.1"}}
	}
	cfg.Services = map[string]config.Service{
		"frontend": service(ports[0], ports[1]),
		"history":  service(ports[2], ports[3]),
		"matching": service(ports[4], ports[5]),
		"worker":   service(ports[6], ports[7]),
	}
	cfg.Archival = config.Archival{
		History:    config.HistoryArchival{State: "disabled"},
		Visibility: config.VisibilityArchival{State: "disabled"},
	}
	cfg.PublicClient = config.PublicClient{HostPort: hostPort}
	cfg.NamespaceDefaults = config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
		History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
		Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
	}}

	// The namespace is written straight into the store, before the server
	// starts (the SQLite helper speaks the server's SQL persistence, which
	// is the same for PostgreSQL).
	nsCfg, err := sqlite.NewNamespaceConfig("active", opts.Namespace, false, nil)
	if err != nil {
		return nil, fmt.Errorf("namespace config: %w", err)
	}
	if err := sqlite.CreateNamespaces(sqlCfg, nsCfg); err != nil {
		return nil, fmt.Errorf("create namespace %s: %w", opts.Namespace, err)
	}

	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, err
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, opts.Logger)
	if err != nil {
		return nil, err
	}
	dyn := dynamicconfig.StaticClient{
		// Let a launch start thousands of workflows quickly on one host.
		dynamicconfig.FrontendRPS.Key():                                 []dynamicconfig.ConstrainedValue{{Value: 10000}},
		dynamicconfig.FrontendNamespaceReplicationInducingAPIsRPS.Key(): []dynamicconfig.ConstrainedValue{{Value: 10000}},
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key():     []dynamicconfig.ConstrainedValue{{Value: true}},
		// One partition per task queue: on a single host, more partitions
		// only let a task wait in a partition no poller is on.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  []dynamicconfig.ConstrainedValue{{Value: 1}},
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): []dynamicconfig.ConstrainedValue{{Value: 1}},
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(opts.Logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("build temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{srv: srv, hostPort: hostPort, namespace: opts.Namespace, fresh: fresh}
	if err := s.waitReady(ctx); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := client.Dial(client.Options{HostPort: s.hostPort, Namespace: s.namespace, Logger: quietLogger{}})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			c.Close()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("temporal server not ready: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// HostPort is the frontend address clients dial.
func (s *Server) HostPort() string { return s.hostPort }

// Namespace is the registered namespace.
func (s *Server) Namespace() string { return s.namespace }

// Stop shuts the server down.
func (s *Server) Stop() error { return s.srv.Stop() }

// freePorts returns n free ports on 127.0.0.1, the first one first when
// not 0. They are below 32768: the SQL persistence's cluster membership
// table keeps a port in a smallint, and the kernel hands out ephemeral
// ports above that.
func freePorts(first, n int) ([]int, error) {
	ports := make([]int, 0, n)
	if first != 0 {
		ports = append(ports, first)
	}
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			return nil, errors.New("find free port: none free between 20000 and 32767")
		}
		port := 20000 + rand.IntN(32768-20000)
		if slices.Contains(ports, port) {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		listeners = append(listeners, l)
		ports = append(ports, port)
	}
	return ports, nil
}

// quietLogger drops the SDK client's logs during readiness probing.
type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}
