package verify

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dockerfile is the part of deploy/Dockerfile the checks need: its stages,
// and which binary each final stage carries.
type dockerfile struct {
	stages   []*stage
	binaries []builtBinary // from the build stage's go build
}

type stage struct {
	name, base string
	env        map[string]string
	runs       []string
	copies     []copyInstr
	user       string
	entrypoint []string // exec form; nil when absent
	shellForm  bool     // ENTRYPOINT or CMD in shell form, which needs a shell
	exposed    []int32
}

type copyInstr struct {
	from string
	srcs []string
	dst  string
}

type builtBinary struct {
	name, pkg, out string // out is the path the build writes
	stage          string // the stage that builds it
}

// parseDockerfile reads the instructions the checks need; it joins
// continuation lines and ignores the rest.
func parseDockerfile(file string) (*dockerfile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var lines []string
	var cur strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") || (t == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\") + " ")
			continue
		}
		cur.WriteString(t)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	df := &dockerfile{}
	var st *stage
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		instr = strings.ToUpper(instr)
		if instr == "FROM" {
			f := strings.Fields(rest)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--") })
			st = &stage{base: f[0], env: map[string]string{}}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			df.stages = append(df.stages, st)
			continue
		}
		if st == nil {
			continue // ARG before the first FROM
		}
		switch instr {
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				st.env[k] = v
			}
		case "RUN":
			st.runs = append(st.runs, rest)
		case "COPY":
			var c copyInstr
			f := strings.Fields(rest)
			for len(f) > 0 && strings.HasPrefix(f[0], "--") {
				if v, ok := strings.CutPrefix(f[0], "--from="); ok {
					c.from = v
				}
				f = f[1:]
			}
			if len(f) < 2 {
				return nil, fmt.Errorf("COPY %q: want sources and a destination", rest)
			}
			c.srcs, c.dst = f[:len(f)-1], f[len(f)-1]
			st.copies = append(st.copies, c)
		case "USER":
			st.user = rest
		case "EXPOSE":
			for _, p := range strings.Fields(rest) {
				n, err := strconv.ParseInt(strings.TrimSuffix(p, "/tcp"), 10, 32)
				if err != nil {
					return nil, fmt.Errorf("EXPOSE %q: %w", p, err)
				}
				st.exposed = append(st.exposed, int32(n))
			}
		case "ENTRYPOINT", "CMD":
			var exec []string
			if err := json.Unmarshal([]byte(rest), &exec); err != nil {
				st.shellForm = true
				continue
			}
			if instr == "ENTRYPOINT" {
				st.entrypoint = exec
			}
		}
	}
	for _, s := range df.stages {
		for _, r := range s.runs {
			bins, err := goBuildOutputs(r)
			if err != nil {
				return nil, fmt.Errorf("stage %s: %w", s.name, err)
			}
			for _, b := range bins {
				b.stage = s.name
				df.binaries = append(df.binaries, b)
			}
		}
	}
	if len(df.binaries) == 0 {
		return nil, fmt.Errorf("%s: no go build of main packages found", file)
	}
	return df, nil
}

// goBuildOutputs reads `go build ... -o DIR/ ./pkg...` in a RUN line: one
// binary per package, named after its last path element.
func goBuildOutputs(run string) ([]builtBinary, error) {
	f := strings.Fields(run)
	i := slices.Index(f, "build")
	if i < 1 || f[i-1] != "go" {
		return nil, nil
	}
	var out string
	var pkgs []string
	for j := i + 1; j < len(f); j++ {
		switch {
		case f[j] == "-o" && j+1 < len(f):
			out = f[j+1]
			j++
		case strings.HasPrefix(f[j], "./"):
			pkgs = append(pkgs, f[j])
		}
	}
	if !strings.HasSuffix(out, "/") {
		return nil, fmt.Errorf("go build -o %q: want a directory (ending in /) for several binaries", out)
	}
	var bs []builtBinary
	for _, p := range pkgs {
		n := path.Base(p)
		bs = append(bs, builtBinary{name: n, pkg: p, out: out + n})
	}
	return bs, nil
}

func (df *dockerfile) stage(name string) *stage {
	for _, s := range df.stages {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (df *dockerfile) built(name string) (builtBinary, bool) {
	for _, b := range df.binaries {
		if b.name == name {
			return b, true
		}
	}
	return builtBinary{}, false
}

// runtimeBases are the only bases a final stage may use: no shell, no
// package manager.
var runtimeBases = []string{"gcr.io/distroless/static", "scratch"}

// TestDockerfile holds deploy/Dockerfile to the image rules: static,
// trimmed builds; one distroless (or scratch) stage per binary carrying only
// that binary, run as a numeric non-root user, in exec form.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	f := setup(t)
	df := f.docker
	for _, s := range df.stages {
		for _, c := range s.copies {
			if c.from != "" {
				continue
			}
			for _, src := range c.srcs {
				m, _ := filepath.Glob(filepath.Join(f.root, src))
				if len(m) == 0 {
					t.Errorf("stage %s: COPY %s: no such file in the build context (the repository root)", s.name, src)
				}
			}
		}
	}
	for _, b := range df.binaries {
		t.Run(b.name, func(t *testing.T) {
			build := df.stage(b.stage)
			if build == nil {
				t.Fatalf("the stage that builds %s has no name; final stages copy from it by name", b.name)
			}
			run := ""
			for _, r := range build.runs {
				if strings.Contains(r, "go build") && strings.Contains(r, b.pkg) {
					run = r
				}
			}
			if !strings.Contains(run, "-trimpath") {
				t.Errorf("go build of %s lacks -trimpath", b.pkg)
			}
			if build.env["CGO_ENABLED"] != "0" && !strings.Contains(run, "CGO_ENABLED=0") {
				t.Errorf("go build of %s does not set CGO_ENABLED=0: the binary would not be static", b.pkg)
			}
			if _, ok := f.binaries[b.name]; !ok {
				t.Errorf("no source parsed for %s", b.name)
			}

			s := df.stage(b.name)
			if s == nil {
				t.Fatalf("no stage named %s: each binary needs a final stage of its own name", b.name)
			}
			if !slices.ContainsFunc(runtimeBases, func(p string) bool { return strings.HasPrefix(s.base, p) }) {
				t.Errorf("stage %s is based on %s; want one of %v", s.name, s.base, runtimeBases)
			}
			if len(s.runs) > 0 || s.shellForm {
				t.Errorf("stage %s runs shell commands; the runtime image has no shell", s.name)
			}
			var dst string
			for _, c := range s.copies {
				if c.from != b.stage || !slices.Contains(c.srcs, b.out) {
					t.Errorf("stage %s copies %v from %q; want only %s from %s", s.name, c.srcs, c.from, b.out, b.stage)
					continue
				}
				dst = c.dst
			}
			if dst == "" {
				t.Fatalf("stage %s does not copy %s from stage %s", s.name, b.out, b.stage)
			}
			if !slices.Equal(s.entrypoint, []string{dst}) {
				t.Errorf("stage %s ENTRYPOINT %q; want [%q]", s.name, s.entrypoint, dst)
			}
			var listens []int32
			for _, r := range listenRoles {
				if p, ok := f.binaries[b.name].listenPort(r.role, nil); ok {
					listens = append(listens, p)
				}
			}
			slices.Sort(listens)
			if exposed := slices.Sorted(slices.Values(s.exposed)); !slices.Equal(exposed, listens) {
				t.Errorf("stage %s EXPOSE %v; %s listens on %v by default", s.name, exposed, b.name, listens)
			}
			uid, gid, err := numericUser(s.user)
			if err != nil || uid == 0 || gid == 0 {
				t.Errorf("stage %s USER %q; want a numeric non-root uid:gid (so runAsNonRoot can be verified)", s.name, s.user)
			}
		})
	}
}

// numericUser parses USER uid:gid.
func numericUser(u string) (int64, int64, error) {
	us, gs, ok := strings.Cut(u, ":")
	if !ok {
		return 0, 0, fmt.Errorf("USER %q has no group", u)
	}
	uid, err := strconv.ParseInt(us, 10, 64)
	if err != nil {
		return 0, 0, err
	}
	gid, err := strconv.ParseInt(gs, 10, 64)
	return uid, gid, err
}

// imageStage splits an image reference and finds the Dockerfile stage its
// repository's last path element names (nil for a third-party image).
func (df *dockerfile) imageStage(image string) (repo, tag string, s *stage) {
	ref, _, _ := strings.Cut(image, "@")
	repo = ref
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		repo, tag = ref[:i], ref[i+1:]
	}
	if _, ok := df.built(path.Base(repo)); ok {
		s = df.stage(path.Base(repo))
	}
	return repo, tag, s
}
