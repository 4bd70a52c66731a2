package verify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// thirdPartyImages are the images not built by deploy/Dockerfile that an
// overlay may run.
var thirdPartyImages = []string{"docker.io/library/postgres"}

// Probe paths the binaries serve: the services' admin server (grpcserver's
// adminMux) and the gateway's HTTP server (server/health.go).
const (
	serviceLivePath = "/livez"
	gatewayLivePath = "/healthz"
	gatewayReadPath = "/readyz"
	metricsPath     = "/metrics"
)

// shutdownMargin is the time a pod needs beyond the drain itself (the
// services' admin server gets 5s after the gRPC drain); graceSlack is how
// much longer than needed the grace period may be.
const (
	shutdownMargin = 5 * time.Second
	graceSlack     = 30 * time.Second
)

// TestOverlays renders every overlay and holds it to the deployment rules.
func TestOverlays(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, b := range f.overlays {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			if b.err != nil {
				t.Fatal(b.err)
			}
			t.Run("pods", func(t *testing.T) { checkPods(t, f, b) })
			t.Run("binaries", func(t *testing.T) { checkBinaries(t, f, b) })
			t.Run("namespace", func(t *testing.T) { checkNamespace(t, b) })
			t.Run("services", func(t *testing.T) { checkServices(t, b) })
			t.Run("scaling", func(t *testing.T) { checkScaling(t, b) })
			t.Run("network-policies", func(t *testing.T) { checkNetworkPolicies(t, f, b) })
			t.Run("ingress", func(t *testing.T) { checkIngress(t, f, b) })
			t.Run("database", func(t *testing.T) { checkDatabase(t, f, b) })
		})
	}
}

// checkPods: every container of every workload has requests and limits and a
// locked-down security context; every long-running container has readiness
// and liveness probes; every image is built here or a pinned third party.
func checkPods(t *testing.T, f *fixture, b *bundle) {
	for _, w := range b.workloads() {
		spec := &w.template.Spec
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s %s: automountServiceAccountToken must be false (nothing here talks to the API server)", w.kind, w.name)
		}
		all := append(slices.Clone(spec.InitContainers), spec.Containers...)
		for i := range all {
			c := &all[i]
			where := fmt.Sprintf("%s %s container %s", w.kind, w.name, c.Name)
			checkResources(t, where, c.Resources)
			for _, p := range insecure(spec.SecurityContext, c.SecurityContext) {
				t.Errorf("%s: %s", where, p)
			}
			repo, tag, st := f.docker.imageStage(c.Image)
			if tag == "" || tag == "latest" {
				t.Errorf("%s: image %s has no pinned tag", where, c.Image)
			}
			if st == nil && !slices.Contains(thirdPartyImages, repo) {
				t.Errorf("%s: image %s is neither built by deploy/Dockerfile (no stage %q) nor a known third-party image", where, c.Image, repo)
			}
		}
		for _, c := range spec.Containers {
			if c.ReadinessProbe == nil || c.LivenessProbe == nil {
				t.Errorf("%s %s container %s: needs both a readiness and a liveness probe", w.kind, w.name, c.Name)
			}
		}
	}
}

func checkResources(t *testing.T, where string, r corev1.ResourceRequirements) {
	t.Helper()
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := r.Requests[name]
		lim, hasLim := r.Limits[name]
		if !hasReq || !hasLim {
			t.Errorf("%s: needs both a request and a limit of %s", where, name)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s exceeds its limit %s", where, name, req.String(), lim.String())
		}
	}
}

// insecure lists what the effective security context (container over pod)
// lacks.
func insecure(pod *corev1.PodSecurityContext, c *corev1.SecurityContext) []string {
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	if c == nil {
		c = &corev1.SecurityContext{}
	}
	var p []string
	nonRoot := c.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = pod.RunAsNonRoot
	}
	if nonRoot == nil || !*nonRoot {
		p = append(p, "runAsNonRoot is not true")
	}
	uid := c.RunAsUser
	if uid == nil {
		uid = pod.RunAsUser
	}
	if uid != nil && *uid == 0 {
		p = append(p, "runAsUser is 0")
	}
	if c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem {
		p = append(p, "readOnlyRootFilesystem is not true")
	}
	if c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation {
		p = append(p, "allowPrivilegeEscalation is not false")
	}
	if c.Privileged != nil && *c.Privileged {
		p = append(p, "privileged")
	}
	if c.Capabilities == nil || !slices.Contains(c.Capabilities.Drop, "ALL") || len(c.Capabilities.Add) > 0 {
		p = append(p, "capabilities must drop ALL and add none")
	}
	sc := c.SeccompProfile
	if sc == nil {
		sc = pod.SeccompProfile
	}
	if sc == nil || sc.Type != corev1.SeccompProfileTypeRuntimeDefault {
		p = append(p, "seccompProfile is not RuntimeDefault")
	}
	return p
}

// checkBinaries holds each container running one of our binaries to what the
// binary and its image provide: command, subcommand, environment, ports,
// probes, metrics annotations and grace period.
func checkBinaries(t *testing.T, f *fixture, b *bundle) {
	ran := map[string]int{}
	for _, w := range b.workloads() {
		spec := &w.template.Spec
		for i := range spec.Containers {
			c := &spec.Containers[i]
			_, _, st := f.docker.imageStage(c.Image)
			if st == nil {
				continue
			}
			bin := f.binaries[st.name]
			ran[bin.name]++
			where := fmt.Sprintf("%s %s container %s (%s)", w.kind, w.name, c.Name, bin.name)
			if w.deployment == nil {
				t.Errorf("%s: our binaries are stateless and run as Deployments", where)
			}
			checkCommand(t, where, st, c, bin, false)
			env, errs := b.resolveEnv(c)
			for _, err := range errs {
				t.Errorf("%s: %v", where, err)
			}
			checkEnv(t, f, b, where, bin, env, false)
			checkPorts(t, where, bin, c, values(env))
			checkProbes(t, where, bin, c, values(env))
			checkAnnotations(t, where, bin, w.template.Annotations, values(env))
			checkGrace(t, where, bin, spec, c, env)
			if u := effectiveUID(spec.SecurityContext, c.SecurityContext); u != nil {
				if uid, _, err := numericUser(st.user); err == nil && uid != *u {
					t.Errorf("%s: runAsUser %d differs from the image's USER %s", where, *u, st.user)
				}
			}

			var migrations int
			for j := range spec.InitContainers {
				ic := &spec.InitContainers[j]
				iwhere := fmt.Sprintf("%s %s init container %s", w.kind, w.name, ic.Name)
				if ic.Image != c.Image {
					t.Errorf("%s: image %s differs from the main container's %s; migrations must come from the same version", iwhere, ic.Image, c.Image)
				}
				checkCommand(t, iwhere, st, ic, bin, true)
				ienv, errs := b.resolveEnv(ic)
				for _, err := range errs {
					t.Errorf("%s: %v", iwhere, err)
				}
				checkEnv(t, f, b, iwhere, bin, ienv, true)
				migrations++
			}
			if bin.usesApp && migrations != 1 {
				t.Errorf("%s: want exactly one init container running `%s migrate`, have %d", where, bin.name, migrations)
			}
		}
	}
	for name := range f.binaries {
		if ran[name] != 1 {
			t.Errorf("binary %s runs in %d workloads; want exactly 1", name, ran[name])
		}
	}
}

func effectiveUID(pod *corev1.PodSecurityContext, c *corev1.SecurityContext) *int64 {
	if c != nil && c.RunAsUser != nil {
		return c.RunAsUser
	}
	if pod != nil {
		return pod.RunAsUser
	}
	return nil
}

// checkCommand: the command, when given, is the image's entrypoint; the
// arguments name a subcommand the binary has (app.Command knows serve and
// migrate; the gateway has none).
func checkCommand(t *testing.T, where string, st *stage, c *corev1.Container, bin *binary, init bool) {
	t.Helper()
	if len(c.Command) > 0 && !slices.Equal(c.Command, st.entrypoint) {
		t.Errorf("%s: command %q is not the image's entrypoint %q", where, c.Command, st.entrypoint)
	}
	switch {
	case init && !bin.usesApp:
		t.Errorf("%s: %s has no migrate command; it needs no init container", where, bin.name)
	case init && !slices.Equal(c.Args, []string{"migrate"}):
		t.Errorf("%s: args %q; want [migrate]", where, c.Args)
	case !init && bin.usesApp && len(c.Args) > 0 && c.Args[0] != "serve":
		t.Errorf("%s: args %q; want [serve]", where, c.Args)
	case !init && !bin.usesApp && len(c.Args) > 0:
		t.Errorf("%s: args %q; %s takes no subcommand", where, c.Args, bin.name)
	}
}

// checkEnv: every variable set is one the binary reads; secrets come from
// Secrets; the database and token are set; a serving service does not
// migrate at start; every service address points at the right Service.
func checkEnv(t *testing.T, f *fixture, b *bundle, where string, bin *binary, env map[string]envValue, init bool) {
	t.Helper()
	for name, v := range env {
		if _, reads := bin.env[name]; !reads {
			t.Errorf("%s: sets %s, which %s does not read", where, name, bin.name)
			continue
		}
		if bin.env[name].secret && v.source != "secret" {
			t.Errorf("%s: %s is a secret but comes from a %s", where, name, v.source)
		}
	}
	required := []string{"DATABASE_URL"}
	if !init {
		required = append(required, "ABACUS_SERVICE_TOKEN")
	}
	for _, name := range required {
		if _, reads := bin.env[name]; reads {
			if _, set := env[name]; !set {
				t.Errorf("%s: %s is not set", where, name)
			}
		}
	}
	if init {
		return
	}
	if _, reads := bin.env["ABACUS_MIGRATE_ON_START"]; reads {
		if v, ok := env["ABACUS_MIGRATE_ON_START"]; !ok || v.value != "false" {
			t.Errorf("%s: ABACUS_MIGRATE_ON_START must be \"false\"; the init container migrates", where)
		}
	}
	for name := range bin.env {
		checkClientAddr(t, f, b, where, name, env)
	}
}

// checkClientAddr: an ABACUS_<BINARY>_ADDR the binary reads must be set (its
// default is loopback) to a Service of this namespace whose port reaches
// that binary's gRPC port.
func checkClientAddr(t *testing.T, f *fixture, b *bundle, where, name string, env map[string]envValue) {
	t.Helper()
	target, ok := f.clientTarget(name)
	if !ok {
		return
	}
	v, set := env[name]
	if !set {
		t.Errorf("%s: %s is not set; its default only works on one machine", where, name)
		return
	}
	if err := reachesBinary(f, b, v.value, target); err != nil {
		t.Errorf("%s: %s=%s: %v", where, name, v.value, err)
	}
}

// reachesBinary resolves host:port to a Service of the overlay and checks it
// lands on the named binary's gRPC port.
func reachesBinary(f *fixture, b *bundle, addr, target string) error {
	host, port, err := splitHostPort(addr)
	if err != nil {
		return err
	}
	svc, err := serviceOfHost(b, host)
	if err != nil {
		return err
	}
	w, c, cp, err := serviceBackend(b, svc, port)
	if err != nil {
		return err
	}
	_, _, st := f.docker.imageStage(c.Image)
	if st == nil || st.name != target {
		return fmt.Errorf("Service %s leads to %s %s, which does not run %s", svc.Name, w.kind, w.name, target)
	}
	want, _ := f.binaries[target].listenPort("grpc", containerValues(b, c))
	if cp.ContainerPort != want {
		return fmt.Errorf("Service %s port %d reaches container port %d; %s serves gRPC on %d", svc.Name, port, cp.ContainerPort, target, want)
	}
	return nil
}

func containerValues(b *bundle, c *corev1.Container) map[string]string {
	env, _ := b.resolveEnv(c)
	return values(env)
}

// checkPorts: the container declares exactly the ports the binary listens on,
// named after their role.
func checkPorts(t *testing.T, where string, bin *binary, c *corev1.Container, env map[string]string) {
	t.Helper()
	declared := map[string]int32{}
	for _, p := range c.Ports {
		declared[p.Name] = p.ContainerPort
	}
	for _, r := range listenRoles {
		want, listens := bin.listenPort(r.role, env)
		got, has := declared[r.role]
		switch {
		case listens && !has:
			t.Errorf("%s: %s listens on %d (%s) but declares no port named %q", where, bin.name, want, r.env, r.role)
		case listens && got != want:
			t.Errorf("%s: port %q is %d; %s listens on %d (%s)", where, r.role, got, bin.name, want, r.env)
		case !listens && has:
			t.Errorf("%s: declares port %q, which %s does not listen on", where, r.role, bin.name)
		}
		delete(declared, r.role)
	}
	for name := range declared {
		t.Errorf("%s: declares port %q, which %s does not listen on", where, name, bin.name)
	}
}

// portOf resolves a probe's or Service's port (number or name) in c.
func portOf(c *corev1.Container, p intstr.IntOrString) (int32, bool) {
	if p.Type == intstr.Int {
		return p.IntVal, true
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

// checkProbes: services are ready on gRPC health (which follows the
// database) and alive on the admin server's /livez; the gateway is ready on
// /readyz (all services SERVING) and alive on /healthz.
func checkProbes(t *testing.T, where string, bin *binary, c *corev1.Container, env map[string]string) {
	t.Helper()
	if c.ReadinessProbe == nil || c.LivenessProbe == nil {
		return // reported by checkPods
	}
	httpProbe := func(kind string, p *corev1.Probe, role, path string) {
		want, _ := bin.listenPort(role, env)
		if p.HTTPGet == nil {
			t.Errorf("%s: %s probe is not an HTTP GET of %s on the %s port", where, kind, path, role)
			return
		}
		got, ok := portOf(c, p.HTTPGet.Port)
		if !ok || got != want || p.HTTPGet.Path != path {
			t.Errorf("%s: %s probe GETs %s on port %v; want %s on %d (%s)", where, kind, p.HTTPGet.Path, p.HTTPGet.Port.String(), path, want, role)
		}
	}
	if grpcPort, ok := bin.listenPort("grpc", env); ok {
		p := c.ReadinessProbe
		if p.GRPC == nil || p.GRPC.Port != grpcPort || (p.GRPC.Service != nil && *p.GRPC.Service != "") {
			t.Errorf("%s: readiness probe must be the gRPC health check of the whole server on port %d", where, grpcPort)
		}
		httpProbe("liveness", c.LivenessProbe, "admin", serviceLivePath)
		return
	}
	httpProbe("readiness", c.ReadinessProbe, "http", gatewayReadPath)
	httpProbe("liveness", c.LivenessProbe, "http", gatewayLivePath)
}

// checkAnnotations: Prometheus scrapes the admin port through the pod
// annotations.
func checkAnnotations(t *testing.T, where string, bin *binary, a map[string]string, env map[string]string) {
	t.Helper()
	admin, ok := bin.listenPort("admin", env)
	if !ok {
		t.Errorf("%s: %s has no admin port to scrape", where, bin.name)
		return
	}
	want := map[string]string{
		"prometheus.io/scrape": "true",
		"prometheus.io/port":   strconv.Itoa(int(admin)),
		"prometheus.io/path":   metricsPath,
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s: pod annotation %s=%q; want %q", where, k, a[k], v)
		}
	}
}

// checkGrace: the grace period covers the preStop pause, the binary's
// shutdown timeout, any drain it waits for after that (a *_DRAIN_TIMEOUT
// variable, such as the ledger's committer) and a margin, and not much more.
func checkGrace(t *testing.T, where string, bin *binary, spec *corev1.PodSpec, c *corev1.Container, env map[string]envValue) {
	t.Helper()
	if _, ok := bin.env["ABACUS_SHUTDOWN_TIMEOUT"]; !ok {
		t.Errorf("%s: %s reads no ABACUS_SHUTDOWN_TIMEOUT", where, bin.name)
		return
	}
	var timeout time.Duration
	for name, f := range bin.env {
		if name != "ABACUS_SHUTDOWN_TIMEOUT" && !strings.HasSuffix(name, "_DRAIN_TIMEOUT") {
			continue
		}
		raw := f.def
		if v, set := env[name]; set {
			raw = v.value
		}
		d, err := time.ParseDuration(raw)
		if err != nil {
			t.Errorf("%s: %s=%q: %v", where, name, raw, err)
			return
		}
		timeout += d
	}
	var pause time.Duration
	if l := c.Lifecycle; l != nil && l.PreStop != nil {
		if l.PreStop.Sleep == nil {
			t.Errorf("%s: preStop must be a sleep action; the image has no shell", where)
		} else {
			pause = time.Duration(l.PreStop.Sleep.Seconds) * time.Second
		}
	}
	need := pause + timeout + shutdownMargin
	if spec.TerminationGracePeriodSeconds == nil {
		t.Errorf("%s: terminationGracePeriodSeconds unset; want at least %s", where, need)
		return
	}
	grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	if grace < need || grace > need+graceSlack {
		t.Errorf("%s: terminationGracePeriodSeconds %s; want between %s (preStop %s + shutdown and drain %s + %s) and %s",
			where, grace, need, pause, timeout, shutdownMargin, need+graceSlack)
	}
}
