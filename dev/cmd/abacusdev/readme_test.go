package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// shBlock is one ```sh block of README.md; example is the name of its
// `<!-- example: NAME -->` marker, empty for a block without one.
type shBlock struct {
	example string
	line    int // of the opening fence
	code    string
}

var exampleMarker = regexp.MustCompile(`^<!-- example: ([a-z0-9-]+) -->$`)

// readmeShellBlocks returns every ```sh block of the README text, in order.
// A marker must stand right before its block's fence.
func readmeShellBlocks(text string) ([]shBlock, error) {
	var blocks []shBlock
	var cur *shBlock
	pending := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.code += line + "\n"
		case exampleMarker.MatchString(line):
			pending = exampleMarker.FindStringSubmatch(line)[1]
		case line == "```sh":
			cur = &shBlock{example: pending, line: n}
			pending = ""
		case pending != "" && strings.HasPrefix(line, "```"):
			return nil, fmt.Errorf("line %d: the example %q marks a %s block; examples are ```sh", n, pending, line)
		case pending != "":
			return nil, fmt.Errorf("line %d: the example marker %q is not followed by its ```sh block", n, pending)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: ```sh block never closed", cur.line)
	}
	return blocks, sc.Err()
}

var (
	// a|b|c among a command's arguments: bash runs a pipeline.
	pipedAlternatives = regexp.MustCompile(`[^\s|]\|[^\s|]`)
	// <placeholder>: bash redirects from or to a file of that name.
	anglePlaceholder = regexp.MustCompile(`<[A-Za-z][A-Za-z0-9 _.-]*>`)
	// [--optional]: a glob at best, an argument the command refuses at worst.
	optionalBrackets = regexp.MustCompile(`\[--?[A-Za-z]`)
	heredocStart     = regexp.MustCompile(`<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?`)
)

// pasteHazards returns the lines of code that do something else than they
// seem to when pasted into bash: placeholders that are shell syntax. Quoted
// text, comments and here-documents are not looked at.
func pasteHazards(code string) []string {
	var found []string
	heredocEnd := ""
	for _, line := range strings.Split(code, "\n") {
		if heredocEnd != "" {
			if strings.TrimSpace(line) == heredocEnd {
				heredocEnd = ""
			}
			continue
		}
		u := unquotedShell(line)
		if m := heredocStart.FindStringSubmatch(u); m != nil {
			heredocEnd = m[1]
		}
		switch {
		case pipedAlternatives.MatchString(u):
			found = append(found, line+"   (a|b alternatives: bash pipes one command into the next)")
		case anglePlaceholder.MatchString(u):
			found = append(found, line+"   (<placeholder>: bash redirects to or from a file)")
		case optionalBrackets.MatchString(u):
			found = append(found, line+"   ([--optional] brackets: not an argument the command knows)")
		}
	}
	return found
}

// unquotedShell is line without its quoted text and its comment, as far as
// a line of bash can be read alone.
func unquotedShell(line string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
		case quote == '"':
			if c == '\\' {
				i++
			} else if c == '"' {
				quote = 0
			}
		case c == '\\':
			i++
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func TestPasteHazardsFindsPlaceholders(t *testing.T) {
	t.Parallel()
	bad := []string{
		"bin/customer admin credential create --tenant TENANT_ID --kind igsend-live|igsend-sandbox|manex|magento",
		"bin/customer admin credential list --tenant TENANT_ID [--revoked]",
		"curl -s $G/v1/customers/<id>/balances",
	}
	for _, line := range bad {
		if got := pasteHazards(line); len(got) != 1 {
			t.Errorf("pasteHazards(%q) = %q; want it found", line, got)
		}
	}
	good := []string{
		"curl -s \"$GATEWAY/v1/customers\" | grep -o '\"a|b\"' | cut -d: -f2   # a|b in a comment",
		"curl -s -d \"{\\\"x|y\\\": 1}\" --data-binary @- \"$G/x\" <<XML\n<a>b|c</a>\n<placeholder>\nXML\necho ok",
		"make bench BENCH=customer     # or ledger|history",
		"CUSTNO=$(echo \"$NEW\" | grep -o '\"n\":\"[0-9]*\"' | cut -d'\"' -f4)",
	}
	for _, code := range good {
		if got := pasteHazards(code); len(got) != 0 {
			t.Errorf("pasteHazards(%q) = %q; want nothing", code, got)
		}
	}
}

// No line of any ```sh block of the README does harm when pasted into bash
// as it stands (issue 15: a|b|c alternatives piped a one-time secret away).
func TestREADMEShellBlocksAreSafeToPaste(t *testing.T) {
	t.Parallel()
	blocks := readREADMEBlocks(t)
	for _, b := range blocks {
		for _, h := range pasteHazards(b.code) {
			t.Errorf("README.md, block at line %d: %s", b.line, h)
		}
	}
}

func readREADMEBlocks(t *testing.T) []shBlock {
	t.Helper()
	root, err := readmeRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeShellBlocks(string(raw))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	return blocks
}

// readmeRoot is the directory of go.work above the working directory.
func readmeRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory")
		}
		dir = parent
	}
}

// storyState is what the README's examples have told so far.
type storyState struct {
	demo             demoFile
	customer, number string
}

// readmeChecks say what each README example must answer; every example has
// one and every one names an example.
var readmeChecks = map[string]func(st *storyState, out string) error{
	"admin": func(st *storyState, out string) error {
		if strings.Contains(out, "no make run is using") {
			return errors.New("abacusdev env does not see the make run")
		}
		return containsAll(out, "Acme Inc", st.demo.Tenant, "exigo", "manex", "shown once")
	},
	"env": func(_ *storyState, out string) error {
		return containsAll(out, `"customer":"SERVING"`, `"ledger":"SERVING"`, `"history":"SERVING"`, `"status":"ok"`)
	},
	"create": func(st *storyState, out string) error {
		m := regexp.MustCompile(`(?m)^customer ([1-9][0-9]*), number ([0-9]{10})$`).FindStringSubmatch(out)
		if m == nil {
			return errors.New(`no line "customer ID, number CUSTNO"`)
		}
		st.customer, st.number = m[1], m[2]
		return containsAll(out, `"customer_id":`+st.customer+`,`, `"customer_number":"`+st.number+`"`, `"name":"Acme Ltd"`)
	},
	"post": func(st *storyState, out string) error {
		return containsAll(out, `"customer_id":`+st.customer+`,`, `"delta":"25.00"`, `"balance_after":"25.00"`, `"replayed":false`)
	},
	"native": func(st *storyState, out string) error {
		return containsAll(out, `"customer_id":`+st.customer+`,`, `"currency":"USD"`, `"balance":"25.00"`)
	},
	"exigo": func(_ *storyState, out string) error {
		return containsAll(out, `"currencyCode":"USD"`, `"balance":25.00`, `"status":"Success"`)
	},
	"igsend": func(st *storyState, out string) error {
		return containsAll(out, `"ClientID":`+st.customer+`,`, `"AccountBalance":"25.00"`, `"Balance Currency":"USD"`)
	},
	"magento": func(st *storyState, out string) error {
		return containsAll(out, `"customer_id":"`+st.customer+`"`, `"balance_delta":"25.0000"`, `"additional_info":"first payment"`)
	},
	"manex": func(st *storyState, out string) error {
		return containsAll(out, `"CUSTNO":"`+st.number+`"`, `"CUSTNAME":"Acme Ltd"`, `"CUSTNAME":"Globex"`, "Customer added successfully.")
	},
	"refused": func(_ *storyState, out string) error {
		if strings.TrimSpace(out) != "401" {
			return errors.New("want 401 alone")
		}
		return nil
	},
	"grpc": func(st *storyState, out string) error {
		return containsAll(out, "abacus.customer.v1.CustomerService", `"customerId": `+st.customer, `"name": "Acme Ltd"`,
			`"currency": "USD"`, `"balance": "25.00"`)
	},
	"exigo-soap": func(_ *storyState, out string) error {
		return containsAll(out, "<Status>Success</Status>", "<CurrencyCode>USD</CurrencyCode>", "<Balance>25.00</Balance>")
	},
	"magento-soap": func(_ *storyState, out string) error {
		if !regexp.MustCompile(`<loginReturn[^>]*>[0-9a-f]{16,}</loginReturn>`).MatchString(out) {
			return errors.New("no session id in loginReturn")
		}
		return nil
	},
}

func containsAll(out string, want ...string) error {
	var missing []string
	for _, w := range want {
		if !strings.Contains(out, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %q", missing)
	}
	return nil
}

// The README's examples, pasted in order into one bash, work against a
// fresh `make run` and answer what the README says they do: the system is
// started as `abacusdev run` starts it (its own PostgreSQL cluster under a
// fresh data directory, startStack, then startDemo, which writes
// demo-credentials.json and prints the banner), in a directory laid out
// like the repository's (bin/, .data/, .tools/bin/).
func TestREADMEExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system")
	}
	var examples []shBlock
	for _, b := range readREADMEBlocks(t) {
		if b.example != "" {
			examples = append(examples, b)
		}
	}
	seen := map[string]bool{}
	for _, b := range examples {
		if seen[b.example] {
			t.Fatalf("README.md: example %q twice", b.example)
		}
		seen[b.example] = true
		if readmeChecks[b.example] == nil {
			t.Fatalf("README.md line %d: example %q has no check in readmeChecks", b.line, b.example)
		}
	}
	for name := range readmeChecks {
		if !seen[name] {
			t.Fatalf("readmeChecks[%q]: README.md has no such example", name)
		}
	}

	root, err := readmeRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// The repository's layout: bin/ (what make build makes), .data/ and
	// .tools/bin (the repository's own, where make grpcurl builds).
	tmp := t.TempDir()
	home := filepath.Join(tmp, "abacus")
	bin := filepath.Join(tmp, "bin")
	for _, dir := range []string{filepath.Join(home, ".tools"), filepath.Join(root, ".tools", "bin")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(bin, filepath.Join(home, "bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, ".tools", "bin"), filepath.Join(home, ".tools", "bin")); err != nil {
		t.Fatal(err)
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", bin+"/",
		"./services/customer/cmd/customer", "./services/ledger/cmd/ledger", "./services/history/cmd/history",
		"./gateway/cmd/gateway", "./dev/cmd/abacusdev")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	t.Chdir(home)                // where make run runs, for the banner's paths
	t.Setenv("DATABASE_URL", "") // make run's own cluster, as on a fresh machine
	data := filepath.Join(home, ".data")
	unlock, err := lockData(data)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	s, err := startStack(ctx, stackOptions{binDir: bin, dataDir: data, host: "127.0.0.1", say: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	var banner strings.Builder
	demo, err := startDemo(ctx, s, data, envCommand(filepath.Join(home, "bin"), data), &banner, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("banner:\n%s", banner.String())
	checkBannerAndFile(t, banner.String(), data, s)

	// One bash, as one terminal: the blocks in order, each announced by a
	// line of its own. make runs in the repository, where make grpcurl
	// belongs.
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	script.WriteString(`make() { command make --no-print-directory -C "$ABACUS_ROOT" "$@"; }` + "\n")
	for _, b := range examples {
		fmt.Fprintf(&script, "printf '\\n@@@ %s\\n'\n%s", b.example, b.code)
	}
	script.WriteString("printf '\\n@@@ end\\n'\n")
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = home
	cmd.Env = append(storyEnviron(demo), "ABACUS_ROOT="+root)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	t.Logf("the examples' output:\n%s", out.String())

	outputs := map[string]string{}
	last := ""
	for _, part := range strings.Split(out.String(), "\n@@@ ")[1:] {
		name, text, _ := strings.Cut(part, "\n")
		outputs[name], last = text, name
	}
	st := &storyState{demo: demo}
	for _, b := range examples {
		text, ran := outputs[b.example]
		if !ran {
			break
		}
		if b.example == last && runErr != nil {
			t.Fatalf("README.md line %d, example %q failed (%v):\n%s\noutput:\n%s", b.line, b.example, runErr, b.code, text)
		}
		if err := readmeChecks[b.example](st, text); err != nil {
			t.Errorf("README.md line %d, example %q: %v\n%s\noutput:\n%s", b.line, b.example, err, b.code, text)
		}
	}
	if last != "end" {
		t.Fatalf("the examples stopped after %q (%v):\n%s", last, runErr, out.String())
	}
}

// storyEnviron is this process's environment less what the examples set
// themselves, so that no leftover makes one pass, and less make's own.
func storyEnviron(d demoFile) []string {
	drop := map[string]bool{"DATABASE_URL": true, "NEW": true, "CUSTOMER": true, "CUSTNO": true,
		"MAKEFLAGS": true, "MFLAGS": true, "MAKELEVEL": true}
	for _, v := range demoEnv(d) {
		drop[v.name] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !drop[name] {
			env = append(env, kv)
		}
	}
	return env
}

// checkBannerAndFile: the banner and demo-credentials.json give the
// database URL, the service token, the API reference page and the command
// that makes them shell variables.
func checkBannerAndFile(t *testing.T, banner, data string, s *stack) {
	t.Helper()
	for _, want := range []string{s.dbURL, s.token, s.gateway + "/docs", `eval "$(bin/abacusdev env)"`} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q", want)
		}
	}
	raw, err := os.ReadFile(filepath.Join(data, "demo-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d demoFile
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.DatabaseURL != s.dbURL || d.ServiceToken != s.token || d.Docs != s.gateway+"/docs" || d.GRPC["ledger"] != s.grpc["ledger"] {
		t.Errorf("demo-credentials.json: database %q token %q docs %q ledger %q; want %q %q %q %q",
			d.DatabaseURL, d.ServiceToken, d.Docs, d.GRPC["ledger"], s.dbURL, s.token, s.gateway+"/docs", s.grpc["ledger"])
	}
}
