package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// The Grafana dashboard in deploy/ queries metrics by name; this test holds
// every query to what the real processes expose on their admin /metrics,
// after traffic that makes the labelled series appear. deploy/verify checks
// the dashboard's structure and that its process labels name the
// manifests' pods.

const dashboardPath = "deploy/components/grafana-dashboard/abacus.json"

// Labels Prometheus adds to every scraped series through the pod discovery
// of deploy/README.md; the processes must not export them themselves.
var targetLabels = []string{"namespace", "pod", "app_kubernetes_io_name", "app_kubernetes_io_part_of"}

// Processes, by the app.kubernetes.io/name of their pods (the names
// devstack gives them).
var dashboardProcs = []string{"gateway", "customer", "ledger", "history"}

type grafanaDashboard struct {
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []grafanaVariable `json:"list"`
	} `json:"templating"`
}

type grafanaPanel struct {
	ID      int            `json:"id"`
	Title   string         `json:"title"`
	Panels  []grafanaPanel `json:"panels"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

type grafanaVariable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Definition string `json:"definition"`
	Options    []struct {
		Value string `json:"value"`
	} `json:"options"`
}

// query is one PromQL expression of the dashboard and where it is.
type query struct {
	where string
	expr  string
	panel bool // a panel's target (not a variable's query)
}

func loadQueries(t *testing.T) ([]query, map[string][]string) {
	t.Helper()
	root, err := workspaceRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, dashboardPath))
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	custom := map[string][]string{}
	var qs []query
	for _, v := range d.Templating.List {
		switch v.Type {
		case "custom":
			for _, o := range v.Options {
				if o.Value != "$__all" {
					custom[v.Name] = append(custom[v.Name], o.Value)
				}
			}
		case "query":
			qs = append(qs, query{where: "variable " + v.Name, expr: v.Definition})
		}
	}
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				qs = append(qs, query{where: fmt.Sprintf("panel %d %q target %s", p.ID, p.Title, tg.RefID), expr: tg.Expr, panel: true})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if len(qs) == 0 {
		t.Fatalf("%s: no queries", dashboardPath)
	}
	return qs, custom
}

// ---------------------------------------------------------------- PromQL

// promSelector is one vector selector of an expression.
type promSelector struct {
	name     string
	matchers []promMatcher
	ranged   bool     // followed by a [range]
	calls    []string // the calls it is an argument of, innermost last
}

type promMatcher struct{ label, op, value string }

func (s promSelector) matcher(label string) (promMatcher, bool) {
	for _, m := range s.matchers {
		if m.label == label {
			return m, true
		}
	}
	return promMatcher{}, false
}

type promExpr struct {
	selectors []promSelector
	grouping  []string // labels of by, without, on and ignoring clauses
}

// The functions and aggregations the dashboard may call; anything else is
// taken for a mistake.
var promCalls = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "count": true, "topk": true, "bottomk": true,
	"rate": true, "irate": true, "increase": true, "histogram_quantile": true,
	"clamp_min": true, "clamp_max": true, "abs": true, "vector": true, "scalar": true,
}

var promAggregations = map[string]bool{"sum": true, "min": true, "max": true, "avg": true, "count": true, "topk": true, "bottomk": true}

type promToken struct {
	kind byte // 'i' identifier, 's' string, 'n' number, 'o' operator, '[' a range (text: its inside), or the punctuation itself
	text string
}

func lexPromQL(s string) ([]promToken, error) {
	var toks []promToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '_' || c == ':' || unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] == ':' || unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j]))) {
				j++
			}
			toks = append(toks, promToken{'i', s[i:j]})
			i = j
		case unicode.IsDigit(rune(c)) || c == '.' && i+1 < len(s) && unicode.IsDigit(rune(s[i+1])):
			j := i + 1
			for j < len(s) && (s[j] == '.' || unicode.IsDigit(rune(s[j])) || unicode.IsLetter(rune(s[j]))) {
				j++
			}
			toks = append(toks, promToken{'n', s[i:j]})
			i = j
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			v := s[i+1 : j]
			if c == '"' {
				u, err := strconv.Unquote(s[i : j+1])
				if err != nil {
					return nil, fmt.Errorf("bad string %s: %v", s[i:j+1], err)
				}
				v = u
			}
			toks = append(toks, promToken{'s', v})
			i = j + 1
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated range at %d", i)
			}
			toks = append(toks, promToken{'[', s[i+1 : i+j]})
			i += j + 1
		case strings.ContainsRune("(){},", rune(c)):
			toks = append(toks, promToken{c, string(c)})
			i++
		default:
			op := ""
			for _, o := range []string{"=~", "!=", "!~", "==", ">=", "<=", "=", ">", "<", "+", "-", "*", "/", "%", "^"} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected %q at %d", c, i)
			}
			toks = append(toks, promToken{'o', op})
			i += len(op)
		}
	}
	return toks, nil
}

// parsePromQL finds the selectors of expr, each with its matchers and the
// calls around it, and the grouping labels. It knows the part of PromQL the
// dashboard uses and refuses what it does not know.
func parsePromQL(expr string) (promExpr, error) {
	toks, err := lexPromQL(expr)
	if err != nil {
		return promExpr{}, err
	}
	var e promExpr
	var calls []string // "" for a plain parenthesis
	at := func(i int, kind byte) bool { return i < len(toks) && toks[i].kind == kind }
	labelList := func(i int) (int, error) { // toks[i] is "("; returns the index of ")"
		for i++; i < len(toks) && toks[i].kind != ')'; i++ {
			switch toks[i].kind {
			case 'i':
				e.grouping = append(e.grouping, toks[i].text)
			case ',':
			default:
				return i, fmt.Errorf("unexpected %q in a label list", toks[i].text)
			}
		}
		if i >= len(toks) {
			return i, fmt.Errorf("unterminated label list")
		}
		return i, nil
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.kind {
		case 'i':
			switch t.text {
			case "by", "without", "on", "ignoring", "group_left", "group_right":
				if !at(i+1, '(') {
					if t.text == "group_left" || t.text == "group_right" {
						continue
					}
					return e, fmt.Errorf("%s without a label list", t.text)
				}
				if i, err = labelList(i + 1); err != nil {
					return e, err
				}
				continue
			case "bool", "and", "or", "unless":
				continue
			case "offset":
				return e, fmt.Errorf("offset is not supported here")
			}
			if at(i+1, '(') || promAggregations[t.text] && at(i+1, 'i') && (toks[i+1].text == "by" || toks[i+1].text == "without") {
				if !promCalls[t.text] {
					return e, fmt.Errorf("unknown function %s", t.text)
				}
				if !at(i+1, '(') { // sum by (labels) (...)
					if !at(i+2, '(') {
						return e, fmt.Errorf("%s %s without a label list", t.text, toks[i+1].text)
					}
					if i, err = labelList(i + 2); err != nil {
						return e, err
					}
					if !at(i+1, '(') {
						return e, fmt.Errorf("%s: no argument after its label list", t.text)
					}
				}
				calls = append(calls, t.text)
				i++
				continue
			}
			sel := promSelector{name: t.text, calls: slices.Clone(calls)}
			if at(i+1, '{') {
				for i += 2; ; i += 2 {
					if at(i, '}') {
						break
					}
					if !at(i, 'i') || !at(i+1, 'o') || !at(i+2, 's') {
						return e, fmt.Errorf("bad matcher in the selector of %s", sel.name)
					}
					op := toks[i+1].text
					if op != "=" && op != "!=" && op != "=~" && op != "!~" {
						return e, fmt.Errorf("bad matcher operator %s in the selector of %s", op, sel.name)
					}
					sel.matchers = append(sel.matchers, promMatcher{toks[i].text, op, toks[i+2].text})
					i += 2
					if at(i+1, '}') {
						i++
						break
					}
					if !at(i+1, ',') {
						return e, fmt.Errorf("bad matcher list in the selector of %s", sel.name)
					}
				}
			}
			if at(i+1, '[') {
				sel.ranged = true
				i++
			}
			e.selectors = append(e.selectors, sel)
		case '{':
			return e, fmt.Errorf("a selector without a metric name")
		case '[':
			return e, fmt.Errorf("a range on something other than a selector")
		case '(':
			calls = append(calls, "")
		case ')':
			if len(calls) == 0 {
				return e, fmt.Errorf("unbalanced )")
			}
			calls = calls[:len(calls)-1]
		case '}':
			return e, fmt.Errorf("unbalanced }")
		}
	}
	if len(calls) != 0 {
		return e, fmt.Errorf("unbalanced (")
	}
	if len(e.selectors) == 0 {
		return e, fmt.Errorf("no metric selected")
	}
	return e, nil
}

// ---------------------------------------------------------------- /metrics

// exposition is one process's /metrics: each sample name's family and the
// label sets of its series.
type exposition struct {
	family map[string]string // sample name -> family name
	typ    map[string]string // family name -> counter, gauge, histogram, summary, untyped
	series map[string][]map[string]string
}

func (x exposition) labelNames(sample string) map[string]bool {
	names := map[string]bool{}
	for _, s := range x.series[sample] {
		for k := range s {
			names[k] = true
		}
	}
	return names
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+\S+(\s+\S+)?$`)

func parseExposition(text string) (exposition, error) {
	x := exposition{family: map[string]string{}, typ: map[string]string{}, series: map[string][]map[string]string{}}
	cur := ""
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			f := strings.Fields(line)
			if len(f) == 4 && f[1] == "TYPE" {
				cur = f[2]
				x.typ[cur] = f[3]
			}
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			return x, fmt.Errorf("line %d: not a sample: %s", n+1, line)
		}
		name := m[1]
		suffix, ok := strings.CutPrefix(name, cur)
		switch {
		case !ok || cur == "":
			return x, fmt.Errorf("line %d: sample %s outside its family's TYPE", n+1, name)
		case suffix == "":
		case (suffix == "_sum" || suffix == "_count") && (x.typ[cur] == "histogram" || x.typ[cur] == "summary"):
		case suffix == "_bucket" && x.typ[cur] == "histogram":
		default:
			return x, fmt.Errorf("line %d: sample %s does not belong to %s family %s", n+1, name, x.typ[cur], cur)
		}
		x.family[name] = cur
		labels, err := parseLabels(m[2])
		if err != nil {
			return x, fmt.Errorf("line %d: %v", n+1, err)
		}
		x.series[name] = append(x.series[name], labels)
	}
	return x, nil
}

func parseLabels(s string) (map[string]string, error) {
	labels := map[string]string{}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	for s != "" {
		eq := strings.Index(s, `="`)
		if eq < 0 {
			return nil, fmt.Errorf("bad labels %q", s)
		}
		name := strings.TrimSpace(s[:eq])
		j := eq + 2
		for j < len(s) && s[j] != '"' {
			if s[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(s) {
			return nil, fmt.Errorf("unterminated label value in %q", s)
		}
		v, err := strconv.Unquote(s[eq+1 : j+1])
		if err != nil {
			return nil, err
		}
		labels[name] = v
		s = strings.TrimPrefix(strings.TrimSpace(s[j+1:]), ",")
	}
	return labels, nil
}

func scrapeMetrics(t *testing.T, addr string) exposition {
	t.Helper()
	code, body, err := httpDo(t.Context(), http.MethodGet, "http://"+addr+"/metrics", nil, nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET http://%s/metrics: %d %v", addr, code, err)
	}
	x, err := parseExposition(string(body))
	if err != nil {
		t.Fatalf("http://%s/metrics: %v", addr, err)
	}
	return x
}

// ---------------------------------------------------------------- the check

var labelValuesQuery = regexp.MustCompile(`^\s*label_values\((.*),\s*([a-zA-Z_]\w*)\s*\)\s*$`)

// checkQuery holds one query to the processes' expositions and returns what
// is wrong with it.
func checkQuery(q query, custom map[string][]string, scraped map[string]exposition) []string {
	var problems []string
	fail := func(format string, args ...any) {
		problems = append(problems, q.where+": "+fmt.Sprintf(format, args...))
	}
	expr, valuesOf := q.expr, ""
	if m := labelValuesQuery.FindStringSubmatch(expr); m != nil {
		expr, valuesOf = m[1], m[2]
	} else if !q.panel {
		fail("a variable's query must be label_values(selector, label): %s", q.expr)
		return problems
	}
	e, err := parsePromQL(expr)
	if err != nil {
		fail("%v in %s", err, expr)
		return problems
	}
	exposed := map[string]bool{} // labels on the series the expression selects
	for _, s := range e.selectors {
		procs, err := selectedProcs(s, custom)
		if err != nil {
			fail("%s: %v", s.name, err)
			continue
		}
		if q.panel {
			if m, _ := s.matcher("namespace"); m != (promMatcher{"namespace", "=", "$namespace"}) {
				fail(`%s: select namespace="$namespace"`, s.name)
			}
			if m, _ := s.matcher("pod"); m != (promMatcher{"pod", "=~", "$pod"}) {
				fail(`%s: select pod=~"$pod"`, s.name)
			}
		}
		for _, p := range procs {
			x := scraped[p]
			fam, ok := x.family[s.name]
			if !ok {
				fail("%s is not exposed by the %s process", s.name, p)
				continue
			}
			typ, suffix := x.typ[fam], strings.TrimPrefix(s.name, fam)
			inner := ""
			if len(s.calls) > 0 {
				inner = s.calls[len(s.calls)-1]
			}
			switch {
			case !q.panel: // label_values reads labels of any type
			case s.ranged:
				if inner != "rate" && inner != "irate" && inner != "increase" {
					fail("%s: a range outside rate, irate or increase", s.name)
				}
				if typ != "counter" && suffix == "" {
					fail("%s is a %s on the %s process; rate and increase need a counter or a histogram's _bucket, _sum or _count", s.name, typ, p)
				}
			case typ != "gauge":
				fail("%s is a %s on the %s process: read it through rate or increase", s.name, typ, p)
			}
			if suffix == "_bucket" && (!slices.Contains(s.calls, "histogram_quantile") || !slices.Contains(e.grouping, "le")) {
				fail("%s: buckets are read by histogram_quantile over a sum by le", s.name)
			}
			own := x.labelNames(s.name)
			for l := range own {
				exposed[l] = true
				if slices.Contains(targetLabels, l) {
					fail("%s on the %s process carries %s itself, which Prometheus would rename to exported_%s", s.name, p, l, l)
				}
			}
			for _, m := range s.matchers {
				if !slices.Contains(targetLabels, m.label) && !own[m.label] {
					fail("%s on the %s process has no label %s", s.name, p, m.label)
				}
			}
		}
	}
	for _, l := range append(slices.Clone(e.grouping), valuesOf) {
		if l != "" && !slices.Contains(targetLabels, l) && !exposed[l] {
			fail("groups by or lists label %s, which no selected series carries", l)
		}
	}
	return problems
}

// selectedProcs are the processes a selector reads, by its
// app_kubernetes_io_name matcher; without one, every process must expose it.
func selectedProcs(s promSelector, custom map[string][]string) ([]string, error) {
	m, ok := s.matcher("app_kubernetes_io_name")
	if !ok {
		return dashboardProcs, nil
	}
	var names []string
	switch {
	case m.op == "=":
		names = []string{m.value}
	case m.op == "=~" && strings.HasPrefix(m.value, "$"):
		names, ok = custom[strings.Trim(m.value, "${}")]
		if !ok {
			return nil, fmt.Errorf("%s is not a custom variable listing processes", m.value)
		}
	case m.op == "=~" && regexp.MustCompile(`^[a-z]+(\|[a-z]+)*$`).MatchString(m.value):
		names = strings.Split(m.value, "|")
	default:
		return nil, fmt.Errorf("app_kubernetes_io_name%s%q: name the processes", m.op, m.value)
	}
	for _, n := range names {
		if !slices.Contains(dashboardProcs, n) {
			return nil, fmt.Errorf("no process is called %s (processes: %v)", n, dashboardProcs)
		}
	}
	return names, nil
}

// exercise sends what makes the labelled series appear: a customer and a
// posting, a read in each dialect, a refusal and a miss.
func exercise(t *testing.T) tenantCreds {
	t.Helper()
	tc := newTenant(t)
	native := basicAuth(tc.magentoUser, tc.magentoKey)
	id := createNative(t, native, `{"name":"Dashboard Customer","status":"CUSTOMER_STATUS_ACTIVE"}`)
	post(t, native, id, `{"currency":"USD","kind":"PAYMENT","amount":"12.50"}`)
	reads := []struct {
		dialect, path string
		auth          map[string]string
		want          int
	}{
		{"native", fmt.Sprintf("/v1/customers/%d/balances", id), native, 200},
		{"exigo", fmt.Sprintf("/3.0/customers/balances?customerID=%d", id), basicAuth(tc.exigoLogin+"@"+tc.company, tc.exigoPassword), 200},
		{"igsend", fmt.Sprintf("/services/clientbalance/?ClientID=%d", id), basicAuth(tc.igsendPublic, tc.igsendPrivate), 200},
		{"magento", fmt.Sprintf("/api/rest/customers/%d/storecredit/history", id), native, 200},
		{"manex", "/API/Customer/Get/" + tc.manexKey + "?CustNumOrName=" + urlEscape("Dashboard Customer"), nil, 200},
		{"gateway", "/healthz", nil, 200},
		{"native", "/v1/customers/999999/balances", native, 404},
		{"exigo", fmt.Sprintf("/3.0/customers/balances?customerID=%d", id), basicAuth(tc.exigoLogin+"@"+tc.company, "wrong"), 401},
	}
	for _, r := range reads {
		code, raw, err := httpDo(t.Context(), "GET", sys.gateway+r.path, r.auth, nil)
		if err != nil || code != r.want {
			t.Fatalf("%s GET %s: %d %v, want %d: %s", r.dialect, r.path, code, err, r.want, raw)
		}
	}
	return tc
}

// TestDashboardMetricsExist: every query of the dashboard reads only
// metrics the processes it selects expose, with the type its functions
// need and the labels it matches and groups by.
func TestDashboardMetricsExist(t *testing.T) {
	t.Parallel()
	queries, custom := loadQueries(t)
	tc := exercise(t)

	// The series of this tenant's projection and of each dialect appear
	// shortly after the requests (the projector finds new tenants every few
	// seconds); scrape until every query is satisfied or a minute has passed.
	var problems []string
	deadline := time.Now().Add(time.Minute)
	for {
		scraped := map[string]exposition{}
		for _, p := range dashboardProcs {
			proc := sys.Proc(p)
			if proc == nil || proc.AdminAddr == "" {
				t.Fatalf("no %s process with an admin address in the stack", p)
			}
			scraped[p] = scrapeMetrics(t, proc.AdminAddr)
		}
		problems = nil
		for _, q := range queries {
			problems = append(problems, checkQuery(q, custom, scraped)...)
		}
		problems = append(problems, exercised(scraped, tc)...)
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	sort.Strings(problems)
	for _, p := range slices.Compact(problems) {
		t.Error(p)
	}
}

// exercised: the series the traffic makes are there, so the queries above
// were checked against labelled series, not against empty families.
func exercised(scraped map[string]exposition, tc tenantCreds) []string {
	var problems []string
	has := func(proc, sample string, want map[string]string) {
		for _, s := range scraped[proc].series[sample] {
			match := true
			for k, v := range want {
				match = match && s[k] == v
			}
			if match {
				return
			}
		}
		problems = append(problems, fmt.Sprintf("the %s process has no series %s%v yet", proc, sample, want))
	}
	for _, d := range []string{"native", "exigo", "igsend", "magento", "manex", "gateway"} {
		has("gateway", "gateway_http_requests_total", map[string]string{"dialect": d, "code": "200"})
		has("gateway", "gateway_http_request_duration_seconds_bucket", map[string]string{"dialect": d})
	}
	has("gateway", "gateway_http_requests_total", map[string]string{"dialect": "native", "code": "404"})
	has("gateway", "gateway_http_requests_total", map[string]string{"dialect": "exigo", "code": "401"})
	for _, p := range []string{"customer", "ledger", "history"} {
		has(p, "grpc_server_handled_total", map[string]string{"grpc_code": "OK"})
		has(p, "grpc_server_handling_seconds_bucket", nil)
	}
	for _, m := range []string{"history_projection_lag_entries", "history_projection_lag_seconds", "history_projection_stream_down_seconds", "history_projection_applied_entries_total"} {
		has("history", m, map[string]string{"tenant": tc.id})
	}
	return problems
}

// TestDashboardCheckFindsMistakes: the check above fails on each kind of
// mistake, against a fixed exposition.
func TestDashboardCheckFindsMistakes(t *testing.T) {
	t.Parallel()
	x, err := parseExposition(`# HELP reqs_total Requests.
# TYPE reqs_total counter
reqs_total{dialect="native",code="200"} 3
# TYPE latency_seconds histogram
latency_seconds_bucket{dialect="native",le="0.1"} 1
latency_seconds_bucket{dialect="native",le="+Inf"} 1
latency_seconds_sum{dialect="native"} 0.05
latency_seconds_count{dialect="native"} 1
# TYPE pool_conns gauge
pool_conns 2
# TYPE clash gauge
clash{pod="x"} 1
`)
	if err != nil {
		t.Fatal(err)
	}
	scraped := map[string]exposition{}
	for _, p := range dashboardProcs {
		scraped[p] = exposition{family: map[string]string{}, typ: map[string]string{}, series: map[string][]map[string]string{}}
	}
	scraped["gateway"] = x
	custom := map[string][]string{"service": {"customer", "ledger"}}
	sel := func(name, extra string) string {
		return name + `{namespace="$namespace", pod=~"$pod", app_kubernetes_io_name="gateway"` + extra + `}`
	}
	good := []string{
		`sum by (dialect, code) (rate(` + sel("reqs_total", `, code=~"5.."`) + `[$__rate_interval]))`,
		`histogram_quantile(0.99, sum by (dialect, le) (rate(` + sel("latency_seconds_bucket", "") + `[5m])))`,
		`sum(rate(` + sel("latency_seconds_sum", "") + `[5m])) / sum(rate(` + sel("latency_seconds_count", "") + `[5m]))`,
		`max by (pod) (` + sel("pool_conns", "") + `)`,
	}
	for _, e := range good {
		if p := checkQuery(query{where: "good", expr: e, panel: true}, custom, scraped); len(p) != 0 {
			t.Errorf("%s: %v", e, p)
		}
	}
	bad := map[string]string{
		"a typo in the name":             `sum(rate(` + sel("req_total", "") + `[5m]))`,
		"another process":                `sum(rate(reqs_total{namespace="$namespace", pod=~"$pod", app_kubernetes_io_name="ledger"}[5m]))`,
		"a process variable's processes": `sum(rate(reqs_total{namespace="$namespace", pod=~"$pod", app_kubernetes_io_name=~"$service"}[5m]))`,
		"an unknown process":             `sum(rate(reqs_total{namespace="$namespace", pod=~"$pod", app_kubernetes_io_name="ledgr"}[5m]))`,
		"no process: every one":          `sum(rate(reqs_total{namespace="$namespace", pod=~"$pod"}[5m]))`,
		"a histogram by its own name":    `sum(rate(` + sel("latency_seconds", "") + `[5m]))`,
		"buckets of a counter":           `histogram_quantile(0.9, sum by (le) (rate(` + sel("reqs_total_bucket", "") + `[5m])))`,
		"buckets without le":             `histogram_quantile(0.9, sum by (dialect) (rate(` + sel("latency_seconds_bucket", "") + `[5m])))`,
		"buckets without a quantile":     `sum by (le) (rate(` + sel("latency_seconds_bucket", "") + `[5m]))`,
		"rate of a gauge":                `rate(` + sel("pool_conns", "") + `[5m])`,
		"a counter read raw":             sel("reqs_total", ""),
		"a label the series lacks":       `sum(rate(` + sel("reqs_total", `, status="200"`) + `[5m]))`,
		"grouping by a missing label":    `sum by (status) (rate(` + sel("reqs_total", "") + `[5m]))`,
		"a label Prometheus sets":        sel("clash", ""),
		"no namespace variable":          `sum(rate(reqs_total{pod=~"$pod", app_kubernetes_io_name="gateway"}[5m]))`,
		"an unknown function":            `summ(rate(` + sel("reqs_total", "") + `[5m]))`,
		"unbalanced":                     `sum(rate(` + sel("reqs_total", "") + `[5m])`,
	}
	for why, e := range bad {
		if p := checkQuery(query{where: why, expr: e, panel: true}, custom, scraped); len(p) == 0 {
			t.Errorf("%s: no problem found in %s", why, e)
		}
	}
	if p := checkQuery(query{where: "variable", expr: `label_values(reqs_total{app_kubernetes_io_name="gateway"}, dialekt)`}, custom, scraped); len(p) == 0 {
		t.Error("a variable listing a label the series lack: no problem found")
	}
	if p := checkQuery(query{where: "variable", expr: `label_values(reqs_total{app_kubernetes_io_name="gateway"}, dialect)`}, custom, scraped); len(p) != 0 {
		t.Errorf("a good variable query: %v", p)
	}
}
