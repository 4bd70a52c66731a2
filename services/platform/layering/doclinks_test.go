package layering

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The documents explain the repository only while their links lead
// somewhere: TestDocLinks fails when a relative link in any Markdown file
// names a file that does not exist, leaves the repository (a clone has
// nothing beside it), or names a heading its target does not have.

// repoRoot is the directory holding go.work, above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the test's directory")
		}
		dir = parent
	}
}

// skippedDir reports the directories that hold no documents of the
// repository's own: hidden ones (.git, .data, .tools) and what tools fetch
// or build (node_modules, third_party, bin).
func skippedDir(name string) bool {
	return strings.HasPrefix(name, ".") || name == "node_modules" || name == "third_party" || name == "bin"
}

// markdownFiles lists the .md files under root, as paths relative to it.
func markdownFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skippedDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.EqualFold(filepath.Ext(path), ".md") {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, rel)
		}
		return nil
	})
	return files, err
}

var (
	fence       = regexp.MustCompile("^ {0,3}(```|~~~)")
	codeSpan    = regexp.MustCompile("`+[^`]*`+")
	inlineLink  = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refLink     = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?`)
	heading     = regexp.MustCompile(`^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$`)
	scheme      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	headingLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// outsideFences returns the lines of a Markdown document, those inside
// fenced code blocks (and the fences) emptied, so line numbers are kept.
func outsideFences(text string) []string {
	lines := strings.Split(text, "\n")
	var open string
	for i, line := range lines {
		if m := fence.FindStringSubmatch(line); m != nil {
			switch {
			case open == "":
				open = m[1]
			case m[1] == open:
				open = ""
			}
			lines[i] = ""
			continue
		}
		if open != "" {
			lines[i] = ""
		}
	}
	return lines
}

// prose is outsideFences with inline code spans blanked too: a path in
// code is an example, not a link.
func prose(text string) []string {
	lines := outsideFences(text)
	for i, line := range lines {
		lines[i] = codeSpan.ReplaceAllString(line, "")
	}
	return lines
}

// docLink is a link's target and the line it is on.
type docLink struct {
	line   int
	target string
}

// links returns the document's links.
func links(text string) []docLink {
	var out []docLink
	for i, line := range prose(text) {
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			out = append(out, docLink{i + 1, m[1]})
		}
		if m := refLink.FindStringSubmatch(line); m != nil {
			out = append(out, docLink{i + 1, m[1]})
		}
	}
	return out
}

// anchors returns the fragment ids of a document's headings, made as
// GitHub makes them: the heading's text lower-cased, without code marks or
// link targets, keeping letters, digits, spaces, '-' and '_', spaces turned
// to '-'; a repeated id gets -1, -2, … in order.
func anchors(text string) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for _, line := range outsideFences(text) {
		m := heading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		title := headingLink.ReplaceAllString(m[1], "$1")
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		id := b.String()
		if n := seen[id]; n > 0 {
			out[fmt.Sprintf("%s-%d", id, n)] = true
		} else {
			out[id] = true
		}
		seen[id]++
	}
	return out
}

// checkLinks returns a problem for every relative link of the Markdown
// files under root that does not resolve inside root.
func checkLinks(root string) ([]string, error) {
	files, err := markdownFiles(root)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, file := range files {
		text, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			return nil, err
		}
		for _, l := range links(string(text)) {
			if scheme.MatchString(l.target) || strings.HasPrefix(l.target, "//") {
				continue // a URL, not a file of the repository
			}
			where := fmt.Sprintf("%s:%d: link %q", filepath.ToSlash(file), l.line, l.target)
			path, fragment, _ := strings.Cut(l.target, "#")
			var target string
			switch {
			case path == "":
				target = file // a heading of the same document
			case strings.HasPrefix(path, "/"):
				target = filepath.Clean(filepath.FromSlash(strings.TrimPrefix(path, "/")))
			default:
				target = filepath.Clean(filepath.Join(filepath.Dir(file), filepath.FromSlash(path)))
			}
			if target == ".." || strings.HasPrefix(target, ".."+string(filepath.Separator)) {
				problems = append(problems, where+" leads outside the repository")
				continue
			}
			info, err := os.Stat(filepath.Join(root, target))
			if errors.Is(err, fs.ErrNotExist) {
				problems = append(problems, where+": no such file or directory")
				continue
			}
			if err != nil {
				return nil, err
			}
			if fragment == "" || info.IsDir() || !strings.EqualFold(filepath.Ext(target), ".md") {
				continue
			}
			doc, err := os.ReadFile(filepath.Join(root, target))
			if err != nil {
				return nil, err
			}
			if !anchors(string(doc))[fragment] {
				problems = append(problems, where+": "+filepath.ToSlash(target)+" has no heading #"+fragment)
			}
		}
	}
	return problems, nil
}

// TestDocsNameNothingOutside: a document may not send its reader to a file
// beside the repository (the design notes the project started from live in
// ../shared, which a clone lacks), whether as a link, a code span or prose.
func TestDocsNameNothingOutside(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	files, err := markdownFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		text, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(text), "\n") {
			if strings.Contains(line, "../shared/") || strings.Contains(line, "DESIGN.md") {
				t.Errorf("%s:%d names a file outside the repository: %s", filepath.ToSlash(file), i+1, strings.TrimSpace(line))
			}
		}
	}
}

func TestDocLinks(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	problems, err := checkLinks(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	// The documents that explain the repository are there to be checked.
	files, err := markdownFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(files, "README.md") {
		t.Errorf("found no README.md at the repository's root %s; the walk is broken", root)
	}
}

// TestCheckLinksFindsBrokenOnes runs the checker on a small tree with every
// kind of link it must refuse and every kind it must accept.
func TestCheckLinksFindsBrokenOnes(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", strings.Join([]string{
		"# Top",
		"## The `ledger` works",
		"See [a](a/doc.md), [the dir](a), [up](/a/doc.md#money-is-exact) and [same](#the-ledger-works).",
		"Web: [w](https://example.com/x.md), [m](mailto:x@example.com).",
		"Broken: [b1](a/missing.md) and ![img](pic.png).",
		"Outside: [o](../shared/DESIGN.md).",
		"Anchor: [h](a/doc.md#no-such-heading) and [s](#nowhere).",
		"Code is no link: `[c](nothing.md)`.",
		"```",
		"[fenced](nothing-either.md)",
		"```",
		"[ref]: a/gone.md",
	}, "\n"))
	write("a/doc.md", "# Doc\n\n## Money is exact\n\nBack [up](../README.md#top).\n")
	write("node_modules/x/README.md", "[ignored](nowhere.md)\n")

	problems, err := checkLinks(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`README.md:5: link "a/missing.md": no such file or directory`,
		`README.md:5: link "pic.png": no such file or directory`,
		`README.md:6: link "../shared/DESIGN.md" leads outside the repository`,
		`README.md:7: link "a/doc.md#no-such-heading": a/doc.md has no heading #no-such-heading`,
		`README.md:7: link "#nowhere": README.md has no heading #nowhere`,
		`README.md:12: link "a/gone.md": no such file or directory`,
	}
	if !slices.Equal(problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}

func TestAnchors(t *testing.T) {
	t.Parallel()
	got := anchors("# Abacus\n## Calling Abacus\n### HTTP, through the gateway\n## The dialects: decisions the seeds leave open\n## `make run` — the [demo](x.md)\n## Notes\n## Notes\n")
	for _, id := range []string{"abacus", "calling-abacus", "http-through-the-gateway", "the-dialects-decisions-the-seeds-leave-open", "make-run--the-demo", "notes", "notes-1"} {
		if !got[id] {
			t.Errorf("no anchor %q in %v", id, got)
		}
	}
}
