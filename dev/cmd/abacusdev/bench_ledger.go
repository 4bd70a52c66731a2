package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

func init() { benchmarks["ledger"] = benchLedger }

// benchLedger puts Abacus side by side with pgbench running the SQL of the
// same work on the same PostgreSQL: postings over many customers and over
// one hot customer, and balance reads.
func benchLedger(ctx context.Context, args []string) error {
	var customers int
	f, err := parseBenchFlags("ledger", args, func(fs *flag.FlagSet) {
		fs.IntVar(&customers, "customers", 10000, "customers the uniform postings and the reads spread over")
	})
	if err != nil {
		return err
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

	fmt.Fprintf(os.Stderr, "--> creating %d customers\n", customers)
	if _, err := env.createCustomers(ctx, customers, 16); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "--> preparing the pgbench tables")
	if err := preparePgbench(ctx, s.dbURL, customers); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "abacus-pgbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pg := func(name, script string) (float64, error) {
		path := filepath.Join(dir, name+".sql")
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			return 0, err
		}
		fmt.Fprintf(os.Stderr, "--> pgbench %s (%d clients, %s)\n", name, f.clients, f.duration)
		return runPgbench(ctx, pgbench, s.dbURL, path, f.clients, f.duration)
	}
	postSQL := func(cid string) string {
		return cid + `
BEGIN;
INSERT INTO pgbench_ledger.entries (customer_id, currency, delta, post_time) VALUES (:cid, 'USD', 1.25, now());
UPDATE pgbench_ledger.balances SET balance = balance + 1.25 WHERE customer_id = :cid AND currency = 'USD';
END;
`
	}
	pgUniform, err := pg("post-uniform", postSQL(fmt.Sprintf(`\set cid random(1, %d)`, customers)))
	if err != nil {
		return err
	}
	pgHot, err := pg("post-hot", postSQL(`\set cid 1`))
	if err != nil {
		return err
	}
	pgRead, err := pg("select-only", fmt.Sprintf(`\set cid random(1, %d)
SELECT balance FROM pgbench_ledger.balances WHERE customer_id = :cid AND currency = 'USD';
`, customers))
	if err != nil {
		return err
	}

	ledger := ledgerv1.NewLedgerServiceClient(env.conns["ledger"])
	hist := historyv1.NewHistoryServiceClient(env.conns["history"])
	var notes []string
	post := func(phase string, pick func() int32) (loadResult, error) {
		before, err := sampleCounters(ctx, s)
		if err != nil {
			return loadResult{}, err
		}
		cpu0 := sampleCPU(s)
		lag := sampleLag(env.tenantCtx(ctx), hist)
		res := closedLoop(env.tenantCtx(ctx), f.clients, f.duration, func(ctx context.Context, w, i int) error {
			_, err := ledger.PostEntry(ctx, &ledgerv1.PostEntryRequest{
				Posting:        &ledgerv1.Posting{CustomerId: pick(), Currency: "USD", Kind: "PAYMENT", Amount: "1.25"},
				IdempotencyKey: fmt.Sprintf("bench-%s-%d-%d", phase, w, i),
			})
			return err
		})
		lagP50, lagP99, lagN := lag()
		cpu1 := sampleCPU(s)
		after, err := sampleCounters(ctx, s)
		if err != nil {
			return loadResult{}, err
		}
		tx, posts, syncs := after.transactions-before.transactions, after.postings-before.postings, after.walSyncs-before.walSyncs
		notes = append(notes, fmt.Sprintf("%s: %.0f postings per transaction, %.0f WAL fsyncs/s (server-wide)",
			phase, float64(posts)/max(float64(tx), 1), float64(syncs)/res.elapsed.Seconds()))
		notes = append(notes, fmt.Sprintf("  history projection lag under this load: p50 %.1f ms, p99 %.1f ms "+
			"(GetLag.time_behind, the age of the oldest committed entry not yet applied; %d samples)",
			float64(lagP50.Microseconds())/1000, float64(lagP99.Microseconds())/1000, lagN))
		notes = append(notes, "  "+perOp(cpu0, cpu1, res.ops, "posting")+
			fmt.Sprintf("; machine: %d cores, %.0f%% busy", runtime.NumCPU(), busy(cpu0, cpu1, res.elapsed)))
		return res, nil
	}
	// Steady state, as pgbench has it: every customer has a balance row
	// and is known to the ledger's customer cache.
	fmt.Fprintf(os.Stderr, "--> warming up: one posting per customer\n")
	var next atomic.Int64
	warm := closedLoop(env.tenantCtx(ctx), f.clients, time.Hour, func(ctx context.Context, _, _ int) error {
		i := next.Add(1)
		if i > int64(customers) {
			return errSeedDone
		}
		_, err := ledger.PostEntry(ctx, &ledgerv1.PostEntryRequest{
			Posting:        &ledgerv1.Posting{CustomerId: int32(i), Currency: "USD", Kind: "PAYMENT", Amount: "1.25"},
			IdempotencyKey: fmt.Sprintf("bench-warm-%d", i),
		})
		return err
	}, stopOn(errSeedDone))
	if warm.errors > 0 {
		return fmt.Errorf("warm-up: %v", warm.firstError)
	}
	fmt.Fprintf(os.Stderr, "--> Abacus postings over %d customers (%d clients, %s)\n", customers, f.clients, f.duration)
	abUniform, err := post("uniform", func() int32 { return rand.Int32N(int32(customers)) + 1 })
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "--> Abacus postings to one hot customer (%d clients, %s)\n", f.clients, f.duration)
	abHot, err := post("hot", func() int32 { return 1 })
	if err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "--> Abacus balance reads through the gateway's Exigo route (%d clients, %s)\n", f.clients, f.duration)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: f.clients * 2}}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(env.demo.Exigo.Login+"@"+env.demo.Exigo.Company+":"+env.demo.Exigo.Password))
	var unexpected atomic.Int64
	cpu0 := sampleCPU(s)
	abRead := closedLoop(ctx, f.clients, f.duration, func(ctx context.Context, _, _ int) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
			s.gateway+"/3.0/customers/balances?customerID="+strconv.Itoa(rand.IntN(customers)+1), nil)
		req.Header.Set("Authorization", auth)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			unexpected.Add(1)
			return fmt.Errorf("%w: HTTP %d", errUnexpected, resp.StatusCode)
		}
		return nil
	})

	cpu1 := sampleCPU(s)
	notes = append(notes, "reads: "+perOp(cpu0, cpu1, abRead.ops, "read")+
		fmt.Sprintf("; machine: %d cores, %.0f%% busy", runtime.NumCPU(), busy(cpu0, cpu1, abRead.elapsed)))
	ratio := func(a, b float64) string { return fmt.Sprintf("%.2f×", a/b) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
	printTable(fmt.Sprintf("Ledger benchmark: %d clients, %s per run, one PostgreSQL (fsync on)", f.clients, f.duration),
		[]string{"workload", "Abacus/s", "p50", "p99", "errors", "pgbench TPS", "ratio", "target"},
		[][]string{
			{fmt.Sprintf("postings, %d customers (gRPC)", customers), fmt.Sprintf("%.0f", abUniform.perSecond()), ms(abUniform.p50), ms(abUniform.p99), strconv.Itoa(abUniform.errors), fmt.Sprintf("%.0f", pgUniform), ratio(abUniform.perSecond(), pgUniform), "≥ 2×, p99 ≤ 25 ms"},
			{"postings, 1 hot customer (gRPC)", fmt.Sprintf("%.0f", abHot.perSecond()), ms(abHot.p50), ms(abHot.p99), strconv.Itoa(abHot.errors), fmt.Sprintf("%.0f", pgHot), ratio(abHot.perSecond(), pgHot), "≥ 10×, p99 ≤ 25 ms"},
			{"balance reads (gateway, Exigo)", fmt.Sprintf("%.0f", abRead.perSecond()), ms(abRead.p50), ms(abRead.p99), strconv.Itoa(abRead.errors), fmt.Sprintf("%.0f", pgRead), ratio(abRead.perSecond(), pgRead), "≥ 0.5× select-only"},
		})
	for _, n := range notes {
		fmt.Println("  " + n)
	}
	for name, r := range map[string]loadResult{"uniform postings": abUniform, "hot postings": abHot, "balance reads": abRead} {
		if r.firstError != nil {
			fmt.Printf("  first error of %s: %v\n", name, r.firstError)
		}
	}
	return nil
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
