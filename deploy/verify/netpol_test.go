package verify

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// pod is a pod as NetworkPolicies see it: labels, its namespace's labels and
// its container ports (for named ports).
type pod struct {
	part      string // what it is: a workload name, or an outside party
	namespace string
	nsLabels  map[string]string
	labels    map[string]string
	ports     []corev1.ContainerPort
}

func nsLabels(ns string, extra map[string]string) map[string]string {
	m := map[string]string{"kubernetes.io/metadata.name": ns}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// allowed evaluates the policies for TCP traffic from src to dst:port, both
// the ingress side at dst and the egress side at src, as Kubernetes does:
// a pod no policy selects (for that direction) is open; a selected pod
// accepts only what some rule of a selecting policy allows.
func allowed(pols []*networkingv1.NetworkPolicy, src, dst pod, port int32) (bool, error) {
	in, err := direction(pols, networkingv1.PolicyTypeIngress, dst, src, dst, port)
	if err != nil || !in {
		return false, err
	}
	return direction(pols, networkingv1.PolicyTypeEgress, src, dst, dst, port)
}

func direction(pols []*networkingv1.NetworkPolicy, typ networkingv1.PolicyType, subject, peer, dst pod, port int32) (bool, error) {
	selected := false
	for _, p := range pols {
		if p.Namespace != subject.namespace || !hasType(p, typ) {
			continue
		}
		ok, err := matches(&p.Spec.PodSelector, subject.labels)
		if err != nil {
			return false, err
		}
		if !ok {
			continue
		}
		selected = true
		type rule struct {
			peers []networkingv1.NetworkPolicyPeer
			ports []networkingv1.NetworkPolicyPort
		}
		var rules []rule
		if typ == networkingv1.PolicyTypeIngress {
			for _, r := range p.Spec.Ingress {
				rules = append(rules, rule{r.From, r.Ports})
			}
		} else {
			for _, r := range p.Spec.Egress {
				rules = append(rules, rule{r.To, r.Ports})
			}
		}
		for _, r := range rules {
			peerOK := len(r.peers) == 0
			for _, pe := range r.peers {
				m, err := peerMatches(pe, p.Namespace, peer)
				if err != nil {
					return false, fmt.Errorf("policy %s: %w", p.Name, err)
				}
				peerOK = peerOK || m
			}
			if peerOK && portMatches(r.ports, dst, port) {
				return true, nil
			}
		}
	}
	return !selected, nil
}

// hasType applies the API's default: Ingress always, Egress when the policy
// has egress rules.
func hasType(p *networkingv1.NetworkPolicy, typ networkingv1.PolicyType) bool {
	if len(p.Spec.PolicyTypes) == 0 {
		return typ == networkingv1.PolicyTypeIngress || len(p.Spec.Egress) > 0
	}
	for _, t := range p.Spec.PolicyTypes {
		if t == typ {
			return true
		}
	}
	return false
}

func matches(sel *metav1.LabelSelector, l map[string]string) (bool, error) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false, err
	}
	return s.Matches(labels.Set(l)), nil
}

func peerMatches(pe networkingv1.NetworkPolicyPeer, policyNS string, p pod) (bool, error) {
	if pe.IPBlock != nil {
		return false, fmt.Errorf("ipBlock peers are not modelled by this test; use selectors")
	}
	if pe.NamespaceSelector == nil && p.namespace != policyNS {
		return false, nil
	}
	if pe.NamespaceSelector != nil {
		ok, err := matches(pe.NamespaceSelector, p.nsLabels)
		if err != nil || !ok {
			return false, err
		}
	}
	if pe.PodSelector != nil {
		return matches(pe.PodSelector, p.labels)
	}
	return true, nil
}

func portMatches(ports []networkingv1.NetworkPolicyPort, dst pod, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, pp := range ports {
		if pp.Protocol != nil && *pp.Protocol != corev1.ProtocolTCP {
			continue
		}
		if pp.Port == nil {
			return true
		}
		if pp.Port.IntVal != 0 || pp.Port.StrVal == "" {
			end := pp.Port.IntVal
			if pp.EndPort != nil {
				end = *pp.EndPort
			}
			if port >= pp.Port.IntVal && port <= end {
				return true
			}
			continue
		}
		for _, cp := range dst.ports {
			if cp.Name == pp.Port.StrVal && cp.ContainerPort == port {
				return true
			}
		}
	}
	return false
}

// party is a pod seen by the network-policy check, with what it is.
type party struct {
	pod
	binary string // the binary its main container runs, if ours
	db     bool   // a database instance
	cnpg   bool   // run by CloudNativePG
}

// checkNetworkPolicies evaluates the policies for every pair of parties and
// every port of the destination, against the intended reachability:
//
//   - the gateway's HTTP port: anyone;
//   - a service's gRPC port: exactly the binaries that read its address
//     variable (gateway -> all three, ledger and history -> customer,
//     history -> ledger);
//   - admin ports and the database's exporter: Prometheus in "monitoring";
//   - PostgreSQL: the binaries that read DATABASE_URL, and for CloudNativePG
//     its own instances and its operator (which also reach port 8000);
//   - nothing else, from anywhere.
func checkNetworkPolicies(t *testing.T, f *fixture, b *bundle) {
	ns := b.namespace()
	nsl := nsLabels(ns, b.namespaces[0].Labels)
	var inside []party
	for _, w := range b.workloads() {
		p := party{pod: pod{part: w.name, namespace: ns, nsLabels: nsl, labels: w.template.Labels}}
		for _, c := range w.template.Spec.Containers {
			p.ports = append(p.ports, c.Ports...)
			if _, _, st := f.docker.imageStage(c.Image); st != nil {
				p.binary = st.name
			}
		}
		p.db = w.template.Labels[componentLabel] == "database"
		inside = append(inside, p)
	}
	for _, c := range b.clusters {
		l := map[string]string{cnpgClusterLabel: c.Name}
		if c.Spec.InheritedMetadata != nil {
			maps.Copy(l, c.Spec.InheritedMetadata.Labels)
		}
		inside = append(inside, party{pod: pod{part: c.Name, namespace: ns, nsLabels: nsl, labels: l, ports: cnpgPorts}, db: true, cnpg: true})
	}
	parties := append(slices.Clone(inside),
		party{pod: pod{part: "outside", namespace: "elsewhere", nsLabels: nsLabels("elsewhere", nil), labels: map[string]string{}}},
		party{pod: pod{part: "monitoring", namespace: monitoringNS, nsLabels: nsLabels(monitoringNS, nil), labels: map[string]string{"app.kubernetes.io/name": "prometheus"}}},
		party{pod: pod{part: "stranger", namespace: ns, nsLabels: nsl, labels: map[string]string{"app.kubernetes.io/name": "debug"}}},
	)
	if len(b.clusters) > 0 {
		parties = append(parties, party{pod: pod{part: "cnpg-operator", namespace: cnpgOperatorNS, nsLabels: nsLabels(cnpgOperatorNS, nil), labels: map[string]string{"app.kubernetes.io/name": "cloudnative-pg"}}})
	}
	for _, dst := range inside {
		for _, port := range dst.ports {
			for _, src := range parties {
				got, err := allowed(b.netpols, src.pod, dst.pod, port.ContainerPort)
				if err != nil {
					t.Fatal(err)
				}
				if want := reachable(f, src, dst, port); got != want {
					t.Errorf("%s -> %s port %d (%s): allowed=%v, want %v", src.part, dst.part, port.ContainerPort, port.Name, got, want)
				}
			}
		}
	}
}

// reachable is the intended policy (see checkNetworkPolicies).
func reachable(f *fixture, src, dst party, port corev1.ContainerPort) bool {
	if dst.binary != "" {
		switch port.Name {
		case "http":
			return true
		case "grpc":
			return src.binary != "" && slices.Contains(f.callers(dst.binary), src.binary)
		case "admin":
			return src.part == "monitoring"
		}
		return false
	}
	if !dst.db {
		return false
	}
	infra := dst.cnpg && ((src.cnpg && src.part == dst.part) || src.part == "cnpg-operator")
	switch port.ContainerPort {
	case postgresPort:
		if src.binary != "" {
			_, reads := f.binaries[src.binary].env["DATABASE_URL"]
			return reads
		}
		return infra
	case cnpgStatusPort:
		return infra
	case cnpgMetricsPort:
		return src.part == "monitoring"
	}
	return false
}
