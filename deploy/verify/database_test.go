package verify

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkDatabase: exactly one database per overlay (production: a
// CloudNativePG Cluster of at least three instances with a synchronous
// standby); every DATABASE_URL points at it; the services' pools, at their
// autoscalers' maximum plus rollout surge, fit in max_connections.
func checkDatabase(t *testing.T, f *fixture, b *bundle) {
	var sts []workload
	for _, w := range b.workloads() {
		if w.template.Labels[componentLabel] == "database" {
			sts = append(sts, w)
		}
	}
	if len(sts)+len(b.clusters) != 1 {
		t.Fatalf("%d database workloads and %d CloudNativePG Clusters; want exactly one database", len(sts), len(b.clusters))
	}
	maxConns := defaultMaxConns
	var cluster *cnpgCluster
	if len(b.clusters) == 1 {
		cluster = b.clusters[0]
		checkCluster(t, cluster)
		if v, ok := cluster.Spec.PostgreSQL.Parameters["max_connections"]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("Cluster %s: max_connections %q: %v", cluster.Name, v, err)
			}
			maxConns = n
		}
	} else {
		if strings.HasPrefix(b.name, productionPrefix) {
			t.Errorf("production runs PostgreSQL through a CloudNativePG Cluster, not %s %s", sts[0].kind, sts[0].name)
		}
		for _, c := range sts[0].template.Spec.Containers {
			for i, a := range c.Args {
				if v, ok := strings.CutPrefix(a, "max_connections="); ok && i > 0 && c.Args[i-1] == "-c" {
					n, err := strconv.Atoi(v)
					if err != nil {
						t.Fatalf("%s: max_connections %q: %v", sts[0].name, v, err)
					}
					maxConns = n
				}
			}
		}
	}

	budget := 0
	for _, d := range b.deployments {
		spec := &d.Spec.Template.Spec
		for i := range spec.Containers {
			c := &spec.Containers[i]
			_, _, st := f.docker.imageStage(c.Image)
			if st == nil {
				continue
			}
			bin := f.binaries[st.name]
			field, reads := bin.env["DATABASE_URL"]
			if !reads {
				continue
			}
			for _, cc := range append(slices.Clone(spec.InitContainers), *c) {
				env, _ := b.resolveEnv(&cc)
				if err := pointsAtDatabase(b, env[field.name], sts, cluster); err != nil {
					t.Errorf("Deployment %s container %s: DATABASE_URL: %v", d.Name, cc.Name, err)
				}
			}
			pool, err := strconv.Atoi(bin.env["ABACUS_DB_MAX_CONNS"].def)
			if v := containerValues(b, c)["ABACUS_DB_MAX_CONNS"]; v != "" {
				pool, err = strconv.Atoi(v)
			}
			if err != nil {
				t.Fatalf("Deployment %s: ABACUS_DB_MAX_CONNS: %v", d.Name, err)
			}
			_, max, ok := hpaBounds(t, b, d)
			if !ok {
				continue
			}
			surge := intstr.FromString("25%")
			if ru := d.Spec.Strategy.RollingUpdate; ru != nil && ru.MaxSurge != nil {
				surge = *ru.MaxSurge
			}
			extra, _ := intstr.GetScaledValueFromIntOrPercent(&surge, int(max), true)
			budget += (int(max) + extra) * (pool + sessionsPerReplica)
		}
	}
	if budget > maxConns-connHeadroom {
		t.Errorf("the services may open %d connections at full scale during a rollout; max_connections %d leaves room for %d", budget, maxConns, maxConns-connHeadroom)
	}
}

func checkCluster(t *testing.T, c *cnpgCluster) {
	t.Helper()
	s := c.Spec
	if s.Instances < 3 {
		t.Errorf("Cluster %s: %d instances; want at least 3", c.Name, s.Instances)
	}
	if sy := s.PostgreSQL.Synchronous; sy == nil || sy.Number < 1 {
		t.Errorf("Cluster %s: no synchronous standby; a failover could lose acknowledged entries", c.Name)
	}
	if a := s.Affinity; a.EnablePodAntiAffinity == nil || !*a.EnablePodAntiAffinity || a.PodAntiAffinityType != "required" {
		t.Errorf("Cluster %s: instances must be spread over nodes (required pod anti-affinity)", c.Name)
	}
	if !strings.Contains(s.ImageName, ":") {
		t.Errorf("Cluster %s: imageName %q does not pin a PostgreSQL version", c.Name, s.ImageName)
	}
	checkResources(t, "Cluster "+c.Name, s.Resources)
	var ann map[string]string
	if s.InheritedMetadata != nil {
		ann = s.InheritedMetadata.Annotations
	}
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != strconv.Itoa(cnpgMetricsPort) {
		t.Errorf("Cluster %s: instances need prometheus.io annotations for the exporter on %d", c.Name, cnpgMetricsPort)
	}
}

// pointsAtDatabase: the URL is CloudNativePG's application Secret of the
// overlay's Cluster, or a rendered URL whose host is a Service of the
// database StatefulSet.
func pointsAtDatabase(b *bundle, v envValue, sts []workload, cluster *cnpgCluster) error {
	if v.source != "secret" {
		return fmt.Errorf("not from a Secret")
	}
	if cluster != nil {
		if v.secret.Name != cluster.Name+"-app" || (v.secret.Key != "uri" && v.secret.Key != "fqdn-uri") {
			return fmt.Errorf("Secret %s key %s; want %s-app key uri (created by CloudNativePG)", v.secret.Name, v.secret.Key, cluster.Name)
		}
		return nil
	}
	if _, rendered := b.secrets[v.secret.Name]; !rendered {
		return fmt.Errorf("Secret %s is not rendered, so its URL cannot be checked", v.secret.Name)
	}
	u, err := url.Parse(v.value)
	if err != nil {
		return err
	}
	port := int32(postgresPort)
	if p := u.Port(); p != "" {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			return err
		}
		port = int32(n)
	}
	svc, err := serviceOfHost(b, u.Hostname())
	if err != nil {
		return err
	}
	w, _, _, err := serviceBackend(b, svc, port)
	if err != nil {
		return err
	}
	if len(sts) != 1 || w.name != sts[0].name || w.kind != sts[0].kind {
		return fmt.Errorf("host %s leads to %s %s, not the database", u.Hostname(), w.kind, w.name)
	}
	return nil
}
