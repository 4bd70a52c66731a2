package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

func init() { benchmarks["ledger"] = benchLedger }

// benchLedger puts Abacus side by side with pgbench running the SQL of the
// same work on the same PostgreSQL — postings over many customers and over
// one hot customer, and balance reads — and every read route of the four
// dialects and /v1 beside a bare HTTP server answering one point select,
// at -clients and again at -clients-high.
func benchLedger(ctx context.Context, args []string) error {
	var customers, high int
	var profileDir string
	f, err := parseBenchFlags("ledger", args, func(fs *flag.FlagSet) {
		fs.StringVar(&profileDir, "profile", "", "write the gateway's CPU profile of each read route into this directory")
		fs.IntVar(&customers, "customers", 10000, "customers the uniform postings and the reads spread over")
		fs.IntVar(&high, "clients-high", 128, "the second concurrency every workload runs at (0: only -clients)")
	})
	if err != nil {
		return err
	}
	if customers < 2 || f.clients < 1 || high < 0 {
		return fmt.Errorf("-customers must be at least 2, -clients at least 1, -clients-high at least 0")
	}
	pgbench, err := findPgbench()
	if err != nil {
		return err
	}
	env, stop, err := startBenchEnv(ctx, f.binDir)
	if err != nil {
		return err
	}
	defer stop()
	s := env.stack

	say("creating %d customers", customers)
	targets, err := env.createCustomers(ctx, customers, 16)
	if err != nil {
		return err
	}
	say("preparing the pgbench tables")
	if err := preparePgbench(ctx, s.dbURL, customers); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "abacus-pgbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bare, err := startBare(ctx, s.dbURL)
	if err != nil {
		return err
	}
	defer bare.stop()
	say("bare reference server at %s (pid %d)", bare.url, bare.pid)

	ledger := ledgerv1.NewLedgerServiceClient(env.conns["ledger"])
	// Steady state, as pgbench has it: every customer has a balance row
	// and is known to the ledger's customer cache; each also gets one
	// store-credit row, which the Magento history reads.
	say("warming up: one payment and one store credit per customer")
	var next atomic.Int64
	warm := closedLoop(env.tenantCtx(ctx), 16, time.Hour, func(ctx context.Context, _, _ int) error {
		i := next.Add(1)
		if i > int64(customers) {
			return errSeedDone
		}
		_, err := ledger.BatchPostEntries(ctx, &ledgerv1.BatchPostEntriesRequest{
			IdempotencyKey: fmt.Sprintf("bench-warm-%d", i),
			Postings: []*ledgerv1.Posting{
				{CustomerId: int32(i), Currency: "USD", Kind: "PAYMENT", Amount: "1.25"},
				{CustomerId: int32(i), Currency: "USD", WebsiteId: 1, Kind: "STORE_CREDIT", Action: 2, Amount: "50.00", Comment: "gift card"},
			},
		})
		return err
	}, stopOn(errSeedDone))
	if warm.errors > 0 {
		return fmt.Errorf("warm-up: %v", warm.firstError)
	}

	// The reads spread over every customer but the hot one, whose
	// thousands of rows would make its history a different read.
	var readTargets customerBenchTargets
	for _, t := range targets {
		if t.id != 1 {
			readTargets = append(readTargets, t)
		}
	}
	levels := []int{f.clients}
	if high > 0 && high != f.clients {
		levels = append(levels, high)
	}
	var tables []func()
	failed := 0
	for _, clients := range levels {
		lv := ledgerLevel{env: env, bare: bare, pgbench: pgbench, dir: dir, customers: customers,
			targets: readTargets, clients: clients, d: f.duration, profileDir: profileDir}
		out, err := lv.run(ctx)
		if err != nil {
			return err
		}
		tables = append(tables, out.print)
		failed += out.readErrors
	}
	for _, t := range tables {
		t()
	}
	if failed > 0 {
		return fmt.Errorf("%d reads failed or answered other than the expected success", failed)
	}
	return nil
}

// ledgerLevel is one concurrency of the ledger benchmark.
type ledgerLevel struct {
	env       *benchEnv
	bare      *bareServer
	pgbench   string
	dir       string
	customers int
	targets   customerBenchTargets // the reads' customers: all but the hot one
	clients   int
	d         time.Duration
	// profileDir, when set, receives the gateway's CPU profile of each
	// read route.
	profileDir string
}

// levelResult is what one concurrency printed, deferred so that the tables
// of every level come together after the progress lines.
type levelResult struct {
	print      func()
	readErrors int
}

// postingTargets are the targets for postings, by concurrency: the
// ratio to pgbench running the same SQL, and p99.
func postingTargets(clients int) (uniform, hot float64, p99 time.Duration) {
	if clients >= 128 {
		return 2, 15, 50 * time.Millisecond
	}
	return 0.8, 3, 25 * time.Millisecond
}

// readTarget is the share of the bare server's rate every read route must
// reach; readP99 applies at 16 clients.
const (
	readTarget = 0.6
	readP99    = 10 * time.Millisecond
)

func (lv ledgerLevel) run(ctx context.Context) (levelResult, error) {
	s := lv.env.stack
	load := "unknown"
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(raw)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	pg := func(name, script string) (float64, error) {
		path := filepath.Join(lv.dir, name+".sql")
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			return 0, err
		}
		say("pgbench %s (%d clients, %s)", name, lv.clients, lv.d)
		return runPgbench(ctx, lv.pgbench, s.dbURL, path, lv.clients, lv.d)
	}
	postSQL := func(cid string) string {
		return cid + `
BEGIN;
INSERT INTO pgbench_ledger.entries (customer_id, currency, delta, post_time) VALUES (:cid, 'USD', 1.25, now());
UPDATE pgbench_ledger.balances SET balance = balance + 1.25 WHERE customer_id = :cid AND currency = 'USD';
END;
`
	}
	pgUniform, err := pg("post-uniform", postSQL(fmt.Sprintf(`\set cid random(1, %d)`, lv.customers)))
	if err != nil {
		return levelResult{}, err
	}
	pgHot, err := pg("post-hot", postSQL(`\set cid 1`))
	if err != nil {
		return levelResult{}, err
	}
	pgRead, err := pg("select-only", fmt.Sprintf(`\set cid random(1, %d)
SELECT balance FROM pgbench_ledger.balances WHERE customer_id = :cid AND currency = 'USD';
`, lv.customers))
	if err != nil {
		return levelResult{}, err
	}

	ledger := ledgerv1.NewLedgerServiceClient(lv.env.conns["ledger"])
	hist := historyv1.NewHistoryServiceClient(lv.env.conns["history"])
	var notes []string
	post := func(phase string, pick func() int32) (loadResult, error) {
		say("Abacus postings, %s (%d clients, %s)", phase, lv.clients, lv.d)
		before, err := sampleCounters(ctx, s)
		if err != nil {
			return loadResult{}, err
		}
		cpu0 := sampleProcs(s, nil)
		lag := sampleLag(lv.env.tenantCtx(ctx), hist)
		res := closedLoop(lv.env.tenantCtx(ctx), lv.clients, lv.d, func(ctx context.Context, w, i int) error {
			_, err := ledger.PostEntry(ctx, &ledgerv1.PostEntryRequest{
				Posting:        &ledgerv1.Posting{CustomerId: pick(), Currency: "USD", Kind: "PAYMENT", Amount: "1.25"},
				IdempotencyKey: fmt.Sprintf("bench-%s-%d-%d-%d", phase, lv.clients, w, i),
			})
			return err
		})
		lagP50, lagP99, lagN := lag()
		cpu := cpuDelta(cpu0, sampleProcs(s, nil))
		after, err := sampleCounters(ctx, s)
		if err != nil {
			return loadResult{}, err
		}
		tx, posts, syncs := after.transactions-before.transactions, after.postings-before.postings, after.walSyncs-before.walSyncs
		notes = append(notes, fmt.Sprintf("%s postings: %.0f per transaction, %.0f WAL fsyncs/s (server-wide); history lag p50 %.1f ms, p99 %.1f ms (%d samples)",
			phase, float64(posts)/max(float64(tx), 1), float64(syncs)/res.elapsed.Seconds(),
			float64(lagP50.Microseconds())/1000, float64(lagP99.Microseconds())/1000, lagN))
		notes = append(notes, "  "+perOp(cpuSample{}, cpu, res.ops, "posting")+
			fmt.Sprintf("; machine: %d cores, %.0f%% busy", runtime.NumCPU(), busy(cpuSample{}, cpu, res.elapsed)))
		return res, nil
	}
	abUniform, err := post("uniform", func() int32 { return rand.Int32N(int32(lv.customers)) + 1 })
	if err != nil {
		return levelResult{}, err
	}
	abHot, err := post("hot", func() int32 { return 1 })
	if err != nil {
		return levelResult{}, err
	}

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: lv.clients, MaxIdleConnsPerHost: lv.clients, IdleConnTimeout: time.Minute,
	}}
	defer client.CloseIdleConnections()
	extra := map[string]int{"bare server": lv.bare.pid}
	type measured struct {
		route benchRoute
		res   loadResult
	}
	var reads []measured
	for _, r := range readRoutes(lv.env, lv.bare, client, lv.targets) {
		say("%s (%d clients, %s)", r.name, lv.clients, lv.d)
		var profiled func() error
		if lv.profileDir != "" && r.name != reads0 {
			profiled = profileGateway(ctx, s, lv.d, filepath.Join(lv.profileDir, fmt.Sprintf("gateway-%d-%s.pprof", lv.clients, fileSafe(r.name))))
		}
		cpu0 := sampleProcs(s, extra)
		res := closedLoop(ctx, lv.clients, lv.d, r.op)
		cpu := cpuDelta(cpu0, sampleProcs(s, extra))
		if ctx.Err() != nil {
			return levelResult{}, ctx.Err()
		}
		say("  %s", res)
		if profiled != nil {
			if err := profiled(); err != nil {
				return levelResult{}, err
			}
		}
		reads = append(reads, measured{r, res})
		notes = append(notes, r.name+": "+perOp(cpuSample{}, cpu, res.ops, "read")+
			fmt.Sprintf("; machine %.0f%% busy", busy(cpuSample{}, cpu, res.elapsed)))
		if res.errors > 0 {
			notes = append(notes, fmt.Sprintf("  %d errors, first: %v", res.errors, res.firstError))
		}
	}

	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }
	ratio := func(a, b float64) string {
		if b <= 0 {
			return "-"
		}
		// Cut, not rounded, to two places, so a miss never prints as a hit.
		return fmt.Sprintf("%.2f×", math.Floor(a/b*100)/100)
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	uT, hT, pT := postingTargets(lv.clients)
	row := func(name string, r loadResult, ref float64, vsPg, vsBare, target string) []string {
		return []string{name, fmt.Sprintf("%.0f", r.perSecond()), ms(r.p50), ms(r.p99), strconv.Itoa(r.errors), fmt.Sprintf("%.0f", ref), vsPg, vsBare, target}
	}
	postRow := func(name string, r loadResult, ref, want float64) []string {
		ok := r.perSecond() >= want*ref && r.p99 <= pT && r.errors == 0
		return row(name, r, ref, ratio(r.perSecond(), ref), "", fmt.Sprintf("≥ %g×, p99 ≤ %s: %s", want, pT, verdict(ok)))
	}
	rows := [][]string{
		postRow(fmt.Sprintf("postings, %d customers (gRPC)", lv.customers), abUniform, pgUniform, uT),
		postRow("postings, 1 hot customer (gRPC)", abHot, pgHot, hT),
	}
	bareRate := reads[0].res.perSecond()
	readErrors := 0
	for i, m := range reads {
		r := m.res
		readErrors += r.errors
		if i == 0 {
			rows = append(rows, row(m.route.name, r, pgRead, ratio(r.perSecond(), pgRead), "1.00×", "the reference"))
			continue
		}
		ok := r.perSecond() >= readTarget*bareRate && r.errors == 0
		target := fmt.Sprintf("≥ %g× bare", readTarget)
		if lv.clients < 128 {
			ok = ok && r.p99 <= readP99
			target += fmt.Sprintf(", p99 ≤ %s", readP99)
		}
		rows = append(rows, row(m.route.name, r, pgRead, ratio(r.perSecond(), pgRead), ratio(r.perSecond(), bareRate), target+": "+verdict(ok)))
	}
	title := fmt.Sprintf("Ledger and reads: %d clients, %s per run, %d customers, one PostgreSQL (fsync on); %d CPUs, everything on this machine; load average %s at the start",
		lv.clients, lv.d, lv.customers, runtime.NumCPU(), load)
	return levelResult{readErrors: readErrors, print: func() {
		printTable(title, []string{"workload", "ops/s", "p50 ms", "p99 ms", "errors", "pgbench TPS", "× pgbench", "× bare", "target"}, rows)
		for _, n := range notes {
			fmt.Println("  " + n)
		}
	}}, nil
}

// reads0 is the bare reference's route name.
const reads0 = "bare net/http + pgx point select"

// readRoutes are the balance and history reads of every dialect, each
// checked to be the expected success, after the bare reference.
func readRoutes(env *benchEnv, bare *bareServer, client *http.Client, targets customerBenchTargets) []benchRoute {
	d := env.demo
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	exigo := basic(d.Exigo.Login+"@"+d.Exigo.Company, d.Exigo.Password)
	igsend := basic(d.Igsend.Live.Public, d.Igsend.Live.Private)
	magento := basic(d.Magento.APIUser, d.Magento.APIKey)
	gw := env.stack.gateway
	get := func(name, auth string, at func(t customerBenchTarget) string, want func(t customerBenchTarget) []string) benchRoute {
		return benchRoute{name, func(ctx context.Context, w, i int) error {
			t := targets.pick(w, i)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, at(t), nil)
			if err != nil {
				return err
			}
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			return expectOK(client.Do(req))(want(t)...)
		}}
	}
	id := func(t customerBenchTarget) string { return strconv.Itoa(int(t.id)) }
	manexURL := gw + "/API/Customer/Get/" + url.PathEscape(d.Manex.APIKey) + "?CustNumOrName="
	return []benchRoute{
		get(reads0, "",
			func(t customerBenchTarget) string { return bare.url + "/balance?customerID=" + id(t) },
			func(customerBenchTarget) []string { return []string{`"balance":"`} }),
		get("Exigo GET /3.0/customers/balances", exigo,
			func(t customerBenchTarget) string { return gw + "/3.0/customers/balances?customerID=" + id(t) },
			func(customerBenchTarget) []string { return []string{`"currencyCode":"USD"`} }),
		get("igsend GET /services/clientbalance/", igsend,
			func(t customerBenchTarget) string { return gw + "/services/clientbalance/?ClientID=" + id(t) },
			func(customerBenchTarget) []string { return []string{`"MessageID":10010`} }),
		get("MANEX GET /API/Customer/Get/{key}", "",
			func(t customerBenchTarget) string { return manexURL + t.number },
			func(t customerBenchTarget) []string { return []string{`"Code":200`, `"CUSTNO":"` + t.number + `"`} }),
		get("Magento JSON storecredit/history", magento,
			func(t customerBenchTarget) string {
				return gw + "/api/rest/customers/" + id(t) + "/storecredit/history"
			},
			func(customerBenchTarget) []string { return []string{`"history_id":"`, `"additional_info":"gift card"`} }),
		get("native GET /v1/customers/{id}/balances", exigo,
			func(t customerBenchTarget) string { return gw + "/v1/customers/" + id(t) + "/balances" },
			func(customerBenchTarget) []string { return []string{`"USD"`} }),
	}
}

// sampleLag asks the history for the tenant's lag every 25 ms until the
// returned function is called, which gives the median and 99th percentile
// of the time behind and the number of samples.
func sampleLag(ctx context.Context, hist historyv1.HistoryServiceClient) func() (p50, p99 time.Duration, n int) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan []time.Duration)
	go func() {
		var samples []time.Duration
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				done <- samples
				return
			case <-tick.C:
			}
			if l, err := hist.GetLag(ctx, &historyv1.GetLagRequest{}); err == nil {
				samples = append(samples, l.GetTimeBehind().AsDuration())
			}
		}
	}()
	return func() (time.Duration, time.Duration, int) {
		cancel()
		samples := <-done
		slices.Sort(samples)
		if len(samples) == 0 {
			return 0, 0, 0
		}
		return samples[len(samples)/2], samples[min(len(samples)-1, len(samples)*99/100)], len(samples)
	}
}

// errSeedDone ends the warm-up loop once every customer has a posting.
var errSeedDone = fmt.Errorf("seeding done")

// preparePgbench creates the tables pgbench's scripts work on: the same
// shape of work as a posting (an entry row, a balance row updated), with the
// types Abacus uses.
func preparePgbench(ctx context.Context, url string, customers int) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		DROP SCHEMA IF EXISTS pgbench_ledger CASCADE;
		CREATE SCHEMA pgbench_ledger;
		CREATE TABLE pgbench_ledger.balances (
			customer_id integer NOT NULL, currency char(3) NOT NULL, balance numeric NOT NULL DEFAULT 0,
			PRIMARY KEY (customer_id, currency));
		CREATE TABLE pgbench_ledger.entries (
			entry_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id integer NOT NULL,
			currency char(3) NOT NULL, delta numeric NOT NULL, post_time timestamptz NOT NULL)`)
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `INSERT INTO pgbench_ledger.balances (customer_id, currency) SELECT g, 'USD' FROM generate_series(1, $1::int) g`, customers)
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `ANALYZE pgbench_ledger.balances`)
	return err
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

func runPgbench(ctx context.Context, bin, url, script string, clients int, d time.Duration) (float64, error) {
	cmd := exec.CommandContext(ctx, bin, "-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(int(d.Seconds())), "-f", script, url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench: no tps in output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func findPgbench() (string, error) {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(matches) == 0 {
		return "", fmt.Errorf("pgbench not found: install PostgreSQL's client tools (apt-get install postgresql)")
	}
	return matches[len(matches)-1], nil
}

// counters are the ledger's group-commit counters and PostgreSQL's WAL
// syncs, sampled around a run to tell what bounds it.
type counters struct{ transactions, postings, walSyncs float64 }

var metricLine = regexp.MustCompile(`(?m)^(ledger_commit_transactions_total|ledger_commit_postings_total) ([0-9.e+]+)$`)

func sampleCounters(ctx context.Context, s *stack) (counters, error) {
	var c counters
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Proc("ledger").AdminAddr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return c, err
	}
	for _, m := range metricLine.FindAllSubmatch(raw, -1) {
		v, _ := strconv.ParseFloat(string(m[2]), 64)
		if string(m[1]) == "ledger_commit_transactions_total" {
			c.transactions = v
		} else {
			c.postings = v
		}
	}
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return c, err
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, `SELECT wal_sync::float8 FROM pg_stat_wal`).Scan(&c.walSyncs)
	return c, err
}

// busy is the share of the machine's cores the sampled processes used.
func busy(before, after cpuSample, d time.Duration) float64 {
	total := 0.0
	for name, t := range after {
		total += t - before[name]
	}
	return 100 * total / (d.Seconds() * float64(runtime.NumCPU()))
}
