package verify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
)

// fixture is everything the tests compare, loaded once per test binary.
type fixture struct {
	root     string
	binaries map[string]*binary // by binary name, for each binary the Dockerfile builds
	docker   *dockerfile
	overlays []*bundle // sorted by name
}

var loadFixture = sync.OnceValues(func() (*fixture, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	df, err := parseDockerfile(filepath.Join(root, "deploy", "Dockerfile"))
	if err != nil {
		return nil, err
	}
	src := newSourceIndex(root)
	bins := map[string]*binary{}
	for _, b := range df.binaries {
		bin, err := src.binary(b.name, b.pkg)
		if err != nil {
			return nil, err
		}
		bins[b.name] = bin
	}
	kustomize, err := kustomizeBinary(root)
	if err != nil {
		return nil, err
	}
	if err := touchInputs(root); err != nil {
		return nil, err
	}
	dirs, err := filepath.Glob(filepath.Join(root, "deploy", "overlays", "*", "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	if len(dirs) == 0 {
		return nil, errors.New("no overlays under deploy/overlays")
	}
	f := &fixture{root: root, binaries: bins, docker: df}
	for _, k := range dirs {
		dir := filepath.Dir(k)
		b := &bundle{name: filepath.Base(dir), dir: dir}
		out, err := render(kustomize, dir)
		if err == nil {
			err = b.decode(out)
		}
		b.err = err
		f.overlays = append(f.overlays, b)
	}
	sort.Slice(f.overlays, func(i, j int) bool { return f.overlays[i].name < f.overlays[j].name })
	return f, nil
})

func setup(t *testing.T) *fixture {
	t.Helper()
	f, err := loadFixture()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// repoRoot is two levels above this package (deploy/verify).
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root := filepath.Clean(filepath.Join(wd, "..", ".."))
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		return "", fmt.Errorf("repository root not found above %s: %w", wd, err)
	}
	return root, nil
}

// kustomizeBinary finds the pinned kustomize: $KUSTOMIZE (set by the
// Makefile), else .tools/bin/kustomize, built from .tools/kustomize.mod
// exactly as the Makefile does when missing or older than the pin.
func kustomizeBinary(root string) (string, error) {
	if k := os.Getenv("KUSTOMIZE"); k != "" {
		if _, err := os.Stat(k); err != nil {
			return "", fmt.Errorf("KUSTOMIZE=%s: %w", k, err)
		}
		return k, nil
	}
	tools := filepath.Join(root, ".tools")
	bin := filepath.Join(tools, "bin", "kustomize")
	if fresh(bin, filepath.Join(tools, "kustomize.mod"), filepath.Join(tools, "kustomize.sum")) {
		return bin, nil
	}
	cmd := exec.Command("go", "build", "-modfile=kustomize.mod", "-o", "bin/kustomize", "sigs.k8s.io/kustomize/kustomize/v5")
	cmd.Dir = tools
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build kustomize from .tools/kustomize.mod: %v\n%s", err, out)
	}
	return bin, nil
}

// fresh reports whether target exists and is newer than every one of deps.
func fresh(target string, deps ...string) bool {
	ti, err := os.Stat(target)
	if err != nil {
		return false
	}
	for _, d := range deps {
		di, err := os.Stat(d)
		if err != nil || di.ModTime().After(ti.ModTime()) {
			return false
		}
	}
	return true
}

// touchInputs reads every file kustomize reads. The go command caches test
// results keyed on the files a test opens itself; kustomize runs in another
// process, so without this an edited manifest could meet a stale cached pass.
func touchInputs(root string) error {
	for _, d := range []string{"base", "components", "overlays"} {
		err := filepath.WalkDir(filepath.Join(root, "deploy", d), func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			_, err = os.ReadFile(p)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func render(kustomize, dir string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kustomize, "build", dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("kustomize build %s: %v\n%s", dir, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// bundle is one rendered overlay, decoded.
type bundle struct {
	name, dir string
	err       error

	all          []metav1.Object
	namespaces   []*corev1.Namespace
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	services     []*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	secrets      map[string]*corev1.Secret
	pdbs         []*policyv1.PodDisruptionBudget
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	netpols      []*networkingv1.NetworkPolicy
	ingresses    []*networkingv1.Ingress
	clusters     []*cnpgCluster
}

var strictDecoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme,
		autoscalingv2.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}()

// decode splits the rendered YAML into documents and decodes each strictly:
// unknown fields, duplicate fields and unregistered kinds are errors.
func (b *bundle) decode(rendered []byte) error {
	b.configMaps = map[string]*corev1.ConfigMap{}
	b.secrets = map[string]*corev1.Secret{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(rendered)))
	var errs []error
	for i := 0; ; i++ {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		j, err := utilyaml.ToJSON(doc)
		if err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
		if err := b.add(j); err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func (b *bundle) add(j []byte) error {
	var tm metav1.TypeMeta
	if err := json.Unmarshal(j, &tm); err != nil {
		return err
	}
	if tm.APIVersion == cnpgAPIVersion && tm.Kind == "Cluster" {
		var c cnpgCluster
		strict, err := sigsjson.UnmarshalStrict(j, &c, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
		if err = errors.Join(append(strict, err)...); err != nil {
			return fmt.Errorf("%s %s: %w", tm.Kind, c.Name, err)
		}
		b.clusters = append(b.clusters, &c)
		b.all = append(b.all, &c)
		return nil
	}
	obj, _, err := strictDecoder.Decode(j, nil, nil)
	if err != nil {
		return fmt.Errorf("%s/%s: %w", tm.APIVersion, tm.Kind, err)
	}
	switch o := obj.(type) {
	case *corev1.Namespace:
		b.namespaces = append(b.namespaces, o)
	case *appsv1.Deployment:
		b.deployments = append(b.deployments, o)
	case *appsv1.StatefulSet:
		b.statefulSets = append(b.statefulSets, o)
	case *corev1.Service:
		b.services = append(b.services, o)
	case *corev1.ConfigMap:
		b.configMaps[o.Name] = o
	case *corev1.Secret:
		b.secrets[o.Name] = o
	case *policyv1.PodDisruptionBudget:
		b.pdbs = append(b.pdbs, o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		b.hpas = append(b.hpas, o)
	case *networkingv1.NetworkPolicy:
		b.netpols = append(b.netpols, o)
	case *networkingv1.Ingress:
		b.ingresses = append(b.ingresses, o)
	default:
		return fmt.Errorf("%s/%s: no check covers this kind; add one before using it", tm.APIVersion, tm.Kind)
	}
	b.all = append(b.all, obj.(metav1.Object))
	return nil
}

// workload is a Deployment or StatefulSet: something that runs pods.
type workload struct {
	kind, name string
	template   *corev1.PodTemplateSpec
	deployment *appsv1.Deployment // nil for a StatefulSet
}

func (b *bundle) workloads() []workload {
	var ws []workload
	for _, d := range b.deployments {
		ws = append(ws, workload{kind: "Deployment", name: d.Name, template: &d.Spec.Template, deployment: d})
	}
	for _, s := range b.statefulSets {
		ws = append(ws, workload{kind: "StatefulSet", name: s.Name, template: &s.Spec.Template})
	}
	return ws
}

func (b *bundle) service(name string) *corev1.Service {
	for _, s := range b.services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

const cnpgAPIVersion = "postgresql.cnpg.io/v1"

// cnpgCluster is the part of CloudNativePG's Cluster (postgresql.cnpg.io/v1)
// that the overlays use, with CloudNativePG's field names. Decoding is strict,
// so a field outside this list (or misspelt) fails until it is added here.
type cnpgCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              cnpgClusterSpec `json:"spec"`
}

type cnpgClusterSpec struct {
	Instances             int32                       `json:"instances"`
	ImageName             string                      `json:"imageName,omitempty"`
	PrimaryUpdateStrategy string                      `json:"primaryUpdateStrategy,omitempty"`
	EnableSuperuserAccess *bool                       `json:"enableSuperuserAccess,omitempty"`
	Bootstrap             *cnpgBootstrap              `json:"bootstrap,omitempty"`
	PostgreSQL            cnpgPostgresConfiguration   `json:"postgresql,omitempty"`
	Storage               cnpgStorage                 `json:"storage,omitempty"`
	Resources             corev1.ResourceRequirements `json:"resources,omitempty"`
	Affinity              cnpgAffinity                `json:"affinity,omitempty"`
	InheritedMetadata     *cnpgEmbeddedMetadata       `json:"inheritedMetadata,omitempty"`
}

type cnpgBootstrap struct {
	InitDB *struct {
		Database string `json:"database,omitempty"`
		Owner    string `json:"owner,omitempty"`
	} `json:"initdb,omitempty"`
}

type cnpgPostgresConfiguration struct {
	Parameters  map[string]string `json:"parameters,omitempty"`
	Synchronous *struct {
		Method         string `json:"method"`
		Number         int    `json:"number"`
		DataDurability string `json:"dataDurability,omitempty"`
	} `json:"synchronous,omitempty"`
}

type cnpgStorage struct {
	Size         string  `json:"size,omitempty"`
	StorageClass *string `json:"storageClass,omitempty"`
}

type cnpgAffinity struct {
	EnablePodAntiAffinity *bool  `json:"enablePodAntiAffinity,omitempty"`
	PodAntiAffinityType   string `json:"podAntiAffinityType,omitempty"`
	TopologyKey           string `json:"topologyKey,omitempty"`
}

type cnpgEmbeddedMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Pod labels CloudNativePG puts on every instance it creates, beside the
// inherited ones.
const cnpgClusterLabel = "cnpg.io/cluster"

// Ports of a CloudNativePG instance: PostgreSQL, the instance manager's
// status endpoint and the metrics exporter.
var cnpgPorts = []corev1.ContainerPort{
	{Name: "postgresql", ContainerPort: 5432},
	{Name: "status", ContainerPort: 8000},
	{Name: "metrics", ContainerPort: 9187},
}
