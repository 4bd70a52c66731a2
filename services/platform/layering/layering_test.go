package layering

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/abacus-ledger/abacus/"

// deps lists the packages pkg depends on, through go list in the workspace.
func deps(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", module+pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	set := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		set[p] = true
	}
	return set
}

// The import rules: domain packages know nothing of gRPC (the gRPC layer
// converts, and maps their errors), and the gateway links none of the
// services' server runtime (protovalidate's CEL engine). The gateway serves
// pprof on its admin port like every process; gateway/internal/server's
// TestRun checks the public port does not.
func TestImportRules(t *testing.T) {
	t.Parallel()
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		{"services/customer/internal/customer", []string{"google.golang.org/grpc"}},
		{"services/customer/internal/tenant", []string{"google.golang.org/grpc"}},
		{"services/ledger/internal/ledger", []string{"google.golang.org/grpc"}},
		{"services/history/internal/history", []string{"google.golang.org/grpc"}},
		{"services/platform/fielderr", []string{"google.golang.org/grpc"}},
		// The dev tooling serves the developers, never a service.
		{"services/customer/cmd/customer", []string{module + "dev/devstack", module + "dev/pgserver"}},
		{"services/ledger/cmd/ledger", []string{module + "dev/devstack", module + "dev/pgserver"}},
		{"services/history/cmd/history", []string{module + "dev/devstack", module + "dev/pgserver"}},
		{"services/customer/internal/record", []string{"google.golang.org/grpc", "github.com/jackc/pgx/v5"}},
		{"gateway/cmd/gateway", []string{
			module + "dev/devstack", module + "dev/pgserver",
			module + "services/platform/grpcserver", "buf.build/go/protovalidate", "cel.dev/expr", "github.com/google/cel-go/cel",
		}},
	}
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			t.Parallel()
			got := deps(t, r.pkg)
			for _, f := range r.forbidden {
				if got[f] {
					t.Errorf("%s depends on %s", r.pkg, f)
				}
			}
		})
	}
}
