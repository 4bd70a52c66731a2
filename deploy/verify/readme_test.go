package verify

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadme: deploy/README.md names only files that exist and make targets
// the Makefile has.
func TestReadme(t *testing.T) {
	t.Parallel()
	f := setup(t)
	readme, err := os.ReadFile(filepath.Join(f.root, "deploy", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(f.root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	paths := regexp.MustCompile(`(?:^|[\s\x60(])((?:\.tools|deploy|base|overlays|verify)/[\w./-]*\w)`)
	for _, m := range paths.FindAllStringSubmatch(string(readme), -1) {
		p := m[1]
		full := filepath.Join(f.root, p)
		if !strings.HasPrefix(p, ".tools/") && !strings.HasPrefix(p, "deploy/") {
			full = filepath.Join(f.root, "deploy", p) // relative to deploy/
		}
		if _, err := os.Stat(full); err != nil {
			t.Errorf("README names %s, which does not exist", p)
		}
	}
	targets := regexp.MustCompile(`\bmake ([a-z][\w-]*)`)
	for _, m := range targets.FindAllStringSubmatch(string(readme), -1) {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(m[1]) + `:`).Match(makefile) {
			t.Errorf("README names make %s, which the Makefile does not define", m[1])
		}
	}
}
