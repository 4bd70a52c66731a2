package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// nodeDir holds the node-soap scripts and their pinned package-lock.json.
const nodeDir = "testdata/soap/node"

// nodeOnce finds node and the `soap` package, running `npm ci` in nodeDir
// when node_modules lacks it (make test and .ci/run do it first; this
// covers a bare `go test`).
var nodeOnce = sync.OnceValues(func() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "soap", "package.json")); err == nil {
		return node, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = nodeDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci in %s: %w\n%s", nodeDir, err, out)
	}
	return node, nil
})

// requireNode finds node with node-soap installed or skips loudly.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := nodeOnce()
	skipWithout(t, err, "node-soap (node, npm, the soap package)", "cd gateway/e2e/"+nodeDir+" && npm ci")
	return node
}

// node-soap, a client built at run time from the served WSDL, runs the
// steps of the PHP client (testdata/soap/node/exigo_client.js).
func TestExigoSOAPWithNode(t *testing.T) {
	t.Parallel()
	runSOAPClient(t, requireNode(t), nodeDir+"/exigo_client.js")
}
