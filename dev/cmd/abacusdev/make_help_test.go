package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// make help lists every target the Makefile declares, and the benchmarks
// BENCH= takes.
func TestMakeHelpListsEveryTarget(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	root := goWorkDir(t)
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "-s", "help")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make help: %v", err)
	}
	var targets []string
	for _, line := range strings.Split(string(makefile), "\n") {
		if rest, ok := strings.CutPrefix(line, ".PHONY:"); ok {
			targets = append(targets, strings.Fields(rest)...)
		}
	}
	if len(targets) < 10 {
		t.Fatalf("found only %q as .PHONY targets in the Makefile", targets)
	}
	for _, want := range targets {
		if !strings.Contains(string(out), "\n  "+want+" ") {
			t.Errorf("make help does not list the target %q:\n%s", want, out)
		}
	}
	for _, n := range benchNames() {
		if !strings.Contains(string(out), " "+n+" ") {
			t.Errorf("make help does not name the benchmark %q for BENCH=:\n%s", n, out)
		}
	}
}
