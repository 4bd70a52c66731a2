// Package verify checks the Kubernetes manifests in deploy/ without a
// cluster. Its tests render every overlay with the pinned kustomize binary,
// decode each object strictly into the Kubernetes API types (an unknown or
// misspelt field fails), and hold the result against what the code and the
// Dockerfile actually provide:
//
//   - every image and command a manifest names is built by deploy/Dockerfile;
//   - every environment variable a container sets is one its binary reads
//     (parsed from the config structs' env tags), secrets come from Secrets,
//     and addresses point at Services that reach the right container port;
//   - probes, resources, security contexts, grace periods, disruption
//     budgets, autoscalers, network policies and the ingress follow the
//     rules in deploy/README.md;
//   - the Grafana dashboard follows Grafana's dashboard model, is in a
//     ConfigMap the dashboard sidecar loads in every overlay, and selects
//     processes by labels the scraped pods carry (that its metrics exist
//     is checked against the real processes in gateway/e2e).
//
// The package has no code of its own outside its tests.
package verify
