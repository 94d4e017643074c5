// Package config is Duban's configuration: one struct with defaults, read
// from an optional YAML file and then from the environment (which wins).
// Secrets are masked whenever the configuration is printed.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
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
	// LoginPerIPPerMinute limits sign-in attempts per client address, per
	// API process (20 when 0). Raise it when many people share one address,
	// e.g. an office behind one NAT.
	LoginPerIPPerMinute int `yaml:"login_per_ip_per_minute" env:"DUBAN_LOGIN_PER_IP_PER_MINUTE"`
	// AdminAddr, when set, is where `duban serve` and `duban worker` answer
	// /metrics, /healthz and /readyz for operators and probes, apart from
	// the public address; off when empty.
	AdminAddr string `yaml:"admin_addr" env:"DUBAN_ADMIN_ADDR"`
	// PublicURL is how people reach the web UI; links in messages use it.
	PublicURL string `yaml:"public_url" env:"DUBAN_PUBLIC_URL"`
	// JWTKey signs access tokens (HMAC-SHA256); at least 32 bytes.
	JWTKey string `yaml:"jwt_key" env:"DUBAN_JWT_KEY" secret:"true"`
	// DataDir holds evidence files (blobs) and, for `duban-dev dev`, the
	// embedded Temporal database and any private PostgreSQL cluster.
	DataDir  string `yaml:"data_dir" env:"DUBAN_DATA_DIR"`
	LogLevel string `yaml:"log_level" env:"DUBAN_LOG_LEVEL"`

	Temporal Temporal `yaml:"temporal"`
	// Reconcile schedules the reconciliation of the store with the
	// workflows (duban verify) in the worker.
	Reconcile Reconcile `yaml:"reconcile"`
	// Notify configures delivery beyond the in-app inbox (docs/notifications.md).
	Notify Notify `yaml:"notify"`
	// Retention schedules the deletion of old rows (duban prune) in the worker.
	Retention Retention `yaml:"retention"`
	// Audit configures the signed seals of the audit chain.
	Audit Audit `yaml:"audit"`
}

// Retention is how long rows that are only kept for a while stay: read
// inbox rows, finished deliveries, ended sign-in sessions. Audit rows and
// timelines are never deleted. A zero age keeps that kind for ever.
type Retention struct {
	// Interval is how often the worker prunes (RetentionWorkflow); 0 turns
	// the schedule off (duban prune still runs by hand). Audit rows and
	// timelines are never deleted.
	Interval time.Duration `yaml:"interval" env:"DUBAN_RETENTION_INTERVAL"`
	// InboxReadAge: inbox rows read longer ago than this are deleted (unread
	// ones stay); 0 keeps them.
	InboxReadAge time.Duration `yaml:"inbox_read_age" env:"DUBAN_RETENTION_INBOX_READ_AGE"`
	// DeliveryAge: deliveries sent, failed for good, skipped or digested,
	// last touched longer ago than this, are deleted (waiting ones stay); 0
	// keeps them.
	DeliveryAge time.Duration `yaml:"delivery_age" env:"DUBAN_RETENTION_DELIVERY_AGE"`
	// SessionAge: sign-in sessions expired or revoked longer ago than this
	// are deleted with their refresh tokens; 0 keeps them.
	SessionAge time.Duration `yaml:"session_age" env:"DUBAN_RETENTION_SESSION_AGE"`
	// Batch is how many rows one DELETE statement removes (each statement
	// is its own short transaction).
	Batch int `yaml:"batch" env:"DUBAN_RETENTION_BATCH"`
}

// Audit configures the seals of the audit chain (docs/operations.md): the
// chain's head signed with an Ed25519 key kept outside the database.
type Audit struct {
	// KeyFile is the private key (PEM, from `duban audit keygen`) with
	// which `duban serve` and `duban audit seal` sign; sealing is off
	// without it. Keep it readable by the API's user only, and never in
	// the database or its backups.
	KeyFile string `yaml:"key_file" env:"DUBAN_AUDIT_KEY_FILE"`
	// PublicKeyFile holds the public key(s) `duban audit verify` checks the
	// seals with (PEM; several blocks when a key was retired).
	PublicKeyFile string `yaml:"public_key_file" env:"DUBAN_AUDIT_PUBLIC_KEY_FILE"`
	// SealInterval is how often `duban serve` seals the chain's head; 0
	// turns the schedule off.
	SealInterval time.Duration `yaml:"seal_interval" env:"DUBAN_AUDIT_SEAL_INTERVAL"`
	// SealDir, when set, receives a copy of every new seal as a file
	// (seal-0000000001.json), for a store the database's writers cannot
	// reach; `duban audit verify` compares the copies with the table.
	SealDir string `yaml:"seal_dir" env:"DUBAN_AUDIT_SEAL_DIR"`
}

// Notify configures email, work-chat webhooks, digests and quiet hours.
type Notify struct {
	SMTP SMTP `yaml:"smtp"`
	// Webhooks are the endpoints people may choose by name. In the
	// environment, DUBAN_WEBHOOKS holds the list as JSON.
	Webhooks []Webhook `yaml:"webhooks" env:"DUBAN_WEBHOOKS"`
	// MaxAttempts is how often a delivery is tried before it falls back to
	// the inbox and is reported.
	MaxAttempts int `yaml:"max_attempts" env:"DUBAN_NOTIFY_MAX_ATTEMPTS"`
	// DigestRoles get a daily digest unless they opt out: comma-separated
	// roles, or "none".
	DigestRoles string `yaml:"digest_roles" env:"DUBAN_NOTIFY_DIGEST_ROLES"`
	// DigestHour is the default hour (0–23, Asia/Shanghai) of the digest.
	DigestHour int `yaml:"digest_hour" env:"DUBAN_NOTIFY_DIGEST_HOUR"`
	// QuietHours is the default quiet time, such as "22-7"; "" for none.
	QuietHours string `yaml:"quiet_hours" env:"DUBAN_NOTIFY_QUIET_HOURS"`
	// TickInterval is how often the digest workflow sends due digests and
	// released messages (it divides an hour, so digests go out on the hour).
	TickInterval time.Duration `yaml:"tick_interval" env:"DUBAN_NOTIFY_TICK_INTERVAL"`

	// DingTalkApp sends DingTalk 工作通知 to people's userids.
	DingTalkApp DingTalkApp `yaml:"dingtalk_app"`
	// WeComApp sends WeCom 应用消息 to people's UserIDs.
	WeComApp WeComApp `yaml:"wecom_app"`
	// SMS sends text messages from approved templates.
	SMS SMS `yaml:"sms"`
}

// DingTalkApp is an organisation's own DingTalk app (企业内部应用) that
// sends 工作通知. It is off while AppKey is empty.
type DingTalkApp struct {
	AppKey    string `yaml:"app_key" env:"DUBAN_DINGTALK_APP_KEY"`
	AppSecret string `yaml:"app_secret" env:"DUBAN_DINGTALK_APP_SECRET" secret:"true"`
	AgentID   int    `yaml:"agent_id" env:"DUBAN_DINGTALK_AGENT_ID"`
	// Endpoint is DingTalk's server API; change it only for a proxy or a test server.
	Endpoint string `yaml:"endpoint" env:"DUBAN_DINGTALK_ENDPOINT"`
}

// WeComApp is a WeCom self-built app (自建应用) that sends 应用消息. It is
// off while CorpID is empty.
type WeComApp struct {
	CorpID     string `yaml:"corp_id" env:"DUBAN_WECOM_CORP_ID"`
	CorpSecret string `yaml:"corp_secret" env:"DUBAN_WECOM_CORP_SECRET" secret:"true"`
	AgentID    int    `yaml:"agent_id" env:"DUBAN_WECOM_AGENT_ID"`
	// Endpoint is WeCom's server API; change it only for a proxy or a test server.
	Endpoint string `yaml:"endpoint" env:"DUBAN_WECOM_ENDPOINT"`
}

// SMS is the text-message provider. It is off while Provider is empty.
type SMS struct {
	// Provider is aliyun or tencent.
	Provider string `yaml:"provider" env:"DUBAN_SMS_PROVIDER"`
	// AccessKeyID is Aliyun's AccessKey ID or Tencent Cloud's SecretId.
	AccessKeyID string `yaml:"access_key_id" env:"DUBAN_SMS_ACCESS_KEY_ID"`
	// AccessKeySecret is Aliyun's AccessKey Secret or Tencent Cloud's SecretKey.
	AccessKeySecret string `yaml:"access_key_secret" env:"DUBAN_SMS_ACCESS_KEY_SECRET" secret:"true"`
	// SDKAppID is Tencent's SmsSdkAppId (unused for Aliyun).
	SDKAppID string `yaml:"sdk_app_id" env:"DUBAN_SMS_SDK_APP_ID"`
	// SignName is the approved signature (签名) the messages carry.
	SignName string `yaml:"sign_name" env:"DUBAN_SMS_SIGN_NAME"`
	// Region is the provider's region (Aliyun cn-hangzhou, Tencent ap-guangzhou when empty).
	Region string `yaml:"region" env:"DUBAN_SMS_REGION"`
	// Endpoint is the provider's API; change it only for a proxy or a test server.
	Endpoint string `yaml:"endpoint" env:"DUBAN_SMS_ENDPOINT"`
	// Templates map kinds of notice to approved templates. In the
	// environment, DUBAN_SMS_TEMPLATES holds the list as JSON.
	Templates []SMSTemplate `yaml:"templates" env:"DUBAN_SMS_TEMPLATES"`
	// MaxParamChars cuts each template variable to this many characters
	// (0: the provider's limit, Aliyun 35, Tencent 12).
	MaxParamChars int `yaml:"max_param_chars" env:"DUBAN_SMS_MAX_PARAM_CHARS"`
}

// SMSTemplate is one approved SMS template and the notices that use it.
type SMSTemplate struct {
	// Kinds are event kinds (reminder, overdue, …), digest, or * for the rest.
	Kinds []string `yaml:"kinds" json:"kinds"`
	// Code is Aliyun's TemplateCode or Tencent's TemplateId.
	Code string `yaml:"code" json:"code"`
	// Params fill the variables in order, as variable=fact (task, unit,
	// due, kind, left, step, new_due, name, count).
	Params []string `yaml:"params" json:"params"`
}

// SMTP says how to reach the mail server. Email is off while Addr is empty.
type SMTP struct {
	Addr     string `yaml:"addr" env:"DUBAN_SMTP_ADDR"` // host:port
	Username string `yaml:"username" env:"DUBAN_SMTP_USERNAME"`
	Password string `yaml:"password" env:"DUBAN_SMTP_PASSWORD" secret:"true"`
	// From is the sender, e.g. "湖南省计生协督办 <duban@example.org>".
	From string `yaml:"from" env:"DUBAN_SMTP_FROM"`
	// TLS is auto (STARTTLS when offered), starttls (required), tls
	// (implicit, port 465) or none.
	TLS      string        `yaml:"tls" env:"DUBAN_SMTP_TLS"`
	CAFile   string        `yaml:"ca_file" env:"DUBAN_SMTP_CA_FILE"`
	HeloName string        `yaml:"helo_name" env:"DUBAN_SMTP_HELO_NAME"`
	Timeout  time.Duration `yaml:"timeout" env:"DUBAN_SMTP_TIMEOUT"`
}

// Webhook is one work-chat or generic webhook endpoint.
type Webhook struct {
	Name string `yaml:"name" json:"name"`
	// Kind is generic, dingtalk or wecom.
	Kind string `yaml:"kind" json:"kind"`
	// URL carries the robot's credential in its query (access_token, key):
	// it is masked like a secret.
	URL    string `yaml:"url" json:"url" secret:"query"`
	Secret string `yaml:"secret" json:"secret" secret:"true"`
}

// Reconcile is the scheduled reconciliation.
type Reconcile struct {
	// Interval is how often the worker reconciles the store with the
	// workflows, the counters with a recount and the inbox with the
	// timeline (what `duban verify` does); 0 turns the schedule off.
	Interval time.Duration `yaml:"interval" env:"DUBAN_RECONCILE_INTERVAL"`
	// Repair lets the scheduled reconciliation repair what it finds
	// (audited); off, it only reports, in the log and in
	// duban_reconcile_drift.
	Repair bool `yaml:"repair" env:"DUBAN_RECONCILE_REPAIR"`
}

// Temporal says how to reach the Temporal cluster.
type Temporal struct {
	// Address is host:port of the frontend; empty in `duban-dev dev` means the embedded server.
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
	// LaunchConcurrency is how many workflow starts a plan launch keeps in
	// flight at once.
	LaunchConcurrency int `yaml:"launch_concurrency" env:"DUBAN_LAUNCH_CONCURRENCY"`
	// UpdateTimeout is how long the API waits for a decision's Update to
	// complete before it answers 504 with Retry-After (the Update goes on;
	// the client's retry with the same Idempotency-Key returns its result).
	UpdateTimeout time.Duration `yaml:"update_timeout" env:"DUBAN_UPDATE_TIMEOUT"`
	// WorkflowIDPrefix lets several deployments share a namespace.
	WorkflowIDPrefix string `yaml:"workflow_id_prefix" env:"DUBAN_WORKFLOW_ID_PREFIX"`
	// SearchAttributes sets DubanUnit, DubanCity, DubanCounty and DubanDue on
	// each task workflow (register them on the namespace first); `duban-dev dev`
	// registers them on the embedded server and turns this on.
	SearchAttributes bool `yaml:"search_attributes" env:"DUBAN_TEMPORAL_SEARCH_ATTRIBUTES"`
	// UIURL is where Temporal's Web UI for this cluster is, such as
	// http://127.0.0.1:8233; when set, admins' task pages link to the
	// task's workflow there. `duban-dev dev` sets it to the UI it serves.
	UIURL string `yaml:"ui_url" env:"DUBAN_TEMPORAL_UI_URL"`
}

// Default returns the configuration with every default filled in.
func Default() Config {
	return Config{
		HTTPAddr:         "127.0.0.1:8080",
		PublicURL:        "http://127.0.0.1:8080",
		DataDir:          ".duban-dev",
		LogLevel:         "info",
		DatabaseMaxConns: 16,
		Temporal:         Temporal{Namespace: "default", TaskQueue: "duban", LaunchConcurrency: 16, UpdateTimeout: 10 * time.Second},
		Reconcile:        Reconcile{Interval: 24 * time.Hour},
		Retention:        Retention{Interval: 24 * time.Hour, InboxReadAge: 180 * 24 * time.Hour, DeliveryAge: 90 * 24 * time.Hour, SessionAge: 30 * 24 * time.Hour, Batch: 10_000},
		Audit:            Audit{SealInterval: time.Hour},
		Notify: Notify{
			SMTP:         SMTP{From: "督办系统 <duban@localhost>", TLS: "auto", Timeout: 30 * time.Second},
			MaxAttempts:  8,
			DigestRoles:  "approver,supervisor",
			DigestHour:   8,
			TickInterval: 15 * time.Minute,
		},
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
	return cfg, cfg.Validate()
}

// Validate reports settings no process can run with, naming each by its
// environment variable. The packages below take these values as given:
// the defaults are decided here only.
func (c Config) Validate() error {
	var errs []error
	bad := func(env string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, args...)))
	}
	if c.DatabaseMaxConns < 1 {
		bad("DUBAN_DATABASE_MAX_CONNS", "%d: want at least 1", c.DatabaseMaxConns)
	}
	if c.LoginPerIPPerMinute < 0 {
		bad("DUBAN_LOGIN_PER_IP_PER_MINUTE", "%d: want 0 (the API's default) or more", c.LoginPerIPPerMinute)
	}
	if c.Temporal.Namespace == "" {
		bad("TEMPORAL_NAMESPACE", "empty")
	}
	if c.Temporal.TaskQueue == "" {
		bad("DUBAN_TASK_QUEUE", "empty")
	}
	if c.Temporal.UpdateTimeout < time.Second {
		bad("DUBAN_UPDATE_TIMEOUT", "%s: want at least 1s", c.Temporal.UpdateTimeout)
	}
	if c.Temporal.LaunchConcurrency < 1 {
		bad("DUBAN_LAUNCH_CONCURRENCY", "%d: want at least 1", c.Temporal.LaunchConcurrency)
	}
	if u := c.Temporal.UIURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("DUBAN_TEMPORAL_UI_URL", "%q: want an http(s) address such as http://127.0.0.1:8233", u)
		}
	}
	if c.Notify.MaxAttempts < 1 {
		bad("DUBAN_NOTIFY_MAX_ATTEMPTS", "%d: want at least 1", c.Notify.MaxAttempts)
	}
	if t := c.Notify.TickInterval; t <= 0 || time.Hour%t != 0 {
		bad("DUBAN_NOTIFY_TICK_INTERVAL", "%s: want a duration that divides an hour, such as 15m", t)
	}
	for _, a := range []struct {
		env string
		d   time.Duration
	}{{"DUBAN_RETENTION_INTERVAL", c.Retention.Interval}, {"DUBAN_RETENTION_INBOX_READ_AGE", c.Retention.InboxReadAge},
		{"DUBAN_RETENTION_DELIVERY_AGE", c.Retention.DeliveryAge}, {"DUBAN_RETENTION_SESSION_AGE", c.Retention.SessionAge}} {
		if a.d < 0 {
			bad(a.env, "%s: want 0 (off) or a positive duration such as 4320h", a.d)
		}
	}
	if b := c.Retention.Batch; b < 1 || b > 1_000_000 {
		bad("DUBAN_RETENTION_BATCH", "%d: want 1 to 1000000", b)
	}
	if t := c.Audit.SealInterval; t != 0 && t < time.Minute {
		bad("DUBAN_AUDIT_SEAL_INTERVAL", "%s: want 0 (off) or at least 1m", t)
	}
	if t := c.Notify.SMTP.Timeout; t <= 0 {
		bad("DUBAN_SMTP_TIMEOUT", "%s: want a positive duration such as 30s", t)
	}
	return errors.Join(errs...)
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
		name := f.Tag.Get("env")
		val, ok := os.LookupEnv(name)
		if name == "" || !ok {
			continue
		}
		if f.Type.Kind() == reflect.Slice || f.Type.Kind() == reflect.Map {
			// Lists come as JSON (which YAML reads too).
			if err := yaml.UnmarshalWithOptions([]byte(val), fv.Addr().Interface(), yaml.Strict()); err != nil {
				return fmt.Errorf("%s: not a JSON list: %s", name, yaml.FormatError(err, false, false))
			}
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
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct {
			for j := 0; j < fv.Len(); j++ {
				mask(fv.Index(j), fmt.Sprintf("%s[%d].", name, j), out)
			}
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
		case "query":
			val = MaskQuery(val)
		}
		*out = append(*out, fmt.Sprintf("%s = %s", name, val))
	}
}

// MaskQuery hides a URL's query string and password: robot webhook URLs
// carry their credential there (?access_token=…, ?key=…).
func MaskQuery(s string) string {
	s = MaskURL(s)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return s[:i] + "?******"
	}
	return s
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
