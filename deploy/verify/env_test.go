package verify

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// externalSecrets are Secrets an overlay uses but does not render: the
// operator creates them before applying (deploy/README.md says how). Secrets
// CloudNativePG creates for a Cluster are known without being listed.
var externalSecrets = map[string]map[string][]string{
	"prod": {
		"abacus-secrets": {"ABACUS_SERVICE_TOKEN"},
		"abacus-tls":     {"tls.crt", "tls.key"},
	},
}

// cnpgAppSecretKeys are the keys of the <cluster>-app Secret CloudNativePG
// creates for the application user.
var cnpgAppSecretKeys = []string{"username", "user", "password", "dbname", "host", "port", "pgpass", "uri", "jdbc-uri", "fqdn-uri", "fqdn-jdbc-uri"}

// envValue is one resolved environment variable of a container.
type envValue struct {
	value  string // the value when known (literal, ConfigMap, rendered Secret)
	source string // "literal", "configmap" or "secret"
	secret corev1.SecretKeySelector
}

// secretHasKey reports whether the Secret name will hold key: rendered in
// the overlay, created by CloudNativePG for one of its Clusters, or listed in
// externalSecrets.
func (b *bundle) secretHasKey(name, key string) bool {
	if s, ok := b.secrets[name]; ok {
		_, inData := s.Data[key]
		_, inString := s.StringData[key]
		return inData || inString
	}
	for _, c := range b.clusters {
		if name == c.Name+"-app" {
			return slices.Contains(cnpgAppSecretKeys, key)
		}
	}
	return slices.Contains(externalSecrets[b.name][name], key)
}

func (b *bundle) secretExists(name string) bool {
	if _, ok := b.secrets[name]; ok {
		return true
	}
	_, ok := externalSecrets[b.name][name]
	return ok
}

// resolveEnv resolves a container's environment against the overlay's
// ConfigMaps and Secrets. envFrom is refused: it hides which variables a
// container gets, and the checks below need to know.
func (b *bundle) resolveEnv(c *corev1.Container) (map[string]envValue, []error) {
	var errs []error
	if len(c.EnvFrom) > 0 {
		errs = append(errs, fmt.Errorf("container %s uses envFrom; name each variable", c.Name))
	}
	env := map[string]envValue{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			errs = append(errs, fmt.Errorf("container %s sets %s twice", c.Name, e.Name))
		}
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = envValue{value: e.Value, source: "literal"}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			r := e.ValueFrom.ConfigMapKeyRef
			cm, ok := b.configMaps[r.Name]
			v, hasKey := "", false
			if ok {
				v, hasKey = cm.Data[r.Key]
			}
			if !hasKey {
				errs = append(errs, fmt.Errorf("container %s: %s from ConfigMap %s key %s, which the overlay does not render", c.Name, e.Name, r.Name, r.Key))
			}
			env[e.Name] = envValue{value: v, source: "configmap"}
		case e.ValueFrom.SecretKeyRef != nil:
			r := e.ValueFrom.SecretKeyRef
			if !b.secretHasKey(r.Name, r.Key) {
				errs = append(errs, fmt.Errorf("container %s: %s from Secret %s key %s, which is neither rendered, created by CloudNativePG, nor a documented external Secret", c.Name, e.Name, r.Name, r.Key))
			}
			v := ""
			if s, ok := b.secrets[r.Name]; ok {
				v = string(s.Data[r.Key])
				if sv, ok := s.StringData[r.Key]; ok {
					v = sv
				}
			}
			env[e.Name] = envValue{value: v, source: "secret", secret: *r}
		default:
			errs = append(errs, fmt.Errorf("container %s: %s comes from neither a literal, a ConfigMap nor a Secret", c.Name, e.Name))
		}
	}
	return env, errs
}

func values(env map[string]envValue) map[string]string {
	m := make(map[string]string, len(env))
	for k, v := range env {
		m[k] = v.value
	}
	return m
}

// clientTarget names the binary a client address variable points at:
// ABACUS_LEDGER_ADDR -> ledger, when ledger is a binary of the build.
func (f *fixture) clientTarget(env string) (string, bool) {
	mid, ok := strings.CutPrefix(env, "ABACUS_")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(mid, "_ADDR")
	if !ok {
		return "", false
	}
	name = strings.ToLower(name)
	_, built := f.binaries[name]
	return name, built
}

// callers are the binaries that call target over gRPC: those that read its
// address variable.
func (f *fixture) callers(target string) []string {
	var cs []string
	for _, bin := range f.binaries {
		for env := range bin.env {
			if t, ok := f.clientTarget(env); ok && t == target {
				cs = append(cs, bin.name)
			}
		}
	}
	slices.Sort(cs)
	return slices.Compact(cs)
}
