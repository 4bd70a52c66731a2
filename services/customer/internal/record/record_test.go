package record

import (
	"os/exec"
	"strings"
	"testing"
)

// The record is shared by every layer of the service, so it must drag
// none of them in: no gRPC, no protos, no database driver. Besides the
// standard library it may use only the decimal type.
func TestImportsNothing(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/abacus-ledger/abacus/services/customer/internal/record": true,
		"github.com/shopspring/decimal":                                     true,
	}
	for _, p := range strings.Fields(string(out)) {
		if !allowed[p] {
			t.Errorf("record depends on %s", p)
		}
	}
}
