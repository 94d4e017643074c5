// Package devtemporal runs a complete Temporal server inside the current
// process, persisted to a SQLite file (or kept in memory). It backs `duban-dev dev`
// and the integration tests; production connects to an external cluster.
package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
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
	// DatabaseFile persists state; empty means in memory (tests).
	DatabaseFile string
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

	sqlCfg := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{},
		DatabaseName:      opts.DatabaseFile,
	}
	fresh := true
	if opts.DatabaseFile == "" {
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
		DefaultStore:     sqliteplugin.PluginName,
		VisibilityStore:  sqliteplugin.PluginName,
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlCfg}},
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
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// quietLogger drops the SDK client's logs during readiness probing.
type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}
