// Package deploy_test validates the deployment files offline: the Kubernetes
// manifests decoded strictly into their k8s.io/api types, the compose file
// through compose-go's loader (which carries the compose schema), the
// Dockerfile, the systemd units, and docs/operations.md — all against the
// settings config/config.go actually reads.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	composetypes "github.com/compose-spec/compose-go/v2/types"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/duban-dev/duban/config"
	dubancli "github.com/duban-dev/duban/internal/cli"
	"github.com/duban-dev/duban/internal/gendoc"
)

// ---------------------------------------------------------------------------
// The settings Duban reads

// setting is one field of config.Config that the environment can set.
type setting struct {
	Env     string
	Key     string // YAML key path, e.g. temporal.address
	Default string
	Secret  string // "", or how the value is secret
	Doc     string // the field's comment in config.go
}

// configSettings reflects over config.Config, recursing into nested structs,
// and returns every field with an env tag, with its default.
func configSettings() []setting {
	var out []setting
	collectSettings(reflect.ValueOf(config.Default()), "", &out)
	return out
}

func collectSettings(v reflect.Value, prefix string, out *[]setting) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		key := prefix + strings.Split(f.Tag.Get("yaml"), ",")[0]
		if f.Type.Kind() == reflect.Struct {
			collectSettings(v.Field(i), key+".", out)
			continue
		}
		env := f.Tag.Get("env")
		if env == "" {
			continue
		}
		s := setting{Env: env, Key: key, Default: fmt.Sprint(v.Field(i).Interface()), Doc: fieldDocs()[t.Name()+"."+f.Name]}
		switch tag := f.Tag.Get("secret"); {
		case tag == "url":
			s.Secret = "password in the URL"
		case tag == "query":
			s.Secret = "URL query"
		case tag != "":
			s.Secret = "yes"
		case holdsSecret(f.Type):
			s.Secret = "yes (fields inside)"
		}
		*out = append(*out, s)
	}
}

// fieldDocs reads the comments of config.go's struct fields, keyed
// "Type.Field", to seed the meaning of new rows in the reference.
var fieldDocs = sync.OnceValue(func() map[string]string {
	docs := map[string]string{}
	f, err := parser.ParseFile(token.NewFileSet(), "../config/config.go", nil, parser.ParseComments)
	if err != nil {
		return docs
	}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return true
		}
		for _, fld := range st.Fields.List {
			doc := fld.Doc.Text()
			if doc == "" {
				doc = fld.Comment.Text()
			}
			doc = strings.Join(strings.Fields(doc), " ")
			for _, name := range fld.Names {
				// "DatabaseURL is the PostgreSQL primary." → "The PostgreSQL primary."
				d := doc
				if rest, ok := strings.CutPrefix(d, name.Name+" is "); ok && rest != "" {
					d = strings.ToUpper(rest[:1]) + rest[1:]
				}
				docs[ts.Name.Name+"."+name.Name] = d
			}
		}
		return false
	})
	return docs
})

// holdsSecret reports whether a list setting (such as the webhooks, given
// as JSON in one variable) has secret fields inside.
func holdsSecret(t reflect.Type) bool {
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("secret") != "" || holdsSecret(t.Field(i).Type) {
			return true
		}
	}
	return false
}

// otherEnv are variables the deployment files may set that are not fields
// of config.Config, each with the reason it is allowed.
var otherEnv = map[string]string{
	"DUBAN_CONFIG": "path of the YAML configuration file; read by config.Load itself",
	"TZ":           "zone of log timestamps; Duban reads every plan date in Asia/Shanghai regardless",
	"GOMEMLIMIT":   "Go runtime soft memory limit, kept below the container's memory limit",
}

func knownEnv() map[string]bool {
	known := map[string]bool{}
	for _, s := range configSettings() {
		known[s.Env] = true
	}
	for name := range otherEnv {
		known[name] = true
	}
	return known
}

func secretEnv() map[string]bool {
	out := map[string]bool{}
	for _, s := range configSettings() {
		if s.Secret != "" {
			out[s.Env] = true
		}
	}
	return out
}

// required lists, per subcommand, the settings a deployment must give.
var required = map[string][]string{
	"serve":   {"DATABASE_URL", "DUBAN_JWT_KEY", "DUBAN_HTTP_ADDR", "DUBAN_PUBLIC_URL", "DUBAN_DATA_DIR", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "DUBAN_TASK_QUEUE"},
	"worker":  {"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "DUBAN_TASK_QUEUE"},
	"migrate": {"DATABASE_URL"},
}

// sharedByAPIAndWorker must agree between `duban serve` and `duban worker`:
// the API starts and updates workflows on the queue the workers poll.
var sharedByAPIAndWorker = []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "DUBAN_TASK_QUEUE", "DUBAN_WORKFLOW_ID_PREFIX", "DATABASE_URL"}

func TestConfigHasTheSettingsDeploymentsUse(t *testing.T) {
	known := knownEnv()
	for _, names := range required {
		for _, n := range names {
			if !known[n] {
				t.Errorf("%s is required by the deployment files but config/config.go does not read it", n)
			}
		}
	}
	if len(configSettings()) < 15 {
		t.Fatalf("found only %d settings in config.Config; the reflection walk is broken", len(configSettings()))
	}
}

// loadsAsConfig sets env as the whole environment of config.Load and
// reports what Duban itself would say about it: a value that is not a number
// or a boolean where one is expected stops the process at start.
func loadsAsConfig(t *testing.T, env map[string]string) (config.Config, error) {
	t.Helper()
	for name := range knownEnv() {
		old, had := os.LookupEnv(name)
		os.Unsetenv(name)
		t.Cleanup(func() {
			if had {
				os.Setenv(name, old)
			} else {
				os.Unsetenv(name)
			}
		})
	}
	for k, v := range env {
		if k == "DUBAN_CONFIG" {
			continue // a file inside the container
		}
		os.Setenv(k, v)
	}
	return config.Load("")
}

// checkEnv checks one process's environment: every name is a setting,
// the required ones are there, and config.Load accepts the values.
func checkEnv(t *testing.T, where, command string, env map[string]string) {
	t.Helper()
	known := knownEnv()
	for name := range env {
		if !known[name] {
			t.Errorf("%s: %s is not a setting of config/config.go (nor in otherEnv)", where, name)
		}
	}
	for _, name := range required[command] {
		if env[name] == "" {
			t.Errorf("%s: `duban %s` needs %s", where, command, name)
		}
	}
	if _, err := loadsAsConfig(t, env); err != nil {
		t.Errorf("%s: duban would refuse to start: %v", where, err)
	}
}

// checkListensBeyondLoopback: in a container, an API on 127.0.0.1 (the
// default) is unreachable for probes, the Service and the port mapping.
func checkListensBeyondLoopback(t *testing.T, where string, env map[string]string) {
	t.Helper()
	host, _, err := net.SplitHostPort(env["DUBAN_HTTP_ADDR"])
	if err != nil {
		t.Errorf("%s: DUBAN_HTTP_ADDR=%q: %v", where, env["DUBAN_HTTP_ADDR"], err)
	} else if host == "127.0.0.1" || host == "localhost" || host == "::1" {
		t.Errorf("%s: DUBAN_HTTP_ADDR=%q listens on loopback only; probes and peers cannot reach it", where, env["DUBAN_HTTP_ADDR"])
	}
}

// ---------------------------------------------------------------------------
// Kubernetes manifests

// k8sKinds maps "apiVersion kind" to the type a manifest decodes into.
// A kind not listed here fails the test: add it deliberately.
var k8sKinds = map[string]func() any{
	"v1 Namespace":                                  func() any { return &corev1.Namespace{} },
	"v1 ServiceAccount":                             func() any { return &corev1.ServiceAccount{} },
	"v1 ConfigMap":                                  func() any { return &corev1.ConfigMap{} },
	"v1 Secret":                                     func() any { return &corev1.Secret{} },
	"v1 Service":                                    func() any { return &corev1.Service{} },
	"v1 PersistentVolumeClaim":                      func() any { return &corev1.PersistentVolumeClaim{} },
	"apps/v1 Deployment":                            func() any { return &appsv1.Deployment{} },
	"batch/v1 Job":                                  func() any { return &batchv1.Job{} },
	"autoscaling/v2 HorizontalPodAutoscaler":        func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1 PodDisruptionBudget":                 func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1 Ingress":                  func() any { return &networkingv1.Ingress{} },
	"networking.k8s.io/v1 NetworkPolicy":            func() any { return &networkingv1.NetworkPolicy{} },
	"kustomize.config.k8s.io/v1beta1 Kustomization": func() any { return &kustomization{} },
}

// kustomization is the part of kustomize's type the manifests use.
type kustomization struct {
	metav1.TypeMeta `json:",inline"`
	Namespace       string   `json:"namespace,omitempty"`
	Resources       []string `json:"resources"`
	Images          []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
}

// decodeStrict turns one YAML document into its typed object. Unknown or
// misspelled fields, fields in the wrong case, duplicate keys, wrong types
// and unknown kinds are errors.
func decodeStrict(doc []byte) (any, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil // only comments
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, err
	}
	newObj := k8sKinds[tm.APIVersion+" "+tm.Kind]
	if newObj == nil {
		return nil, fmt.Errorf("unknown kind %q in apiVersion %q", tm.Kind, tm.APIVersion)
	}
	obj := newObj()
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	// encoding/json matches field names case-insensitively; the API server
	// does not ("containerport" is dropped there), so decode again the way
	// Kubernetes does.
	strict, err := kjson.UnmarshalStrict(js, newObj(), kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("%s: %w", tm.Kind, errors.Join(strict...))
	}
	return obj, nil
}

// splitYAML returns the documents of a multi-document YAML stream.
func splitYAML(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
}

type k8sObject struct {
	File string
	Doc  int
	Obj  any
}

func (o k8sObject) String() string {
	m := objectMeta(o.Obj)
	return fmt.Sprintf("%s#%d %T %s", o.File, o.Doc+1, o.Obj, m.Name)
}

func objectMeta(obj any) metav1.ObjectMeta {
	if k, ok := obj.(*kustomization); ok {
		return metav1.ObjectMeta{Name: "kustomization", Namespace: k.Namespace}
	}
	return reflect.ValueOf(obj).Elem().FieldByName("ObjectMeta").Interface().(metav1.ObjectMeta)
}

// cluster is every object of deploy/k8s, by kind and name.
type cluster struct {
	objects         []k8sObject
	kustomization   *kustomization
	namespaces      map[string]*corev1.Namespace
	serviceAccounts map[string]*corev1.ServiceAccount
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	pvcs            map[string]*corev1.PersistentVolumeClaim
	services        map[string]*corev1.Service
	deployments     map[string]*appsv1.Deployment
	jobs            map[string]*batchv1.Job
	hpas            map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs            map[string]*policyv1.PodDisruptionBudget
	ingresses       map[string]*networkingv1.Ingress
}

func loadCluster(t *testing.T) *cluster {
	t.Helper()
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/k8s: %v", err)
	}
	c := &cluster{
		namespaces: map[string]*corev1.Namespace{}, serviceAccounts: map[string]*corev1.ServiceAccount{},
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		pvcs: map[string]*corev1.PersistentVolumeClaim{}, services: map[string]*corev1.Service{},
		deployments: map[string]*appsv1.Deployment{}, jobs: map[string]*batchv1.Job{},
		hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, pdbs: map[string]*policyv1.PodDisruptionBudget{},
		ingresses: map[string]*networkingv1.Ingress{},
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := splitYAML(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, doc := range docs {
			obj, err := decodeStrict(doc)
			if err != nil {
				t.Errorf("%s document %d: %v", f, i+1, err)
				continue
			}
			if obj == nil {
				continue
			}
			o := k8sObject{File: f, Doc: i, Obj: obj}
			c.objects = append(c.objects, o)
			name := objectMeta(obj).Name
			put := func(m any) {
				mv := reflect.ValueOf(m)
				if mv.MapIndex(reflect.ValueOf(name)).IsValid() {
					t.Errorf("%s: a second %T named %s", o, obj, name)
				}
				mv.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(obj))
			}
			switch v := obj.(type) {
			case *kustomization:
				c.kustomization = v
			case *corev1.Namespace:
				put(c.namespaces)
			case *corev1.ServiceAccount:
				put(c.serviceAccounts)
			case *corev1.ConfigMap:
				put(c.configMaps)
			case *corev1.Secret:
				put(c.secrets)
			case *corev1.PersistentVolumeClaim:
				put(c.pvcs)
			case *corev1.Service:
				put(c.services)
			case *appsv1.Deployment:
				put(c.deployments)
			case *batchv1.Job:
				put(c.jobs)
			case *autoscalingv2.HorizontalPodAutoscaler:
				put(c.hpas)
			case *policyv1.PodDisruptionBudget:
				put(c.pdbs)
			case *networkingv1.Ingress:
				put(c.ingresses)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return c
}

// workload is a pod template and where it comes from.
type workload struct {
	Name string
	Pod  *corev1.PodTemplateSpec
}

func (c *cluster) workloads() []workload {
	var out []workload
	for _, name := range sortedKeys(c.deployments) {
		out = append(out, workload{"Deployment " + name, &c.deployments[name].Spec.Template})
	}
	for _, name := range sortedKeys(c.jobs) {
		out = append(out, workload{"Job " + name, &c.jobs[name].Spec.Template})
	}
	return out
}

// env is the environment a container starts with: its envFrom sources,
// then its env entries (which win), as the kubelet builds it.
func (c *cluster) env(t *testing.T, where string, ctr corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range ctr.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, ok := c.configMaps[from.ConfigMapRef.Name]
			if !ok {
				t.Errorf("%s: envFrom ConfigMap %s is not in deploy/k8s", where, from.ConfigMapRef.Name)
				continue
			}
			for k, v := range cm.Data {
				env[from.Prefix+k] = v
			}
		case from.SecretRef != nil:
			s, ok := c.secrets[from.SecretRef.Name]
			if !ok {
				t.Errorf("%s: envFrom Secret %s is not in the Secret template", where, from.SecretRef.Name)
				continue
			}
			for k, v := range s.StringData {
				env[from.Prefix+k] = v
			}
			for k, v := range s.Data {
				env[from.Prefix+k] = string(v)
			}
		}
	}
	for _, e := range ctr.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			s := c.secrets[e.ValueFrom.SecretKeyRef.Name]
			if s == nil {
				t.Errorf("%s: %s refers to Secret %s, which is not in the template", where, e.Name, e.ValueFrom.SecretKeyRef.Name)
				continue
			}
			env[e.Name] = s.StringData[e.ValueFrom.SecretKeyRef.Key]
		case e.ValueFrom.ConfigMapKeyRef != nil:
			cm := c.configMaps[e.ValueFrom.ConfigMapKeyRef.Name]
			if cm == nil {
				t.Errorf("%s: %s refers to ConfigMap %s, which is not in deploy/k8s", where, e.Name, e.ValueFrom.ConfigMapKeyRef.Name)
				continue
			}
			env[e.Name] = cm.Data[e.ValueFrom.ConfigMapKeyRef.Key]
		default:
			env[e.Name] = "(from the downward API)"
		}
	}
	return env
}

func command(ctr corev1.Container) string {
	if len(ctr.Args) > 0 {
		return ctr.Args[0]
	}
	return ""
}

func TestK8sManifestsDecodeStrictly(t *testing.T) {
	c := loadCluster(t)
	want := map[string]int{
		"*v1.Namespace": 1, "*v1.ConfigMap": 1, "*v1.Secret": 1, "*v1.Service": 1, "*v1.PersistentVolumeClaim": 1,
		"*v1.Deployment": 2, "*v1.Job": 1, "*v2.HorizontalPodAutoscaler": 2, "*v1.PodDisruptionBudget": 2, "*v1.Ingress": 1,
	}
	got := map[string]int{}
	for _, o := range c.objects {
		got[fmt.Sprintf("%T", o.Obj)]++
	}
	for kind, n := range want {
		if got[kind] < n {
			t.Errorf("want at least %d %s in deploy/k8s, found %d", n, kind, got[kind])
		}
	}
	for _, d := range []string{"duban-api", "duban-worker"} {
		if c.deployments[d] == nil {
			t.Errorf("no Deployment %s", d)
		}
	}
	if c.jobs["duban-migrate"] == nil {
		t.Error("no migration Job duban-migrate")
	}
}

// The decoder is the whole point of the test above, so check that it
// catches the mistakes it is there to catch.
func TestK8sStrictDecodingCatchesMistakes(t *testing.T) {
	const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  %s
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        - name: c
          image: i:1
          ports: [{%s: 8080}]
`
	for name, doc := range map[string]string{
		"misspelled field":    fmt.Sprintf(deployment, "replica: 2", "containerPort"),
		"field in wrong case": fmt.Sprintf(deployment, "replicas: 2", "containerport"),
		"wrong type":          fmt.Sprintf(deployment, "replicas: two", "containerPort"),
		"duplicate key":       fmt.Sprintf(deployment, "replicas: 2\n  replicas: 3", "containerPort"),
		"unknown kind":        "apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: x}\n",
		"unknown apiVersion":  "apiVersion: autoscaling/v2beta1\nkind: HorizontalPodAutoscaler\nmetadata: {name: x}\n",
	} {
		if _, err := decodeStrict([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := decodeStrict([]byte(fmt.Sprintf(deployment, "replicas: 2", "containerPort"))); err != nil {
		t.Errorf("a valid Deployment is refused: %v", err)
	}
}

func TestK8sContainersHaveResourcesAndPinnedImages(t *testing.T) {
	c := loadCluster(t)
	for _, w := range c.workloads() {
		ctrs := append(slices.Clone(w.Pod.Spec.InitContainers), w.Pod.Spec.Containers...)
		for _, ctr := range ctrs {
			where := w.Name + " container " + ctr.Name
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, hasReq := ctr.Resources.Requests[r]
				lim, hasLim := ctr.Resources.Limits[r]
				if !hasReq || !hasLim {
					t.Errorf("%s: needs both a request and a limit for %s", where, r)
					continue
				}
				if req.Cmp(lim) > 0 {
					t.Errorf("%s: %s request %s is above its limit %s", where, r, req.String(), lim.String())
				}
			}
			if err := pinnedImage(ctr.Image); err != nil {
				t.Errorf("%s: %v", where, err)
			}
			env := c.env(t, where, ctr)
			if v, ok := env["GOMEMLIMIT"]; ok {
				lim := ctr.Resources.Limits[corev1.ResourceMemory]
				if n, err := parseGoBytes(v); err != nil || n >= lim.Value() {
					t.Errorf("%s: GOMEMLIMIT=%s must be a size below the memory limit %s", where, v, lim.String())
				}
			}
		}
	}
	// API, workers and migration run the same build.
	images := map[string]bool{}
	for _, w := range c.workloads() {
		for _, ctr := range w.Pod.Spec.Containers {
			images[ctr.Image] = true
		}
	}
	if len(images) != 1 {
		t.Errorf("API, worker and migration should run one image, found %v", sortedKeys(images))
	}
}

// parseGoBytes reads a GOMEMLIMIT value such as 450MiB.
func parseGoBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			var n int64
			if _, err := fmt.Sscanf(num, "%d", &n); err != nil {
				return 0, err
			}
			return n * u.mult, nil
		}
	}
	var n int64
	_, err := fmt.Sscanf(s, "%d", &n)
	return n, err
}

// pinnedImage refuses an image without a tag or digest, or tagged latest.
func pinnedImage(image string) error {
	if image == "" {
		return errors.New("no image")
	}
	if strings.Contains(image, "@sha256:") {
		return nil
	}
	last := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	switch {
	case !ok || tag == "":
		return fmt.Errorf("image %s has no tag (it would mean latest)", image)
	case tag == "latest":
		return fmt.Errorf("image %s is tagged latest; pin a version", image)
	case strings.Contains(tag, "$"):
		return fmt.Errorf("image %s: uninterpolated tag", image)
	}
	return nil
}

func TestK8sAPIProbesAndPorts(t *testing.T) {
	c := loadCluster(t)
	var apis int
	for _, w := range c.workloads() {
		for _, ctr := range w.Pod.Spec.Containers {
			if command(ctr) != "serve" {
				continue
			}
			apis++
			where := w.Name + " container " + ctr.Name
			probes := map[string]struct {
				p    *corev1.Probe
				path string
			}{
				"readinessProbe": {ctr.ReadinessProbe, "/readyz"},
				"livenessProbe":  {ctr.LivenessProbe, "/healthz"},
			}
			for name, pr := range probes {
				if pr.p == nil || pr.p.HTTPGet == nil {
					t.Errorf("%s: needs an HTTP %s on %s", where, name, pr.path)
					continue
				}
				if pr.p.HTTPGet.Path != pr.path {
					t.Errorf("%s: %s checks %s, want %s", where, name, pr.p.HTTPGet.Path, pr.path)
				}
				if !containerHasPort(ctr, pr.p.HTTPGet.Port) {
					t.Errorf("%s: %s port %s is not a port of the container", where, name, pr.p.HTTPGet.Port.String())
				}
			}
			if sp := ctr.StartupProbe; sp != nil && sp.HTTPGet != nil && !containerHasPort(ctr, sp.HTTPGet.Port) {
				t.Errorf("%s: startupProbe port %s is not a port of the container", where, sp.HTTPGet.Port.String())
			}
			env := c.env(t, where, ctr)
			_, port, _ := net.SplitHostPort(env["DUBAN_HTTP_ADDR"])
			if !containerHasPort(ctr, intstr.Parse(port)) {
				t.Errorf("%s: DUBAN_HTTP_ADDR=%s but the container declares ports %v", where, env["DUBAN_HTTP_ADDR"], ctr.Ports)
			}
		}
	}
	if apis == 0 {
		t.Fatal("no container runs `duban serve`")
	}
}

func containerHasPort(ctr corev1.Container, port intstr.IntOrString) bool {
	for _, p := range ctr.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return true
		}
	}
	return false
}

func TestK8sEnvIsWhatDubanReads(t *testing.T) {
	c := loadCluster(t)
	known := knownEnv()
	// Keys of ConfigMaps become environment variables through envFrom.
	for _, name := range sortedKeys(c.configMaps) {
		for key := range c.configMaps[name].Data {
			if !known[key] && !strings.Contains(key, ".") {
				t.Errorf("ConfigMap %s: key %s is not a setting of config/config.go", name, key)
			}
		}
	}
	shared := map[string]map[string]string{}
	for _, w := range c.workloads() {
		for _, ctr := range w.Pod.Spec.Containers {
			where := w.Name + " container " + ctr.Name
			env := c.env(t, where, ctr)
			checkEnv(t, where, command(ctr), env)
			if cmd := command(ctr); cmd == "serve" || cmd == "worker" {
				shared[cmd] = env
			}
			// readOnlyRootFilesystem: the evidence directory must be a volume.
			if command(ctr) == "serve" {
				checkListensBeyondLoopback(t, where, env)
				if m := mountFor(ctr, env["DUBAN_DATA_DIR"]); m == nil || m.ReadOnly {
					t.Errorf("%s: DUBAN_DATA_DIR=%s is not on a writable volume", where, env["DUBAN_DATA_DIR"])
				}
			}
			// Temporal TLS files must come from a mounted Secret holding those keys.
			for _, name := range []string{"TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY"} {
				p := env[name]
				if p == "" || command(ctr) == "migrate" {
					continue
				}
				m := mountFor(ctr, p)
				if m == nil {
					t.Errorf("%s: %s=%s is not under a volume mount", where, name, p)
					continue
				}
				vol := podVolume(w.Pod, m.Name)
				if vol == nil || vol.Secret == nil {
					t.Errorf("%s: %s=%s should be mounted from a Secret", where, name, p)
					continue
				}
				if s := c.secrets[vol.Secret.SecretName]; s != nil {
					if _, ok := s.StringData[path.Base(p)]; !ok {
						t.Errorf("%s: %s=%s but Secret %s has no key %s", where, name, p, s.Name, path.Base(p))
					}
				}
			}
		}
	}
	for _, name := range sharedByAPIAndWorker {
		if shared["serve"][name] != shared["worker"][name] {
			t.Errorf("API and worker disagree on %s: %q vs %q", name, shared["serve"][name], shared["worker"][name])
		}
	}
}

func mountFor(ctr corev1.Container, p string) *corev1.VolumeMount {
	if p == "" {
		return nil
	}
	var best *corev1.VolumeMount
	for i, m := range ctr.VolumeMounts {
		if p == m.MountPath || strings.HasPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/") {
			if best == nil || len(m.MountPath) > len(best.MountPath) {
				best = &ctr.VolumeMounts[i]
			}
		}
	}
	return best
}

func podVolume(pod *corev1.PodTemplateSpec, name string) *corev1.Volume {
	for i, v := range pod.Spec.Volumes {
		if v.Name == name {
			return &pod.Spec.Volumes[i]
		}
	}
	return nil
}

func TestK8sReferencesResolve(t *testing.T) {
	c := loadCluster(t)
	// Everything lives in a namespace the manifests create.
	for _, o := range c.objects {
		m := objectMeta(o.Obj)
		switch o.Obj.(type) {
		case *corev1.Namespace, *kustomization:
			continue
		}
		if c.namespaces[m.Namespace] == nil {
			t.Errorf("%s: namespace %q is not created by deploy/k8s", o, m.Namespace)
		}
	}
	for _, w := range c.workloads() {
		spec := w.Pod.Spec
		if sa := spec.ServiceAccountName; sa != "" && c.serviceAccounts[sa] == nil {
			t.Errorf("%s: service account %s does not exist", w.Name, sa)
		}
		volumes := map[string]bool{}
		for _, v := range spec.Volumes {
			volumes[v.Name] = true
			switch {
			case v.PersistentVolumeClaim != nil && c.pvcs[v.PersistentVolumeClaim.ClaimName] == nil:
				t.Errorf("%s: volume %s claims %s, which does not exist", w.Name, v.Name, v.PersistentVolumeClaim.ClaimName)
			case v.Secret != nil && c.secrets[v.Secret.SecretName] == nil:
				t.Errorf("%s: volume %s mounts Secret %s, which is not in the template", w.Name, v.Name, v.Secret.SecretName)
			case v.ConfigMap != nil && c.configMaps[v.ConfigMap.Name] == nil:
				t.Errorf("%s: volume %s mounts ConfigMap %s, which does not exist", w.Name, v.Name, v.ConfigMap.Name)
			}
		}
		for _, ctr := range spec.Containers {
			for _, m := range ctr.VolumeMounts {
				if !volumes[m.Name] {
					t.Errorf("%s container %s: mounts undeclared volume %s", w.Name, ctr.Name, m.Name)
				}
			}
		}
	}
	for _, name := range sortedKeys(c.deployments) {
		d := c.deployments[name]
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Deployment %s: selector does not match its own pod labels (%v)", name, err)
		}
	}
	for _, name := range sortedKeys(c.hpas) {
		h := c.hpas[name]
		ref := h.Spec.ScaleTargetRef
		d := c.deployments[ref.Name]
		if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || d == nil {
			t.Errorf("HPA %s: target %s %s %s does not exist", name, ref.APIVersion, ref.Kind, ref.Name)
			continue
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			t.Errorf("HPA %s: want 2 <= minReplicas <= maxReplicas", name)
		}
		if d.Spec.Replicas != nil && (*d.Spec.Replicas < *h.Spec.MinReplicas || *d.Spec.Replicas > h.Spec.MaxReplicas) {
			t.Errorf("HPA %s: Deployment replicas %d outside [%d, %d]", name, *d.Spec.Replicas, *h.Spec.MinReplicas, h.Spec.MaxReplicas)
		}
	}
	for _, name := range sortedKeys(c.pdbs) {
		p := c.pdbs[name]
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil {
			t.Errorf("PDB %s: %v", name, err)
			continue
		}
		var matched []string
		for _, dn := range sortedKeys(c.deployments) {
			if sel.Matches(labels.Set(c.deployments[dn].Spec.Template.Labels)) {
				matched = append(matched, dn)
			}
		}
		if len(matched) != 1 {
			t.Errorf("PDB %s: selector matches Deployments %v, want exactly one", name, matched)
			continue
		}
		// A PDB that allows no disruption blocks every node drain.
		floor := *c.deployments[matched[0]].Spec.Replicas
		for _, h := range c.hpas {
			if h.Spec.ScaleTargetRef.Name == matched[0] && h.Spec.MinReplicas != nil {
				floor = min(floor, *h.Spec.MinReplicas)
			}
		}
		if p.Spec.MinAvailable == nil || p.Spec.MinAvailable.Type != intstr.Int || p.Spec.MinAvailable.IntVal >= floor {
			t.Errorf("PDB %s: minAvailable must be a number below the %d replicas of %s", name, floor, matched[0])
		}
	}
	for _, name := range sortedKeys(c.services) {
		s := c.services[name]
		var target *appsv1.Deployment
		for _, d := range c.deployments {
			if labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
				target = d
			}
		}
		if target == nil || len(s.Spec.Selector) == 0 {
			t.Errorf("Service %s: selector %v matches no Deployment", name, s.Spec.Selector)
			continue
		}
		for _, p := range s.Spec.Ports {
			if !containerHasPort(target.Spec.Template.Spec.Containers[0], p.TargetPort) {
				t.Errorf("Service %s: targetPort %s is not a port of %s", name, p.TargetPort.String(), target.Name)
			}
		}
	}
	for _, name := range sortedKeys(c.ingresses) {
		for _, rule := range c.ingresses[name].Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				b := p.Backend.Service
				s := c.services[b.Name]
				if s == nil {
					t.Errorf("Ingress %s: backend Service %s does not exist", name, b.Name)
					continue
				}
				if !slices.ContainsFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool {
					return sp.Name == b.Port.Name && b.Port.Name != "" || sp.Port == b.Port.Number && b.Port.Number != 0
				}) {
					t.Errorf("Ingress %s: Service %s has no port %v", name, b.Name, b.Port)
				}
			}
		}
	}
}

// The namespace enforces the "restricted" Pod Security Standard; check the
// pods would be admitted.
func TestK8sPodsMeetRestrictedPodSecurity(t *testing.T) {
	c := loadCluster(t)
	for _, w := range c.workloads() {
		ps := w.Pod.Spec.SecurityContext
		podNonRoot := ps != nil && ps.RunAsNonRoot != nil && *ps.RunAsNonRoot
		podSeccomp := ps != nil && ps.SeccompProfile != nil && ps.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault
		if !podSeccomp {
			t.Errorf("%s: pod needs seccompProfile RuntimeDefault", w.Name)
		}
		if w.Pod.Spec.AutomountServiceAccountToken == nil || *w.Pod.Spec.AutomountServiceAccountToken {
			t.Errorf("%s: Duban never calls the Kubernetes API; set automountServiceAccountToken: false", w.Name)
		}
		for _, ctr := range w.Pod.Spec.Containers {
			where := w.Name + " container " + ctr.Name
			sc := ctr.SecurityContext
			if sc == nil {
				t.Errorf("%s: no securityContext", where)
				continue
			}
			if !podNonRoot && (sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot) {
				t.Errorf("%s: must run as non-root", where)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s: set allowPrivilegeEscalation: false", where)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s: set readOnlyRootFilesystem: true", where)
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("%s: drop ALL capabilities", where)
			}
		}
	}
	for name, ns := range c.namespaces {
		if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("Namespace %s: label pod-security.kubernetes.io/enforce=restricted", name)
		}
	}
}

// The Secret template is committed: it must hold placeholders only, and
// nothing secret may sit in a ConfigMap.
func TestK8sSecretsAreTemplatesAndStayOutOfConfigMaps(t *testing.T) {
	c := loadCluster(t)
	if len(c.secrets) == 0 {
		t.Fatal("no Secret template")
	}
	for _, name := range sortedKeys(c.secrets) {
		s := c.secrets[name]
		if len(s.Data) > 0 {
			t.Errorf("Secret %s: use stringData with CHANGE_ME placeholders, not data", name)
		}
		for k, v := range s.StringData {
			if v != "" && !strings.Contains(v, "CHANGE_ME") {
				t.Errorf("Secret %s: %s holds a value without the CHANGE_ME marker; never commit real secrets", name, k)
			}
		}
	}
	secret := secretEnv()
	for _, name := range sortedKeys(c.configMaps) {
		for key := range c.configMaps[name].Data {
			if secret[key] {
				t.Errorf("ConfigMap %s: %s is a secret (config.go tags it); move it to the Secret", name, key)
			}
		}
	}
	for _, w := range c.workloads() {
		for _, ctr := range w.Pod.Spec.Containers {
			for _, e := range ctr.Env {
				if secret[e.Name] && e.ValueFrom == nil {
					t.Errorf("%s container %s: %s is a secret given as a literal", w.Name, ctr.Name, e.Name)
				}
			}
		}
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	c := loadCluster(t)
	k := c.kustomization
	if k == nil {
		t.Fatal("no kustomization.yaml")
	}
	files, _ := filepath.Glob("k8s/*.yaml")
	var want []string
	for _, f := range files {
		base := filepath.Base(f)
		if base != "kustomization.yaml" && base != "secret.example.yaml" {
			want = append(want, base)
		}
	}
	got := slices.Clone(k.Resources)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("kustomization resources %v, want every manifest but the Secret template: %v", got, want)
	}
	for _, img := range k.Images {
		var used bool
		for _, w := range c.workloads() {
			for _, ctr := range w.Pod.Spec.Containers {
				used = used || strings.SplitN(ctr.Image, ":", 2)[0] == img.Name
			}
		}
		if !used {
			t.Errorf("kustomization images: %s is not the image of any container", img.Name)
		}
		if img.NewTag == "latest" {
			t.Errorf("kustomization images: %s pinned to latest", img.Name)
		}
	}
}

// ---------------------------------------------------------------------------
// Compose

func loadCompose(t *testing.T, envFiles ...string) (*composetypes.Project, error) {
	t.Helper()
	fns := []cli.ProjectOptionsFn{cli.WithWorkingDirectory("compose"), cli.WithInterpolation(true), cli.WithResolvedPaths(true)}
	// Only the files named: never the process environment, nor a
	// developer's own compose/.env.
	if len(envFiles) > 0 {
		fns = append(fns, cli.WithEnvFiles(envFiles...), cli.WithDotEnv)
	}
	opts, err := cli.NewProjectOptions([]string{"compose/compose.yaml"}, fns...)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

func composeEnv(svc composetypes.ServiceConfig) map[string]string {
	env := map[string]string{}
	for k, v := range svc.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	return env
}

func TestComposeLoadsAgainstTheSchema(t *testing.T) {
	p, err := loadCompose(t, "compose/.env.example")
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"postgres", "temporal", "temporal-ui", "duban-migrate", "duban-api", "duban-worker"} {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("no service %s", name)
		}
	}
	var mail bool
	for _, svc := range p.Services {
		mail = mail || strings.Contains(svc.Image, "mailpit")
	}
	if !mail {
		t.Error("no mail catcher (mailpit)")
	}
	if w := p.Services["duban-worker"]; w.Deploy == nil || w.Deploy.Replicas == nil || *w.Deploy.Replicas != 2 {
		t.Error("duban-worker: want deploy.replicas 2")
	}
	versions := map[string]bool{}
	for _, name := range sortedKeys(p.Services) {
		svc := p.Services[name]
		if err := pinnedImage(svc.Image); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
		if strings.HasPrefix(svc.Image, "temporalio/server:") || strings.HasPrefix(svc.Image, "temporalio/admin-tools:") {
			versions[svc.Image[strings.Index(svc.Image, ":")+1:]] = true
		}
	}
	if len(versions) != 1 {
		t.Errorf("Temporal server and admin-tools should share a version, found %v", sortedKeys(versions))
	}
}

// Without the passwords compose must refuse to start rather than run with
// empty or default ones.
func TestComposeRefusesToStartWithoutSecrets(t *testing.T) {
	_, err := loadCompose(t)
	if err == nil {
		t.Fatal("compose.yaml loaded without .env: the passwords and the JWT key must be required variables")
	}
	if !strings.Contains(err.Error(), "in .env") {
		t.Errorf("the error should tell what to set: %v", err)
	}
}

func TestComposeDubanServicesGetTheirSettings(t *testing.T) {
	p, err := loadCompose(t, "compose/.env.example")
	if err != nil {
		t.Fatal(err)
	}
	shared := map[string]map[string]string{}
	for _, name := range []string{"duban-migrate", "duban-api", "duban-worker"} {
		svc := p.Services[name]
		if len(svc.Command) == 0 {
			t.Errorf("%s: no command", name)
			continue
		}
		cmd := svc.Command[0]
		env := composeEnv(svc)
		checkEnv(t, "compose service "+name, cmd, env)
		if cmd == "serve" {
			checkListensBeyondLoopback(t, "compose service "+name, env)
		}
		shared[cmd] = env
		db, err := url.Parse(env["DATABASE_URL"])
		if err != nil || db.Hostname() != "postgres" || db.Path != "/duban" {
			t.Errorf("%s: DATABASE_URL should reach database duban on the postgres service: %v", name, err)
		}
		if cmd != "migrate" {
			host, _, _ := net.SplitHostPort(env["TEMPORAL_ADDRESS"])
			if _, ok := p.Services[host]; !ok {
				t.Errorf("%s: TEMPORAL_ADDRESS=%s is not a compose service", name, env["TEMPORAL_ADDRESS"])
			}
		}
		if !svc.ReadOnly {
			t.Errorf("%s: run with read_only: true like in Kubernetes", name)
		}
	}
	for _, name := range sharedByAPIAndWorker {
		if shared["serve"][name] != shared["worker"][name] {
			t.Errorf("API and worker disagree on %s: %q vs %q", name, shared["serve"][name], shared["worker"][name])
		}
	}
	api := p.Services["duban-api"]
	if !slices.ContainsFunc(api.Volumes, func(v composetypes.ServiceVolumeConfig) bool {
		return v.Target == composeEnv(api)["DUBAN_DATA_DIR"] && !v.ReadOnly
	}) {
		t.Error("duban-api: DUBAN_DATA_DIR must be a writable volume (evidence files)")
	}
	if !slices.ContainsFunc(api.Ports, func(pc composetypes.ServicePortConfig) bool { return pc.Target == 8080 }) {
		t.Error("duban-api: publish port 8080")
	}
}

func TestComposeStartsInOrder(t *testing.T) {
	p, err := loadCompose(t, "compose/.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"postgres", "temporal", "temporal-ui", "duban-api"} {
		if hc := p.Services[name].HealthCheck; hc == nil || hc.Disable || len(hc.Test) == 0 {
			t.Errorf("%s: needs a healthcheck", name)
		}
	}
	for _, name := range sortedKeys(p.Services) {
		for dep, d := range p.Services[name].DependsOn {
			target, ok := p.Services[dep]
			if !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
				continue
			}
			switch d.Condition {
			case composetypes.ServiceConditionHealthy:
				if target.HealthCheck == nil || target.HealthCheck.Disable {
					t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
				}
			case composetypes.ServiceConditionCompletedSuccessfully:
				if target.Restart == "always" || target.Restart == "unless-stopped" {
					t.Errorf("%s waits for %s to complete, but %s restarts %s", name, dep, dep, target.Restart)
				}
			default:
				t.Errorf("%s depends on %s with condition %q; wait for healthy or completed", name, dep, d.Condition)
			}
		}
	}
	want := map[string]map[string]string{
		"duban-migrate": {"postgres": composetypes.ServiceConditionHealthy},
		"duban-api":     {"duban-migrate": composetypes.ServiceConditionCompletedSuccessfully, "temporal": composetypes.ServiceConditionHealthy},
		"duban-worker":  {"duban-migrate": composetypes.ServiceConditionCompletedSuccessfully, "temporal": composetypes.ServiceConditionHealthy},
	}
	for svc, deps := range want {
		for dep, cond := range deps {
			if got := p.Services[svc].DependsOn[dep].Condition; got != cond {
				t.Errorf("%s: depends_on %s condition %q, want %q", svc, dep, got, cond)
			}
		}
	}
}

func TestComposeMountedFilesExist(t *testing.T) {
	p, err := loadCompose(t, "compose/.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sortedKeys(p.Services) {
		for _, v := range p.Services[name].Volumes {
			if v.Type != composetypes.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s: bind mount source %s: %v", name, v.Source, err)
			}
		}
	}
	// The Temporal dynamic config file the server is told to read is mounted.
	tmp := p.Services["temporal"]
	dc := composeEnv(tmp)["DYNAMIC_CONFIG_FILE_PATH"]
	var found bool
	for _, v := range tmp.Volumes {
		if rel, ok := strings.CutPrefix(dc, v.Target+"/"); ok && v.Type == composetypes.VolumeTypeBind {
			if _, err := os.Stat(filepath.Join(v.Source, rel)); err != nil {
				t.Errorf("temporal: DYNAMIC_CONFIG_FILE_PATH=%s: %v", dc, err)
			}
			found = true
		}
	}
	if !found {
		t.Errorf("temporal: DYNAMIC_CONFIG_FILE_PATH=%s is not in a mounted directory", dc)
	}
	// The init script creates the three databases and is executable.
	scripts, _ := filepath.Glob("compose/initdb/*.sh")
	var all string
	for _, s := range scripts {
		fi, err := os.Stat(s)
		if err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s must be executable", s)
		}
		b, _ := os.ReadFile(s)
		all += string(b)
	}
	for _, db := range []string{"duban", "temporal", "temporal_visibility"} {
		if !strings.Contains(all, "CREATE DATABASE "+db+" ") {
			t.Errorf("compose/initdb creates no database %s", db)
		}
	}
}

// ---------------------------------------------------------------------------
// Dockerfile, systemd, documentation

// The binary build command CI runs; the Dockerfile must run the same.
const buildCommand = `CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /duban ./cmd/duban`

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines, drop comments.
	var lines []string
	var cur string
	for _, l := range strings.Split(string(raw), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		if s, ok := strings.CutSuffix(l, `\`); ok {
			cur += s + " "
			continue
		}
		lines = append(lines, cur+l)
		cur = ""
	}
	args := map[string]string{}
	var stages, user string
	var finalEnv []string
	var sawBuild, sawDevKit bool
	known := knownEnv()
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(instr) {
		case "ARG":
			k, v, _ := strings.Cut(rest, "=")
			args[k] = v
		case "FROM":
			image := strings.Fields(rest)[0]
			for k, v := range args {
				image = strings.ReplaceAll(image, "${"+k+"}", v)
			}
			if err := pinnedImage(image); err != nil {
				t.Errorf("Dockerfile FROM: %v", err)
			}
			stages, user, finalEnv = image, "", nil
		case "USER":
			user = rest
		case "RUN":
			sawBuild = sawBuild || strings.Contains(rest, buildCommand)
			sawDevKit = sawDevKit || strings.Contains(rest, "./cmd/duban-dev")
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				name, _, _ := strings.Cut(kv, "=")
				finalEnv = append(finalEnv, name)
			}
		}
	}
	// Only the runtime stage's environment reaches duban.
	for _, name := range finalEnv {
		if !known[name] {
			t.Errorf("Dockerfile ENV %s is not a setting of config/config.go", name)
		}
	}
	if !sawBuild {
		t.Errorf("Dockerfile does not build with %s", buildCommand)
	}
	if sawDevKit {
		t.Error("Dockerfile builds ./cmd/duban-dev: the image carries the production binary only, without the development kit")
	}
	if user == "" || strings.HasPrefix(user, "root") || strings.HasPrefix(user, "0") {
		t.Errorf("final stage %s runs as %q; run as a non-root user", stages, user)
	}
	if !strings.Contains(string(raw), "TZ=Asia/Shanghai") {
		t.Error("Dockerfile: set TZ=Asia/Shanghai")
	}
}

// TestDeployFilesRunProductionCommands: every duban command the deployment
// files run (Kubernetes args, compose commands, systemd ExecStart, the
// image's CMD) is one the production binary has; dev, bench and
// mailcatcher are only in duban-dev, which the image does not carry.
func TestDeployFilesRunProductionCommands(t *testing.T) {
	known := map[string]bool{}
	for _, c := range dubancli.Production() {
		known[c.Name] = true
	}
	check := func(where string, args []string) {
		t.Helper()
		switch {
		case len(args) == 0:
			t.Errorf("%s: runs duban without a command", where)
		case len(args) > 1 && known[args[0]+" "+args[1]]:
		case !known[args[0]]:
			t.Errorf("%s: runs `duban %s`, which is not a command of the production binary", where, strings.Join(args, " "))
		}
	}
	runs := 0
	for _, w := range loadCluster(t).workloads() {
		for _, ctr := range w.Pod.Spec.Containers {
			if strings.Contains(ctr.Image, "/duban/duban:") {
				check(w.Name+" container "+ctr.Name, ctr.Args)
				runs++
			}
		}
	}
	p, err := loadCompose(t, "compose/.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sortedKeys(p.Services) {
		if svc := p.Services[name]; strings.HasPrefix(svc.Image, "duban:") {
			check("compose service "+name, svc.Command)
			runs++
		}
	}
	units, _ := filepath.Glob("systemd/*.service")
	for _, u := range units {
		raw, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "ExecStart="); ok {
				check(u, strings.Fields(v)[1:])
				runs++
			}
		}
	}
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "CMD "); ok {
			var args []string
			if err := json.Unmarshal([]byte(v), &args); err != nil {
				t.Fatalf("Dockerfile CMD %s: %v", v, err)
			}
			check("Dockerfile CMD", args)
			runs++
		}
	}
	// Three Kubernetes workloads, three compose services, three units, one CMD.
	if runs < 10 {
		t.Errorf("found %d places that run duban, want at least 10: is the test still reading the files?", runs)
	}
}

func TestSystemdUnits(t *testing.T) {
	units, _ := filepath.Glob("systemd/*.service")
	if len(units) == 0 {
		t.Fatal("no systemd units")
	}
	known := knownEnv()
	commands := map[string]bool{}
	for _, u := range units {
		raw, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(raw), "\n") {
			l = strings.TrimSpace(l)
			if v, ok := strings.CutPrefix(l, "Environment="); ok {
				for _, kv := range strings.Fields(strings.Trim(v, `"`)) {
					name, _, _ := strings.Cut(strings.Trim(kv, `"`), "=")
					if !known[name] {
						t.Errorf("%s: Environment %s is not a setting of config/config.go", u, name)
					}
				}
			}
			if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
				f := strings.Fields(v)
				if len(f) < 2 || !strings.HasSuffix(f[0], "/duban") {
					t.Errorf("%s: ExecStart=%s should run the duban binary with a subcommand", u, v)
					continue
				}
				commands[f[1]] = true
			}
		}
	}
	for _, c := range []string{"serve", "worker", "migrate"} {
		if !commands[c] {
			t.Errorf("no systemd unit runs `duban %s`", c)
		}
	}
	env := map[string]string{}
	raw, err := os.ReadFile("systemd/duban.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Errorf("systemd/duban.env.example: %q is not NAME=value", l)
			continue
		}
		env[k] = strings.Trim(v, `"`)
	}
	checkEnv(t, "systemd/duban.env.example", "serve", env)
}

// The configuration reference in docs/operations.md is generated from
// config.go: names, keys, defaults and secrecy come from the struct, the
// meanings are kept from the document (seeded from the field comments for a
// new setting). Regenerate after changing config.go:
//
//	DUBAN_UPDATE_DOCS=1 go test ./deploy/ -run TestOperationsDocConfigReference
func TestOperationsDocConfigReference(t *testing.T) {
	ref := gendoc.Block{File: "../docs/operations.md", Name: "config-reference", By: "deploy/deploy_test.go",
		Regenerate: "go test ./deploy/ -run TestOperationsDocConfigReference"}
	doc, old := ref.Read(t)
	file := ref.File
	for _, name := range sortedKeys(otherEnv) {
		if !strings.Contains(doc, "| `"+name+"` |") {
			t.Errorf("%s: %s is set by the deployment files but not explained (%s)", file, name, otherEnv[name])
		}
	}
	meanings := map[string]string{}
	for _, line := range strings.Split(old, "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) == 5 && strings.HasPrefix(cells[0], "| `") {
			meanings[strings.Trim(cells[0], "| `")] = strings.TrimSuffix(cells[4], " |")
		}
	}
	var b strings.Builder
	b.WriteString("| Environment | YAML key | Default | Secret | Meaning |\n| --- | --- | --- | --- | --- |\n")
	for _, s := range configSettings() {
		meaning := meanings[s.Env]
		if meaning == "" {
			meaning = s.Doc
		}
		if meaning == "" {
			meaning = "TODO: say what it does"
		}
		def := "—"
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		secret := "no"
		if s.Secret != "" {
			secret = "**" + s.Secret + "**"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s |\n", s.Env, s.Key, strings.ReplaceAll(def, "|", "\\|"), secret, meaning)
	}
	if ref.Check(t, b.String()) && strings.Contains(old, "TODO") {
		t.Errorf("%s: the configuration reference has settings without a meaning (TODO)", file)
	}
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// ---------------------------------------------------------------------------
// The admin address

// TestMetricsOnTheAdminAddressOnly: `duban serve` and `duban worker` answer
// /metrics (and the probes) on DUBAN_ADMIN_ADDR, a port apart from the
// public one. Every deployment sets it for both; Kubernetes declares it as
// the container port "admin", scrapes and probes it, and no Service or
// Ingress exposes it; compose keeps it on its network; the systemd units
// keep it on loopback, one port per process on the host.
func TestMetricsOnTheAdminAddressOnly(t *testing.T) {
	c := loadCluster(t)
	adminPorts := map[string]int32{} // Deployment name → admin port
	for _, name := range sortedKeys(c.deployments) {
		pod := &c.deployments[name].Spec.Template
		for _, ctr := range pod.Spec.Containers {
			cmd := command(ctr)
			if cmd != "serve" && cmd != "worker" {
				continue
			}
			where := "Deployment " + name + " container " + ctr.Name
			env := c.env(t, where, ctr)
			host, port, err := net.SplitHostPort(env["DUBAN_ADMIN_ADDR"])
			if err != nil {
				t.Errorf("%s: DUBAN_ADMIN_ADDR=%q: %v", where, env["DUBAN_ADMIN_ADDR"], err)
				continue
			}
			if host == "127.0.0.1" || host == "localhost" || host == "::1" {
				t.Errorf("%s: DUBAN_ADMIN_ADDR=%q is loopback: Prometheus and the kubelet cannot reach it", where, env["DUBAN_ADMIN_ADDR"])
			}
			if _, public, _ := net.SplitHostPort(env["DUBAN_HTTP_ADDR"]); cmd == "serve" && public == port {
				t.Errorf("%s: the admin address shares the public port %s", where, port)
			}
			admin := intstr.FromString("admin")
			if !containerHasPort(ctr, admin) || !containerHasPort(ctr, intstr.Parse(port)) {
				t.Errorf("%s: the admin port %s should be declared as the container port named admin", where, port)
			}
			for _, p := range ctr.Ports {
				if p.Name == "admin" {
					adminPorts[name] = p.ContainerPort
				}
			}
			ann := pod.Annotations
			if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != port || ann["prometheus.io/path"] != "/metrics" {
				t.Errorf("%s: scrape annotations %v should point Prometheus at /metrics on port %s", where, ann, port)
			}
			if cmd == "worker" {
				for name, pr := range map[string]*corev1.Probe{"livenessProbe": ctr.LivenessProbe, "readinessProbe": ctr.ReadinessProbe} {
					if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Port != admin {
						t.Errorf("%s: %s should ask the admin port", where, name)
					}
				}
			}
		}
	}
	if len(adminPorts) < 2 {
		t.Fatalf("found the admin port on %d Deployments, want the API's and the workers'", len(adminPorts))
	}
	for _, name := range sortedKeys(c.services) {
		for _, sp := range c.services[name].Spec.Ports {
			for dep, port := range adminPorts {
				if sp.TargetPort.StrVal == "admin" || sp.TargetPort.IntVal == port || sp.Port == port {
					t.Errorf("Service %s exposes the admin port of %s (%s)", name, dep, sp.TargetPort.String())
				}
			}
		}
	}
	for _, name := range sortedKeys(c.ingresses) {
		for _, r := range c.ingresses[name].Spec.Rules {
			for _, p := range r.HTTP.Paths {
				if b := p.Backend.Service; b == nil || b.Port.Name != "http" {
					t.Errorf("Ingress %s: path %s should route to the API's port http only", name, p.Path)
				}
			}
		}
	}

	p, err := loadCompose(t, "compose/.env.example")
	if err != nil {
		t.Fatal(err)
	}
	composed := 0
	for _, name := range sortedKeys(p.Services) {
		svc := p.Services[name]
		if len(svc.Command) == 0 || (svc.Command[0] != "serve" && svc.Command[0] != "worker") {
			continue
		}
		composed++
		_, port, err := net.SplitHostPort(composeEnv(svc)["DUBAN_ADMIN_ADDR"])
		if err != nil {
			t.Errorf("compose service %s: DUBAN_ADMIN_ADDR=%q: %v", name, composeEnv(svc)["DUBAN_ADMIN_ADDR"], err)
			continue
		}
		for _, pub := range svc.Ports {
			if strconv.Itoa(int(pub.Target)) == port {
				t.Errorf("compose service %s publishes the admin port %s on the host", name, port)
			}
		}
	}
	if composed < 2 {
		t.Errorf("found %d compose services running serve or worker, want 2", composed)
	}

	units := map[string]string{} // unit → DUBAN_ADMIN_ADDR
	files, _ := filepath.Glob("systemd/*.service")
	for _, u := range files {
		raw, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		if !strings.Contains(text, "/duban serve") && !strings.Contains(text, "/duban worker") {
			continue
		}
		for _, l := range strings.Split(text, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Environment="); ok {
				for _, kv := range strings.Fields(v) {
					if addr, ok := strings.CutPrefix(kv, "DUBAN_ADMIN_ADDR="); ok {
						units[u] = addr
					}
				}
			}
		}
		addr := strings.ReplaceAll(units[u], "%i", "1") // the first worker instance
		host, _, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" {
			t.Errorf("%s: DUBAN_ADMIN_ADDR=%q should be on 127.0.0.1, a port of its own", u, units[u])
		}
	}
	if len(units) != 2 {
		t.Errorf("the API and the worker units should each set DUBAN_ADMIN_ADDR: %v", units)
	}
	for i := 1; i <= 9; i++ {
		if w := strings.ReplaceAll(units["systemd/duban-worker@.service"], "%i", strconv.Itoa(i)); w == units["systemd/duban-api.service"] {
			t.Errorf("worker instance %d and the API would both listen on %s", i, w)
		}
	}
}
