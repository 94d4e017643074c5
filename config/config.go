// Package config is Duban's configuration: one struct with defaults, read
// from an optional YAML file and then from the environment (which wins).
// Secrets are masked whenever the configuration is printed.
package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"go.temporal.io/sdk/client"
)

// Config is everything Duban reads at start.
type Config struct {
	// DatabaseURL is the PostgreSQL primary.
	DatabaseURL string `yaml:"database_url" env:"DATABASE_URL" secret:"url"`
	// DatabaseReplicaURL, when set, serves dashboard and list reads.
	DatabaseReplicaURL string `yaml:"database_replica_url" env:"DUBAN_DATABASE_REPLICA_URL" secret:"url"`
	// DatabaseMaxConns sizes the pool (pgx's default is 4 on two cores).
	DatabaseMaxConns int `yaml:"database_max_conns" env:"DUBAN_DATABASE_MAX_CONNS"`

	HTTPAddr string `yaml:"http_addr" env:"DUBAN_HTTP_ADDR"`
	// PublicURL is how people reach the web UI; links in messages use it.
	PublicURL string `yaml:"public_url" env:"DUBAN_PUBLIC_URL"`
	// JWTKey signs access tokens (HMAC-SHA256); at least 32 bytes.
	JWTKey string `yaml:"jwt_key" env:"DUBAN_JWT_KEY" secret:"true"`
	// DataDir holds evidence files (blobs) and, for `duban dev`, the
	// embedded Temporal database and any private PostgreSQL cluster.
	DataDir  string `yaml:"data_dir" env:"DUBAN_DATA_DIR"`
	LogLevel string `yaml:"log_level" env:"DUBAN_LOG_LEVEL"`

	Temporal Temporal `yaml:"temporal"`
}

// Temporal says how to reach the Temporal cluster.
type Temporal struct {
	// Address is host:port of the frontend; empty in `duban dev` means the embedded server.
	Address   string `yaml:"address" env:"TEMPORAL_ADDRESS"`
	Namespace string `yaml:"namespace" env:"TEMPORAL_NAMESPACE"`
	TaskQueue string `yaml:"task_queue" env:"DUBAN_TASK_QUEUE"`
	// TLS: a CA to trust (server TLS), and a client certificate for mTLS.
	TLSCAFile     string `yaml:"tls_ca_file" env:"TEMPORAL_TLS_CA"`
	TLSCertFile   string `yaml:"tls_cert_file" env:"TEMPORAL_TLS_CERT"`
	TLSKeyFile    string `yaml:"tls_key_file" env:"TEMPORAL_TLS_KEY"`
	TLSServerName string `yaml:"tls_server_name" env:"TEMPORAL_TLS_SERVER_NAME"`
	TLS           bool   `yaml:"tls" env:"TEMPORAL_TLS"`
	// APIKey authenticates to Temporal Cloud or a cluster with API keys (implies TLS).
	APIKey string `yaml:"api_key" env:"TEMPORAL_API_KEY" secret:"true"`
	// WorkflowIDPrefix lets several deployments share a namespace.
	WorkflowIDPrefix string `yaml:"workflow_id_prefix" env:"DUBAN_WORKFLOW_ID_PREFIX"`
	// SearchAttributes sets DubanUnit, DubanCity, DubanCounty and DubanDue on
	// each task workflow (register them on the namespace first); `duban dev`
	// registers them on the embedded server and turns this on.
	SearchAttributes bool `yaml:"search_attributes" env:"DUBAN_TEMPORAL_SEARCH_ATTRIBUTES"`
}

// Default returns the configuration with every default filled in.
func Default() Config {
	return Config{
		HTTPAddr:         "127.0.0.1:8080",
		PublicURL:        "http://127.0.0.1:8080",
		DataDir:          ".duban-dev",
		LogLevel:         "info",
		DatabaseMaxConns: 16,
		Temporal:         Temporal{Namespace: "default", TaskQueue: "duban"},
	}
}

// Load reads the YAML file at path (if not empty), then the environment.
func Load(path string) (Config, error) {
	cfg := Default()
	if path == "" {
		path = os.Getenv("DUBAN_CONFIG")
	}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		if err := yaml.UnmarshalWithOptions(raw, &cfg, yaml.Strict()); err != nil {
			return cfg, fmt.Errorf("config %s: %s", path, yaml.FormatError(err, false, true))
		}
	}
	if err := fromEnv(reflect.ValueOf(&cfg).Elem()); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// fromEnv sets every field that has an env tag and a value in the environment.
func fromEnv(v reflect.Value) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := fromEnv(fv); err != nil {
				return err
			}
			continue
		}
		if f.Type.Kind() == reflect.Slice || f.Type.Kind() == reflect.Map {
			continue
		}
		name := f.Tag.Get("env")
		val, ok := os.LookupEnv(name)
		if name == "" || !ok {
			continue
		}
		switch f.Type.Kind() {
		case reflect.String:
			fv.SetString(val)
		case reflect.Int:
			n, err := strconv.Atoi(val)
			if err != nil {
				return fmt.Errorf("%s=%q: not a whole number", name, val)
			}
			fv.SetInt(int64(n))
		case reflect.Bool:
			b, err := strconv.ParseBool(val)
			if err != nil {
				return fmt.Errorf("%s=%q: not true or false", name, val)
			}
			fv.SetBool(b)
		case reflect.Int64:
			if f.Type == reflect.TypeOf(time.Duration(0)) {
				d, err := time.ParseDuration(val)
				if err != nil {
					return fmt.Errorf("%s=%q: not a duration such as 30s", name, val)
				}
				fv.SetInt(int64(d))
			}
		}
	}
	return nil
}

// Masked returns lines "name = value" for printing, with secrets hidden
// (URLs keep everything but their password).
func (c Config) Masked() []string {
	var out []string
	mask(reflect.ValueOf(c), "", &out)
	return out
}

func mask(v reflect.Value, prefix string, out *[]string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		name := prefix + f.Tag.Get("yaml")
		if f.Type.Kind() == reflect.Struct {
			mask(fv, name+".", out)
			continue
		}
		val := fmt.Sprint(fv.Interface())
		switch f.Tag.Get("secret") {
		case "true":
			if val != "" {
				val = "******"
			}
		case "url":
			val = MaskURL(val)
		}
		*out = append(*out, fmt.Sprintf("%s = %s", name, val))
	}
}

// MaskURL hides the password in a URL such as postgres://user:pw@host/db.
func MaskURL(s string) string {
	at := strings.LastIndex(s, "@")
	scheme := strings.Index(s, "://")
	if at < 0 || scheme < 0 {
		return s
	}
	creds := s[scheme+3 : at]
	if colon := strings.Index(creds, ":"); colon >= 0 {
		return s[:scheme+3] + creds[:colon] + ":******" + s[at:]
	}
	return s
}

// ClientOptions builds Temporal client options from the configuration.
func (t Temporal) ClientOptions() (client.Options, error) {
	opts := client.Options{HostPort: t.Address, Namespace: t.Namespace}
	if t.TLS || t.TLSCAFile != "" || t.TLSCertFile != "" || t.APIKey != "" {
		tc := &tls.Config{ServerName: t.TLSServerName, MinVersion: tls.VersionTLS12}
		if t.TLSCAFile != "" {
			pem, err := os.ReadFile(t.TLSCAFile)
			if err != nil {
				return opts, fmt.Errorf("temporal CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return opts, errors.New("temporal CA: no certificate in " + t.TLSCAFile)
			}
			tc.RootCAs = pool
		}
		if (t.TLSCertFile == "") != (t.TLSKeyFile == "") {
			return opts, errors.New("temporal mTLS needs both tls_cert_file and tls_key_file")
		}
		if t.TLSCertFile != "" {
			cert, err := tls.LoadX509KeyPair(t.TLSCertFile, t.TLSKeyFile)
			if err != nil {
				return opts, fmt.Errorf("temporal client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts.ConnectionOptions.TLS = tc
	}
	if t.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(t.APIKey)
	}
	return opts, nil
}
