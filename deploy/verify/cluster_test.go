package verify

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	componentLabel  = "app.kubernetes.io/component"
	postgresPort    = 5432
	cnpgStatusPort  = 8000
	cnpgMetricsPort = 9187
	defaultMaxConns = 100 // PostgreSQL's max_connections default
	connHeadroom    = 10  // superuser and operator connections
	// sessionsPerReplica are connections a replica may hold outside its
	// pool (the history service's projection and LISTEN sessions).
	sessionsPerReplica = 2
	monitoringNS       = "monitoring"
	cnpgOperatorNS     = "cnpg-system"
	restrictedPSA      = "restricted"
	psaEnforceLabel    = "pod-security.kubernetes.io/enforce"
	productionPrefix   = "prod"
)

// checkNamespace: the overlay renders its namespace, enforces the restricted
// Pod Security Standard on it, and puts every object in it.
func checkNamespace(t *testing.T, b *bundle) {
	if len(b.namespaces) != 1 {
		t.Fatalf("renders %d Namespaces; want 1", len(b.namespaces))
	}
	ns := b.namespaces[0]
	if ns.Labels[psaEnforceLabel] != restrictedPSA {
		t.Errorf("Namespace %s: %s=%q; want %q", ns.Name, psaEnforceLabel, ns.Labels[psaEnforceLabel], restrictedPSA)
	}
	for _, o := range b.all {
		if o == ns {
			continue
		}
		if o.GetNamespace() != ns.Name {
			t.Errorf("%s is in namespace %q; want %q", o.GetName(), o.GetNamespace(), ns.Name)
		}
	}
}

func (b *bundle) namespace() string {
	if len(b.namespaces) == 1 {
		return b.namespaces[0].Name
	}
	return ""
}

func (b *bundle) selected(sel map[string]string) []workload {
	if len(sel) == 0 {
		return nil
	}
	s := labels.SelectorFromSet(sel)
	var ws []workload
	for _, w := range b.workloads() {
		if s.Matches(labels.Set(w.template.Labels)) {
			ws = append(ws, w)
		}
	}
	return ws
}

// serviceOfHost finds the Service a host name means from inside the
// namespace: "name" or "name.namespace[.svc[.cluster.local]]".
func serviceOfHost(b *bundle, host string) (*corev1.Service, error) {
	parts := strings.Split(host, ".")
	if len(parts) > 1 && parts[1] != b.namespace() {
		return nil, fmt.Errorf("host %s is outside namespace %s", host, b.namespace())
	}
	svc := b.service(parts[0])
	if svc == nil {
		return nil, fmt.Errorf("no Service %s in the overlay", parts[0])
	}
	return svc, nil
}

// serviceBackend follows Service port to the one workload it selects and
// the container port its targetPort names.
func serviceBackend(b *bundle, svc *corev1.Service, port int32) (workload, *corev1.Container, corev1.ContainerPort, error) {
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return workload{}, nil, corev1.ContainerPort{}, fmt.Errorf("Service %s has no port %d", svc.Name, port)
	}
	ws := b.selected(svc.Spec.Selector)
	if len(ws) != 1 {
		return workload{}, nil, corev1.ContainerPort{}, fmt.Errorf("Service %s selects %d workloads; want 1", svc.Name, len(ws))
	}
	w := ws[0]
	target := sp.TargetPort
	if target.Type == intstr.Int && target.IntVal == 0 {
		target = intstr.FromInt32(sp.Port)
	}
	for i := range w.template.Spec.Containers {
		c := &w.template.Spec.Containers[i]
		for _, cp := range c.Ports {
			if (target.Type == intstr.String && cp.Name == target.StrVal) || (target.Type == intstr.Int && cp.ContainerPort == target.IntVal) {
				return w, c, cp, nil
			}
		}
	}
	return w, nil, corev1.ContainerPort{}, fmt.Errorf("Service %s port %d targets %s, which no container of %s %s declares", svc.Name, port, target.String(), w.kind, w.name)
}

// checkServices: every Service selects exactly one workload's pods, and each
// of its ports targets a port a container declares.
func checkServices(t *testing.T, b *bundle) {
	for _, svc := range b.services {
		if len(svc.Spec.Selector) == 0 {
			t.Errorf("Service %s has no selector", svc.Name)
			continue
		}
		for _, p := range svc.Spec.Ports {
			if _, _, _, err := serviceBackend(b, svc, p.Port); err != nil {
				t.Error(err)
			}
		}
	}
}

// checkScaling: each Deployment has exactly one HorizontalPodAutoscaler and
// one PodDisruptionBudget aimed at it; the autoscaler owns the replica count
// and the budget lets a node drain proceed at the minimum count.
func checkScaling(t *testing.T, b *bundle) {
	for _, d := range b.deployments {
		if d.Spec.Replicas != nil {
			t.Errorf("Deployment %s sets replicas; the HorizontalPodAutoscaler owns them (an apply would reset its count)", d.Name)
		}
		min, _, ok := hpaBounds(t, b, d)
		if !ok {
			continue
		}
		if strings.HasPrefix(b.name, productionPrefix) && min < 2 {
			t.Errorf("Deployment %s: minReplicas %d; production keeps at least 2", d.Name, min)
		}
		pod := labels.Set(d.Spec.Template.Labels)
		var n int
		for _, p := range b.pdbs {
			s, err := metavSelector(p.Spec.Selector)
			if err != nil {
				t.Errorf("PodDisruptionBudget %s: %v", p.Name, err)
				continue
			}
			if !s.Matches(pod) {
				continue
			}
			n++
			switch {
			case p.Spec.MaxUnavailable != nil:
				v, err := intstr.GetScaledValueFromIntOrPercent(p.Spec.MaxUnavailable, int(min), true)
				if err != nil || v < 1 {
					t.Errorf("PodDisruptionBudget %s: maxUnavailable %s allows no disruption at %d replicas", p.Name, p.Spec.MaxUnavailable.String(), min)
				}
			case p.Spec.MinAvailable != nil:
				v, err := intstr.GetScaledValueFromIntOrPercent(p.Spec.MinAvailable, int(min), true)
				if err != nil || int32(v) >= min {
					t.Errorf("PodDisruptionBudget %s: minAvailable %s blocks every drain at %d replicas", p.Name, p.Spec.MinAvailable.String(), min)
				}
			default:
				t.Errorf("PodDisruptionBudget %s sets neither minAvailable nor maxUnavailable", p.Name)
			}
		}
		if n != 1 {
			t.Errorf("Deployment %s: %d PodDisruptionBudgets select its pods; want 1", d.Name, n)
		}
	}
	for _, p := range b.pdbs {
		s, err := metavSelector(p.Spec.Selector)
		if err != nil {
			continue
		}
		var hits []string
		for _, w := range b.workloads() {
			if s.Matches(labels.Set(w.template.Labels)) {
				hits = append(hits, w.name)
			}
		}
		if len(hits) != 1 {
			t.Errorf("PodDisruptionBudget %s selects the pods of %v; want exactly one workload", p.Name, hits)
		}
	}
	for _, h := range b.hpas {
		r := h.Spec.ScaleTargetRef
		if r.APIVersion != "apps/v1" || r.Kind != "Deployment" || !slices.ContainsFunc(b.deployments, func(d *appsv1.Deployment) bool { return d.Name == r.Name }) {
			t.Errorf("HorizontalPodAutoscaler %s targets %s %s %s, which the overlay does not render", h.Name, r.APIVersion, r.Kind, r.Name)
		}
	}
}

func metavSelector(sel *metav1.LabelSelector) (labels.Selector, error) {
	if sel == nil {
		return labels.Nothing(), nil
	}
	return metav1.LabelSelectorAsSelector(sel)
}

// hpaBounds finds the one autoscaler of d and returns its bounds.
func hpaBounds(t *testing.T, b *bundle, d *appsv1.Deployment) (min, max int32, ok bool) {
	t.Helper()
	var found []int
	for i, h := range b.hpas {
		r := h.Spec.ScaleTargetRef
		if r.APIVersion == "apps/v1" && r.Kind == "Deployment" && r.Name == d.Name {
			found = append(found, i)
		}
	}
	if len(found) != 1 {
		t.Errorf("Deployment %s: %d HorizontalPodAutoscalers target it; want 1", d.Name, len(found))
		return 0, 0, false
	}
	h := b.hpas[found[0]]
	min = 1
	if h.Spec.MinReplicas != nil {
		min = *h.Spec.MinReplicas
	}
	if h.Spec.MaxReplicas < min || len(h.Spec.Metrics) == 0 {
		t.Errorf("HorizontalPodAutoscaler %s: replicas %d..%d with %d metrics; want min <= max and a metric", h.Name, min, h.Spec.MaxReplicas, len(h.Spec.Metrics))
	}
	return min, h.Spec.MaxReplicas, true
}

// checkIngress: every rule leads to the gateway's HTTP port through its
// Service; TLS Secrets exist; production serves every host over TLS.
func checkIngress(t *testing.T, f *fixture, b *bundle) {
	if len(b.ingresses) == 0 {
		t.Fatal("no Ingress for the gateway")
	}
	for _, ing := range b.ingresses {
		tlsHosts := map[string]bool{}
		for _, tls := range ing.Spec.TLS {
			if !b.secretExists(tls.SecretName) {
				t.Errorf("Ingress %s: TLS Secret %s is neither rendered nor a documented external Secret", ing.Name, tls.SecretName)
			}
			for _, h := range tls.Hosts {
				tlsHosts[h] = true
			}
		}
		for _, r := range ing.Spec.Rules {
			if strings.HasPrefix(b.name, productionPrefix) && !tlsHosts[r.Host] {
				t.Errorf("Ingress %s: host %q is not served over TLS", ing.Name, r.Host)
			}
			if r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				if err := leadsToGateway(f, b, p.Backend.Service); err != nil {
					t.Errorf("Ingress %s path %s: %v", ing.Name, p.Path, err)
				}
			}
		}
	}
}

func leadsToGateway(f *fixture, b *bundle, be *networkingv1.IngressServiceBackend) error {
	if be == nil {
		return fmt.Errorf("backend is not a Service")
	}
	svc := b.service(be.Name)
	if svc == nil {
		return fmt.Errorf("no Service %s", be.Name)
	}
	port := be.Port.Number
	if be.Port.Name != "" {
		i := slices.IndexFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == be.Port.Name })
		if i < 0 {
			return fmt.Errorf("Service %s has no port named %s", svc.Name, be.Port.Name)
		}
		port = svc.Spec.Ports[i].Port
	}
	w, c, cp, err := serviceBackend(b, svc, port)
	if err != nil {
		return err
	}
	_, _, st := f.docker.imageStage(c.Image)
	if st == nil {
		return fmt.Errorf("Service %s leads to %s %s, which runs none of our binaries", svc.Name, w.kind, w.name)
	}
	want, ok := f.binaries[st.name].listenPort("http", containerValues(b, c))
	if !ok || cp.ContainerPort != want {
		return fmt.Errorf("Service %s leads to %s port %d, not an HTTP listener", svc.Name, st.name, cp.ContainerPort)
	}
	return nil
}
