package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The Grafana dashboard: components/grafana-dashboard/abacus.json, put in a
// ConfigMap for Grafana's dashboard sidecar by the component of the same
// directory, which every overlay includes. Whether the metrics its panels
// query exist in the real processes is gateway/e2e's dashboard test; this
// one holds the file to Grafana's dashboard model and to the manifests'
// labels.
const (
	dashboardFile      = "deploy/components/grafana-dashboard/abacus.json"
	dashboardConfigMap = "abacus-grafana-dashboard"
	dashboardKey       = "abacus.json"
	// The label the grafana Helm chart's dashboard sidecar watches by default.
	dashboardLabel, dashboardLabelValue = "grafana_dashboard", "1"
	// kubectl's client-side apply copies the object into an annotation, and
	// an object's annotations may hold 256 KiB in all; leave room for the rest.
	dashboardMaxBytes = 200 << 10
	// Grafana 10 and later read datasource references as objects
	// ({"type", "uid"}) from schema 36 on.
	minSchemaVersion = 36
	gridColumns      = 24
)

// Variables Grafana itself defines, which a query may use without a
// template variable of that name.
var grafanaBuiltins = []string{"__rate_interval", "__range", "__interval"}

type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int      `json:"id"`
	Type       string   `json:"type"`
	Title      string   `json:"title"`
	Datasource *dsRef   `json:"datasource"`
	GridPos    *gridPos `json:"gridPos"`
	Targets    []target `json:"targets"`
	Panels     []panel  `json:"panels"` // a collapsed row's panels
}

type gridPos struct{ H, W, X, Y int }

type target struct {
	RefID      string `json:"refId"`
	Expr       string `json:"expr"`
	Datasource *dsRef `json:"datasource"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Datasource *dsRef          `json:"datasource"`
	Options    []struct {
		Value string `json:"value"`
	} `json:"options"`
}

// exprs are the PromQL expressions of a variable: a query variable's
// definition.
func (v variable) expr() string {
	if v.Type == "query" {
		return v.Definition
	}
	return ""
}

// values are a custom variable's choices, "All" left out.
func (v variable) values() []string {
	var vs []string
	for _, o := range v.Options {
		if o.Value != "$__all" {
			vs = append(vs, o.Value)
		}
	}
	return vs
}

func loadDashboard(t *testing.T, root string) ([]byte, *dashboard) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: not a dashboard: %v", dashboardFile, err)
	}
	if dec.More() {
		t.Fatalf("%s: more than one JSON value", dashboardFile)
	}
	return raw, &d
}

// TestDashboard: the dashboard is a Grafana dashboard whose panels sit on the
// grid without overlapping, query the data source chosen in its datasource
// variable, and use only variables it defines.
func TestDashboard(t *testing.T) {
	t.Parallel()
	f := setup(t)
	raw, d := loadDashboard(t, f.root)
	if len(raw) > dashboardMaxBytes {
		t.Errorf("%s is %d bytes; keep it under %d so kubectl apply can store it", dashboardFile, len(raw), dashboardMaxBytes)
	}
	if d.UID == "" || len(d.UID) > 40 || d.Title == "" {
		t.Errorf("uid %q, title %q: Grafana needs a title and a uid of at most 40 characters", d.UID, d.Title)
	}
	if d.SchemaVersion < minSchemaVersion {
		t.Errorf("schemaVersion %d; want at least %d", d.SchemaVersion, minSchemaVersion)
	}

	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		if _, dup := vars[v.Name]; dup {
			t.Errorf("variable %s defined twice", v.Name)
		}
		vars[v.Name] = v
	}
	ds, ok := vars["datasource"]
	if !ok || ds.Type != "datasource" || string(ds.Query) != `"prometheus"` {
		t.Fatalf(`no variable "datasource" of type datasource choosing among Prometheus data sources: %+v`, ds)
	}
	wantDS := dsRef{Type: "prometheus", UID: "${datasource}"}
	checkDS := func(where string, r *dsRef) {
		if r == nil || *r != wantDS {
			t.Errorf("%s: datasource %+v; want %+v", where, r, wantDS)
		}
	}

	used := map[string]bool{}
	varRef := regexp.MustCompile(`\$\{?(\w+)`)
	useVars := func(where, s string) {
		for _, m := range varRef.FindAllStringSubmatch(s, -1) {
			name := m[1]
			used[name] = true
			if _, ok := vars[name]; !ok && !slices.Contains(grafanaBuiltins, name) {
				t.Errorf("%s uses $%s, which the dashboard does not define", where, name)
			}
		}
	}
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
		case "query":
			checkDS("variable "+v.Name, v.Datasource)
			if v.Definition == "" {
				t.Errorf("variable %s: no query", v.Name)
			}
			useVars("variable "+v.Name, v.Definition)
		case "custom":
			if len(v.values()) == 0 {
				t.Errorf("variable %s: no values", v.Name)
			}
		default:
			t.Errorf("variable %s: type %q; the checks know datasource, query and custom", v.Name, v.Type)
		}
	}

	ids := map[int]string{}
	var placed []panel
	queries := 0
	for _, p := range allPanels(d.Panels) {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.ID <= 0 {
			t.Errorf("%s: id must be positive", where)
		} else if other, dup := ids[p.ID]; dup {
			t.Errorf("%s: id also used by %q", where, other)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			t.Errorf("%s: no title", where)
		}
		g := p.GridPos
		if g == nil || g.W < 1 || g.H < 1 || g.X < 0 || g.Y < 0 || g.X+g.W > gridColumns {
			t.Errorf("%s: gridPos %+v outside the %d-column grid", where, g, gridColumns)
			continue
		}
		for _, q := range placed {
			if overlap(*g, *q.GridPos) {
				t.Errorf("%s at %+v overlaps panel %d %q at %+v", where, *g, q.ID, q.Title, *q.GridPos)
			}
		}
		placed = append(placed, p)
		switch p.Type {
		case "row":
			if len(p.Targets) != 0 || g.H != 1 || g.W != gridColumns || g.X != 0 {
				t.Errorf("%s: a row spans the grid, one unit high, and queries nothing", where)
			}
			continue
		case "timeseries", "stat":
		default:
			t.Errorf("%s: type %q; the checks know row, timeseries and stat", where, p.Type)
		}
		checkDS(where, p.Datasource)
		if len(p.Targets) == 0 {
			t.Errorf("%s: no targets", where)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("%s: target refId %q missing or repeated", where, tg.RefID)
			}
			refs[tg.RefID] = true
			checkDS(where+" target "+tg.RefID, tg.Datasource)
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("%s target %s: no expr", where, tg.RefID)
			}
			useVars(where+" target "+tg.RefID, tg.Expr)
			queries++
		}
	}
	if queries == 0 {
		t.Error("the dashboard queries nothing")
	}
	for name := range vars {
		if name != "datasource" && !used[name] {
			t.Errorf("variable %s is used by no query", name)
		}
	}
}

// allPanels flattens collapsed rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

func overlap(a, b gridPos) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

// TestDashboardConfigMap: every overlay renders the dashboard, byte for byte,
// in a ConfigMap the sidecar picks up, under a fixed name, and the
// process and part-of labels its queries select on are labels the
// overlay's scraped pods carry.
func TestDashboardConfigMap(t *testing.T) {
	t.Parallel()
	f := setup(t)
	raw, d := loadDashboard(t, f.root)
	for _, b := range f.overlays {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			if b.err != nil {
				t.Fatal(b.err)
			}
			cm, ok := b.configMaps[dashboardConfigMap]
			if !ok {
				var names []string
				for n := range b.configMaps {
					names = append(names, n)
				}
				sort.Strings(names)
				t.Fatalf("no ConfigMap %s (a hashed name would leave old dashboards behind); ConfigMaps: %v", dashboardConfigMap, names)
			}
			if cm.Labels[dashboardLabel] != dashboardLabelValue {
				t.Errorf("ConfigMap %s: label %s=%q; want %q", cm.Name, dashboardLabel, cm.Labels[dashboardLabel], dashboardLabelValue)
			}
			if len(cm.Data) != 1 || len(cm.BinaryData) != 0 {
				t.Errorf("ConfigMap %s holds %d keys; want only %s", cm.Name, len(cm.Data)+len(cm.BinaryData), dashboardKey)
			}
			got := cm.Data[dashboardKey]
			if got != string(raw) {
				t.Errorf("ConfigMap %s key %s differs from %s (%d bytes against %d)", cm.Name, dashboardKey, dashboardFile, len(got), len(raw))
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("ConfigMap %s key %s is not valid JSON", cm.Name, dashboardKey)
			}
			checkDashboardLabels(t, b, d)
		})
	}
}

// checkDashboardLabels: Prometheus's pod discovery, with the usual labelmap
// of pod labels, turns app.kubernetes.io/name into app_kubernetes_io_name;
// every value the dashboard selects on must be the name of scraped pods.
func checkDashboardLabels(t *testing.T, b *bundle, d *dashboard) {
	t.Helper()
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	exprs := []string{}
	for _, v := range d.Templating.List {
		exprs = append(exprs, v.expr())
	}
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	matcher := regexp.MustCompile(`\b(app_kubernetes_io_name|app_kubernetes_io_part_of)\s*(=~|=|!=|!~)\s*"([^"]*)"`)
	scraped := map[string]map[string]bool{} // label -> values on scraped pods
	for _, w := range b.workloads() {
		if w.template.Annotations["prometheus.io/scrape"] != "true" {
			continue
		}
		for k, promLabel := range map[string]string{
			"app.kubernetes.io/name": "app_kubernetes_io_name", "app.kubernetes.io/part-of": "app_kubernetes_io_part_of",
		} {
			if v, ok := w.template.Labels[k]; ok {
				if scraped[promLabel] == nil {
					scraped[promLabel] = map[string]bool{}
				}
				scraped[promLabel][v] = true
			}
		}
	}
	names := 0
	for _, e := range exprs {
		for _, m := range matcher.FindAllStringSubmatch(e, -1) {
			label, op, value := m[1], m[2], m[3]
			if op != "=" && op != "=~" {
				t.Errorf("%s%s%q: select on the process positively", label, op, value)
				continue
			}
			var values []string
			if strings.HasPrefix(value, "$") {
				v, ok := vars[strings.Trim(value, "${}")]
				if !ok || v.Type != "custom" || op != "=~" {
					t.Errorf("%s%s%q: a process variable must be a custom variable matched with =~", label, op, value)
					continue
				}
				values = v.values()
			} else {
				values = strings.Split(value, "|")
				if op == "=" {
					values = []string{value}
				}
			}
			for _, v := range values {
				if !scraped[label][v] {
					t.Errorf("%s=%q in %s: no scraped pod of overlay %s carries it", label, v, e, b.name)
				}
			}
			if label == "app_kubernetes_io_name" {
				names++
			}
		}
	}
	if names == 0 {
		t.Error("no query selects its process by app_kubernetes_io_name")
	}
}
