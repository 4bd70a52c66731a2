package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// with-postgres leaves behind no directory it made that is empty (make
// test's .data/test), and never one that holds something.
func TestWithPostgresDataDirGoesWhenEmpty(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	data := filepath.Join(base, "data", "test")
	dirs, err := mkdirAll(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{data, filepath.Join(base, "data")}; !slices.Equal(dirs, want) {
		t.Fatalf("mkdirAll = %q, want %q (the directory, then the parents it made)", dirs, want)
	}
	keep := filepath.Join(base, "data", "keep")
	if err := os.WriteFile(keep, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	removeIfEmpty(dirs)
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the empty data directory is still there (stat: %v)", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a parent holding a file was touched: %v", err)
	}

	// An existing directory is named, and stays while it holds something.
	dirs, err = mkdirAll(filepath.Join(base, "data"))
	if err != nil {
		t.Fatal(err)
	}
	removeIfEmpty(dirs)
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a data directory holding a file was removed: %v", err)
	}
}
