package verify

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// modulePrefix is the import path prefix of every module in the workspace;
// each module's path below it is its directory below the repository root.
const modulePrefix = "github.com/abacus-ledger/abacus/"

// appImport is what the services' mains share; a binary that calls its
// Setup (or Command) has the serve and migrate subcommands and reads app.Common on top
// of its own settings.
const appImport = modulePrefix + "services/platform/app"

// binary is what one binary reads from its environment, found by parsing its
// Go source: the env tags of every config struct its main package names
// (walked into nested structs, as services/platform/config does), plus
// app.Common when main calls app.Setup or app.Command.
type binary struct {
	name    string
	env     map[string]envField // by variable name
	usesApp bool
}

type envField struct {
	name, def string
	secret    bool
}

// Listen roles: the container port name the manifests give each listen
// address, and the variable holding it (its default is the config tag's).
var listenRoles = []struct{ role, env string }{
	{"grpc", "ABACUS_GRPC_ADDR"},
	{"http", "ABACUS_HTTP_ADDR"},
	{"admin", "ABACUS_ADMIN_ADDR"},
}

// listenAddr is the address the binary listens on for role, given the
// container's environment (resolved values by name), and whether it has that
// role at all.
func (b *binary) listenAddr(role string, env map[string]string) (string, bool) {
	for _, r := range listenRoles {
		if r.role != role {
			continue
		}
		f, ok := b.env[r.env]
		if !ok {
			return "", false
		}
		if v, set := env[r.env]; set {
			return v, true
		}
		if f.def != "" {
			return f.def, true
		}
		return "", false
	}
	return "", false
}

// listenPort is the port of listenAddr.
func (b *binary) listenPort(role string, env map[string]string) (int32, bool) {
	addr, ok := b.listenAddr(role, env)
	if !ok {
		return 0, false
	}
	_, p, err := splitHostPort(addr)
	if err != nil {
		return 0, false
	}
	return p, true
}

func splitHostPort(addr string) (string, int32, error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("address %q has no port", addr)
	}
	p, err := strconv.ParseInt(addr[i+1:], 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	return addr[:i], int32(p), nil
}

// sourceIndex parses packages of the repository on demand.
type sourceIndex struct {
	root string
	fset *token.FileSet
	pkgs map[string]*goPackage
}

type goPackage struct {
	dir   string
	files []*ast.File
	types map[string]typeDecl
}

type typeDecl struct {
	expr ast.Expr
	file *ast.File
	pkg  *goPackage
}

func newSourceIndex(root string) *sourceIndex {
	return &sourceIndex{root: root, fset: token.NewFileSet(), pkgs: map[string]*goPackage{}}
}

func (s *sourceIndex) pkg(dir string) (*goPackage, error) {
	if p, ok := s.pkgs[dir]; ok {
		return p, nil
	}
	entries, err := os.ReadDir(filepath.Join(s.root, dir))
	if err != nil {
		return nil, err
	}
	p := &goPackage{dir: dir, types: map[string]typeDecl{}}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(s.fset, filepath.Join(s.root, dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		p.files = append(p.files, f)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, sp := range g.Specs {
				ts := sp.(*ast.TypeSpec)
				p.types[ts.Name.Name] = typeDecl{expr: ts.Type, file: f, pkg: p}
			}
		}
	}
	if len(p.files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	s.pkgs[dir] = p
	return p, nil
}

// imports maps a file's import names to repository directories (only imports
// of workspace modules).
func imports(f *ast.File) map[string]string {
	m := map[string]string{}
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		if !strings.HasPrefix(p, modulePrefix) {
			continue
		}
		name := path.Base(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		m[name] = strings.TrimPrefix(p, modulePrefix)
	}
	return m
}

// resolve finds the declaration of the type named by expr in file of pkg:
// a local identifier or pkgname.Type of a workspace package.
func (s *sourceIndex) resolve(pkg *goPackage, file *ast.File, expr ast.Expr) (typeDecl, bool) {
	switch e := expr.(type) {
	case *ast.Ident:
		d, ok := pkg.types[e.Name]
		return d, ok
	case *ast.StarExpr:
		return s.resolve(pkg, file, e.X)
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		if !ok {
			return typeDecl{}, false
		}
		dir, ok := imports(file)[x.Name]
		if !ok {
			return typeDecl{}, false
		}
		p, err := s.pkg(dir)
		if err != nil {
			return typeDecl{}, false
		}
		d, ok := p.types[e.Sel.Name]
		return d, ok
	}
	return typeDecl{}, false
}

// collect adds the env-tagged fields of the struct d, walking nested structs.
func (s *sourceIndex) collect(d typeDecl, into map[string]envField, seen map[ast.Expr]bool) error {
	st, ok := d.expr.(*ast.StructType)
	if !ok || seen[d.expr] {
		return nil
	}
	seen[d.expr] = true
	for _, f := range st.Fields.List {
		var tag reflect.StructTag
		if f.Tag != nil {
			raw, err := strconv.Unquote(f.Tag.Value)
			if err != nil {
				return err
			}
			tag = reflect.StructTag(raw)
		}
		if env := tag.Get("env"); env != "" {
			if prev, dup := into[env]; dup && prev.def != tag.Get("default") {
				return fmt.Errorf("%s: %s declared twice with different defaults", d.pkg.dir, env)
			}
			into[env] = envField{name: env, def: tag.Get("default"), secret: tag.Get("secret") == "true"}
			continue
		}
		if nd, ok := s.resolve(d.pkg, d.file, f.Type); ok {
			if err := s.collect(nd, into, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// binary parses the main package in pkgDir (repo-relative, "./" allowed).
func (s *sourceIndex) binary(name, pkgDir string) (*binary, error) {
	dir := path.Clean(strings.TrimPrefix(pkgDir, "./"))
	p, err := s.pkg(dir)
	if err != nil {
		return nil, fmt.Errorf("binary %s: %w", name, err)
	}
	b := &binary{name: name, env: map[string]envField{}}
	seen := map[ast.Expr]bool{}
	var roots []typeDecl
	for _, f := range p.files {
		if f.Name.Name != "main" {
			return nil, fmt.Errorf("binary %s: %s is package %s, not main", name, dir, f.Name.Name)
		}
		for _, d := range p.types {
			if d.file == f {
				roots = append(roots, d)
			}
		}
		ims := imports(f)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if d, ok := s.resolve(p, f, n); ok {
					roots = append(roots, d)
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Setup" || sel.Sel.Name == "Command") {
					if x, ok := sel.X.(*ast.Ident); ok && modulePrefix+ims[x.Name] == appImport {
						b.usesApp = true
					}
				}
			}
			return true
		})
	}
	if b.usesApp {
		app, err := s.pkg(strings.TrimPrefix(appImport, modulePrefix))
		if err != nil {
			return nil, err
		}
		common, ok := app.types["Common"]
		if !ok {
			return nil, errors.New("app.Common not found")
		}
		roots = append(roots, common)
	}
	for _, r := range roots {
		if err := s.collect(r, b.env, seen); err != nil {
			return nil, err
		}
	}
	if len(b.env) == 0 {
		return nil, fmt.Errorf("binary %s: no env-tagged config found in %s", name, dir)
	}
	return b, nil
}
