package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

func init() { benchmarks["history"] = benchHistory }

// benchHistory measures the history read model:
//
//   - keyset paging: one customer's history of -rows rows, posted through the
//     ledger and projected by the history service, paged through by the
//     real ListHistory RPC; the latency of a page deep in the history is set
//     against the first page's (target: within 1.5×);
//   - balance at an instant with -total rows in the history table (target:
//     under 2 ms). The rows beyond those posted are loaded straight into the
//     history tables with SQL, as a second customer of the bench tenant with
//     a few balances: loading a million rows through the ledger would
//     measure the ledger. The RPC itself is the real one.
//
// It also reports how fast the projection caught up with the postings.
func benchHistory(ctx context.Context, args []string) error {
	var rows, total, pageSize int
	f, err := parseBenchFlags("history", args, func(fs *flag.FlagSet) {
		fs.IntVar(&rows, "rows", 100_000, "history rows of the paged customer, posted through the ledger")
		fs.IntVar(&total, "total", 1_000_000, "history rows in all, the rest loaded with SQL")
		fs.IntVar(&pageSize, "page-size", 100, "ListHistory page size")
	})
	if err != nil {
		return err
	}
	env, stop, err := startBenchEnv(ctx, f.binDir)
	if err != nil {
		return err
	}
	defer stop()
	s := env.stack
	if _, err := env.createCustomers(ctx, 1, 1); err != nil {
		return err
	}
	tctx := env.tenantCtx(ctx)
	ledger := ledgerv1.NewLedgerServiceClient(env.conns["ledger"])
	hist := historyv1.NewHistoryServiceClient(env.conns["history"])

	fmt.Fprintf(os.Stderr, "--> posting %d entries for customer 1 through the ledger\n", rows)
	postStart := time.Now()
	last, err := postHistoryBacklog(tctx, ledger, rows)
	if err != nil {
		return err
	}
	posted := time.Since(postStart)
	if err := awaitHistory(tctx, hist, last); err != nil {
		return err
	}
	caughtUp := time.Since(postStart)
	fmt.Fprintf(os.Stderr, "--> posted in %s; the history had applied all of it %s after the first posting\n",
		posted.Round(time.Millisecond), caughtUp.Round(time.Millisecond))
	perBatch := projectionBatchMean(ctx, s)

	fmt.Fprintf(os.Stderr, "--> paging through customer 1's history, %d rows a page\n", pageSize)
	tokens, seen, oldest, err := pageThrough(tctx, hist, 1, int32(pageSize))
	if err != nil {
		return err
	}
	if seen != rows {
		return fmt.Errorf("%w: paged through %d rows, posted %d", errUnexpected, seen, rows)
	}
	page := func(token string) loadResult {
		return closedLoop(tctx, 1, f.duration, func(ctx context.Context, _, _ int) error {
			resp, err := hist.ListHistory(ctx, &historyv1.ListHistoryRequest{CustomerId: 1, PageSize: int32(pageSize), PageToken: token})
			if err == nil && len(resp.GetEntries()) == 0 {
				err = errUnexpected
			}
			return err
		})
	}
	// The first page from many clients, with the read-your-writes wait (the
	// default: one ledger head read and one history probe per read) and
	// without it (allow_stale).
	firstPage := func(stale bool) loadResult {
		var c *historyv1.ReadConsistency
		if stale {
			c = &historyv1.ReadConsistency{AllowStale: true}
		}
		return closedLoop(tctx, f.clients, f.duration, func(ctx context.Context, _, _ int) error {
			resp, err := hist.ListHistory(ctx, &historyv1.ListHistoryRequest{CustomerId: 1, PageSize: int32(pageSize), Consistency: c})
			if err == nil && len(resp.GetEntries()) == 0 {
				err = errUnexpected
			}
			return err
		})
	}
	fmt.Fprintf(os.Stderr, "--> page 1, %d clients, read-your-writes on, then off (%s each)\n", f.clients, f.duration)
	fresh, stale := firstPage(false), firstPage(true)
	depths := []int{0, len(tokens) / 2, len(tokens) - 1}
	pages := make([]loadResult, len(depths))
	for i, d := range depths {
		fmt.Fprintf(os.Stderr, "--> page %d of %d, back to back (1 client, %s)\n", d+1, len(tokens), f.duration)
		pages[i] = page(tokens[d])
	}

	extra := total - rows
	if extra > 0 {
		fmt.Fprintf(os.Stderr, "--> loading %d more rows into the history tables with SQL (customer 2)\n", extra)
		if err := loadHistoryRows(ctx, s.dbURL, env.demo.Tenant, extra); err != nil {
			return err
		}
	}
	count, err := historyRowCount(ctx, s.dbURL)
	if err != nil {
		return err
	}
	balanceAt := func(customer int32, from, to time.Time) loadResult {
		return closedLoop(tctx, 1, f.duration, func(ctx context.Context, _, _ int) error {
			at := from.Add(time.Duration(rand.Int64N(int64(to.Sub(from)) + 1)))
			resp, err := hist.GetBalanceAt(ctx, &historyv1.GetBalanceAtRequest{CustomerId: customer, Time: timestamppb.New(at)})
			if err == nil && len(resp.GetTotals()) == 0 {
				err = errUnexpected
			}
			return err
		})
	}
	fmt.Fprintf(os.Stderr, "--> balance at random instants, %d rows in the history (1 client, %s each)\n", count, f.duration)
	at1 := balanceAt(1, oldest, last.GetPostTime().AsTime())
	var at2 loadResult
	if extra > 0 {
		at2 = balanceAt(2, loadedFrom, loadedFrom.Add(time.Duration(extra)*time.Second))
	}
	sqlMs, err := explainBalanceAt(ctx, s.dbURL, env.demo.Tenant, time.Duration(max(extra, 1))*time.Second)
	if err != nil {
		return err
	}

	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
	table := [][]string{
		{"projection catch-up", fmt.Sprintf("%d entries", rows), fmt.Sprintf("%.0f entries/s", float64(rows)/caughtUp.Seconds()), "", "",
			fmt.Sprintf("%.1f entries per transaction", perBatch)},
	}
	for i, d := range depths {
		ratio := ""
		if i > 0 {
			ratio = fmt.Sprintf("%.2f× first", float64(pages[i].p50)/float64(pages[0].p50))
		}
		table = append(table, []string{fmt.Sprintf("ListHistory page %d (row %d)", d+1, d*pageSize+1), fmt.Sprintf("%d rows", rows),
			strconv.Itoa(pages[i].ops), ms(pages[i].p50), ms(pages[i].p99), ratio})
	}
	table = append(table,
		[]string{fmt.Sprintf("ListHistory page 1, %d clients, read-your-writes (default)", f.clients), fmt.Sprintf("%d rows", rows),
			fmt.Sprintf("%.0f/s", fresh.perSecond()), ms(fresh.p50), ms(fresh.p99), fmt.Sprintf("%.2f× the rate without", fresh.perSecond()/stale.perSecond())},
		[]string{fmt.Sprintf("ListHistory page 1, %d clients, allow_stale", f.clients), fmt.Sprintf("%d rows", rows),
			fmt.Sprintf("%.0f/s", stale.perSecond()), ms(stale.p50), ms(stale.p99), "no wait for the ledger's head"})
	table = append(table, []string{"GetBalanceAt, customer 1", fmt.Sprintf("%d rows in table", count), strconv.Itoa(at1.ops), ms(at1.p50), ms(at1.p99), "target < 2 ms"})
	if extra > 0 {
		table = append(table, []string{"GetBalanceAt, customer 2", fmt.Sprintf("%d rows in table", count), strconv.Itoa(at2.ops), ms(at2.p50), ms(at2.p99), "target < 2 ms"})
	}
	table = append(table, []string{"balance-at SQL, customer 2", fmt.Sprintf("%d rows in table", count), "51", fmt.Sprintf("%.3f ms", sqlMs), "", "EXPLAIN ANALYZE execution time, median"})
	printTable(fmt.Sprintf("History benchmark: %d clients per measurement, %s each, gRPC, one PostgreSQL (fsync on)", 1, f.duration),
		[]string{"workload", "data", "ops", "p50", "p99", "note"}, table)
	for _, r := range append(pages, at1, at2, fresh, stale) {
		// A call cut by the end of a measurement is not a failure.
		if r.firstError != nil && status.Code(r.firstError) != codes.DeadlineExceeded {
			fmt.Printf("  first error: %v (%d errors)\n", r.firstError, r.errors)
		}
	}
	return nil
}

// projectionBatchMean reads the history process's metrics: the mean number
// of entries per projection transaction (0 when unknown).
func projectionBatchMean(ctx context.Context, s *stack) float64 {
	for _, p := range s.Procs() {
		if p.Name != "history" {
			continue
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.AdminAddr+"/metrics", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var sum, count float64
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "history_projection_batch_entries_sum "); ok {
				sum, _ = strconv.ParseFloat(v, 64)
			}
			if v, ok := strings.CutPrefix(line, "history_projection_batch_entries_count "); ok {
				count, _ = strconv.ParseFloat(v, 64)
			}
		}
		if count > 0 {
			return sum / count
		}
	}
	return 0
}

// postHistoryBacklog posts n entries for customer 1 in batches of 1000 from
// four callers, and returns the entry with the highest id.
func postHistoryBacklog(ctx context.Context, ledger ledgerv1.LedgerServiceClient, n int) (*ledgerv1.Entry, error) {
	var next atomic.Int64
	var last atomic.Pointer[ledgerv1.Entry]
	run := time.Now().UnixNano()
	res := closedLoop(ctx, 4, time.Hour, func(ctx context.Context, w, i int) error {
		start := int(next.Add(1000)) - 1000
		if start >= n {
			return errSeedDone
		}
		req := &ledgerv1.BatchPostEntriesRequest{IdempotencyKey: fmt.Sprintf("hbench-%d-%d-%d", run, w, i)}
		for j := start; j < min(start+1000, n); j++ {
			kind, amount := "PAYMENT", fmt.Sprintf("%d.%02d", 1+rand.IntN(100), rand.IntN(100))
			if j%3 == 0 {
				kind = "ORDER"
			}
			req.Postings = append(req.Postings, &ledgerv1.Posting{CustomerId: 1, Currency: "USD", WebsiteId: int32(j % 2), Kind: kind, Amount: amount})
		}
		resp, err := ledger.BatchPostEntries(ctx, req)
		if err != nil {
			return err
		}
		for _, e := range resp.GetEntries() {
			for {
				cur := last.Load()
				if cur != nil && cur.GetEntryId() >= e.GetEntryId() || last.CompareAndSwap(cur, e) {
					break
				}
			}
		}
		return nil
	}, stopOn(errSeedDone))
	if res.errors > 0 {
		return nil, fmt.Errorf("post backlog: %d errors, first: %w", res.errors, res.firstError)
	}
	return last.Load(), nil
}

// awaitHistory waits until the history has applied e, with the read option
// that waits for an entry (30 s at most per call).
func awaitHistory(ctx context.Context, hist historyv1.HistoryServiceClient, e *ledgerv1.Entry) error {
	for deadline := time.Now().Add(10 * time.Minute); ; {
		_, err := hist.ListHistory(ctx, &historyv1.ListHistoryRequest{CustomerId: e.GetCustomerId(), PageSize: 1,
			Consistency: &historyv1.ReadConsistency{MinEntryId: e.GetEntryId(), MaxWait: durationpb.New(30 * time.Second)}})
		if status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
			return err
		}
	}
}

// pageThrough reads every page of the customer's history and returns the
// token of each page ("" for the first), the number of rows and the time
// of the oldest.
func pageThrough(ctx context.Context, hist historyv1.HistoryServiceClient, customer, size int32) (tokens []string, rows int, oldest time.Time, err error) {
	tokens = []string{""}
	for token := ""; ; {
		resp, err := hist.ListHistory(ctx, &historyv1.ListHistoryRequest{CustomerId: customer, PageSize: size, PageToken: token})
		if err != nil {
			return nil, 0, oldest, err
		}
		rows += len(resp.GetEntries())
		if n := len(resp.GetEntries()); n > 0 {
			oldest = resp.GetEntries()[n-1].GetUpdateTime().AsTime()
		}
		if token = resp.GetNextPageToken(); token == "" {
			return tokens, rows, oldest, nil
		}
		tokens = append(tokens, token)
	}
}

// loadedFrom is where the SQL-loaded rows start, one a second.
var loadedFrom = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// loadHistoryRows inserts n history rows for customer 2 of the tenant over
// four balances (USD and EUR, websites 0 and 1), with running balances, ids
// far above the ledger's, then vacuums so that the balance lookups are
// index-only as they are on a settled table.
func loadHistoryRows(ctx context.Context, dbURL, tenant string, n int) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	const base = int64(1) << 50
	if _, err := conn.Exec(ctx, `
		INSERT INTO history.balances (tenant_id, balance_id, customer_id, currency, website_id)
		SELECT $1, $2::bigint + k, 2, CASE WHEN k < 2 THEN 'USD' ELSE 'EUR' END, k % 2 FROM generate_series(0, 3) k`, tenant, base); err != nil {
		return fmt.Errorf("load balances: %w", err)
	}
	if _, err := conn.Exec(ctx, `
		INSERT INTO history.entries (tenant_id, history_id, balance_id, customer_id, currency, website_id, kind, action,
			balance_delta, balance_amount, additional_info, customer_notified, updated_at)
		SELECT $1, $2::bigint + g, $2::bigint + g % 4, 2, CASE WHEN g % 4 < 2 THEN 'USD' ELSE 'EUR' END, g % 2, 'ADJUSTMENT', 0,
			d, sum(d) OVER (PARTITION BY g % 4 ORDER BY g), 'loaded', false, $3::timestamptz + g * interval '1 second'
		FROM (SELECT g, round((random() * 200 - 100)::numeric, 2) AS d FROM generate_series(0, $4::int - 1) g) s`,
		tenant, base, loadedFrom, n); err != nil {
		return fmt.Errorf("load rows: %w", err)
	}
	for _, stmt := range []string{`VACUUM ANALYZE history.entries`, `ANALYZE history.balances`} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

func historyRowCount(ctx context.Context, dbURL string) (int64, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int64
	err = conn.QueryRow(ctx, `SELECT count(*) FROM history.entries`).Scan(&n)
	return n, err
}

// explainBalanceAt runs the history service's balance-at query for
// customer 2 under EXPLAIN ANALYZE at random instants and returns the median
// of PostgreSQL's execution times (the first runs of a connection load
// catalog caches; the median is the settled figure).
func explainBalanceAt(ctx context.Context, dbURL, tenant string, span time.Duration) (float64, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var times []float64
	for range 51 {
		at := loadedFrom.Add(time.Duration(rand.Int64N(int64(span) + 1)))
		var plan []map[string]any
		err = conn.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON)
			SELECT b.balance_id, b.currency, b.website_id, l.balance_amount, l.history_id
			FROM history.balances b
			CROSS JOIN LATERAL (
				SELECT e.balance_amount, e.history_id FROM history.entries e
				WHERE e.tenant_id = b.tenant_id AND e.balance_id = b.balance_id AND e.updated_at <= $3
				ORDER BY e.updated_at DESC, e.history_id DESC LIMIT 1) l
			WHERE b.tenant_id = $1 AND b.customer_id = $2
			ORDER BY b.currency, b.website_id`, tenant, 2, at).Scan(&plan)
		if err != nil {
			return 0, fmt.Errorf("explain: %w", err)
		}
		if len(plan) == 0 {
			return 0, errUnexpected
		}
		ms, _ := plan[0]["Execution Time"].(float64)
		times = append(times, ms)
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}
