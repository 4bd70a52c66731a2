package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/abacus-ledger/abacus/services/platform/config"
)

// runChaos is `abacusdev chaos [flags]` (`make chaos`): clients post through
// the gateway with idempotency keys and retry every failure with the same
// key and body, while the ledger is killed with SIGKILL and PostgreSQL is
// stopped in immediate mode (a crash: crash recovery on the next start),
// each several times and restarted. Then it checks, with SQL on the ledger
// and history schemas and through the API, that every acknowledged posting
// exists exactly once as the client was told, that no key has more entries
// than its request had postings, that every balance and chain holds, and
// that the history equals the ledger. It fails when anything is lost,
// duplicated or broken; recovery times are printed, never judged.
func runChaos(ctx context.Context, args []string) error {
	o, err := parseChaosFlags(args)
	if err != nil {
		return err
	}
	env, stop, err := startBenchEnv(ctx, o.binDir)
	if err != nil {
		return err
	}
	defer stop()
	if env.stack.pg == nil {
		return errors.New("chaos crashes its own PostgreSQL: unset DATABASE_URL")
	}
	say("creating %d customers", o.customers)
	targets, err := env.createCustomers(ctx, o.customers, 4)
	if err != nil {
		return err
	}
	c := newChaosRun(env, o, targets)
	if err := c.run(ctx); err != nil {
		return err
	}
	say("load stopped; waiting for the history to catch up")
	report, err := c.verify(ctx)
	if err != nil {
		return err
	}
	c.printSummary(report)
	if report.failed() {
		c.keepEvidence()
		return fmt.Errorf("chaos: %d lost, %d duplicated, %d failed checks", report.lost, report.duplicated, report.failedChecks())
	}
	return nil
}

const chaosSynopsis = `usage: abacusdev chaos [flags]
  start the system on a throwaway PostgreSQL, post through the gateway while
  killing the ledger and crashing PostgreSQL, then check that no acknowledged
  posting was lost or doubled (make chaos; CHAOS_FLAGS=-short is CI's form)`

type chaosOptions struct {
	binDir                                 string
	duration, interval, down, giveUp, tout time.Duration
	clients, kills, customers              int
	batchShare                             float64
}

func parseChaosFlags(args []string) (chaosOptions, error) {
	var o chaosOptions
	var short bool
	fs := flag.NewFlagSet("abacusdev chaos", flag.ContinueOnError)
	fs.StringVar(&o.binDir, "bin", "bin", "directory holding the binaries")
	fs.DurationVar(&o.duration, "duration", time.Minute, "how long the clients start new postings")
	fs.IntVar(&o.clients, "clients", 8, "concurrent clients")
	fs.IntVar(&o.kills, "kills", 6, "faults, alternating: the ledger killed with SIGKILL, PostgreSQL stopped in immediate mode")
	fs.DurationVar(&o.interval, "interval", 0, "time between faults (0: the duration spread evenly)")
	fs.DurationVar(&o.down, "down", time.Second, "how long a killed process stays down before its restart")
	fs.IntVar(&o.customers, "customers", 20, "customers the postings spread over (2 currencies and 2 websites each)")
	fs.Float64Var(&o.batchShare, "batch-share", 0.2, "share of requests sent as batches of 2 to 4 postings (POST /v1/entries:batchPost)")
	fs.DurationVar(&o.giveUp, "give-up", time.Minute, "how long a client retries one request before it leaves it unacknowledged")
	fs.DurationVar(&o.tout, "timeout", 10*time.Second, "bound of one HTTP attempt")
	fs.BoolVar(&short, "short", false, "the CI form: -duration 20s -kills 2, unless given")
	if err := parseFlags(fs, args, chaosSynopsis); err != nil {
		return o, err
	}
	if short {
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if !given["duration"] {
			o.duration = 20 * time.Second
		}
		if !given["kills"] {
			o.kills = 2
		}
	}
	if o.clients < 1 || o.customers < 1 || o.kills < 0 || o.duration <= 0 {
		return o, config.Usagef("chaos: -clients and -customers must be at least 1, -kills at least 0, -duration positive")
	}
	if o.interval == 0 {
		o.interval = o.duration / time.Duration(o.kills+1)
	}
	return o, nil
}

// chaosRequest is one request a client sends, with its idempotency key,
// until it is acknowledged: the client's log of what it was told.
type chaosRequest struct {
	key, path string
	body      []byte
	postings  []chaosPosting
	attempts  int
	acked     bool
	replayed  bool
	// refused is a definitive answer other than success (400, 409, or a
	// 200 that does not answer the request).
	refused string
}

// chaosPosting is one posting of a request. Its comment is unique in the
// run, so that the database can be searched for it whatever its key.
type chaosPosting struct {
	Customer int32  `json:"customer_id"`
	Currency string `json:"currency"`
	Website  int32  `json:"website_id"`
	Kind     string `json:"kind"`
	Amount   string `json:"amount"`
	Comment  string `json:"comment"`
	delta    string
	// What the acknowledgement said.
	entryID      int64
	balanceAfter string
}

// chaosFault is one injected fault and what followed it.
type chaosFault struct {
	what           string
	n              int
	at, restartAt  time.Time
	ready          time.Duration // restart until serving again
	firstSuccess   time.Time     // the first acknowledgement after the restart
	lastFailure    time.Time     // the last failed attempt before the next fault
	failures       int           // failed attempts from this fault to the next
	readyNote, err string
}

type chaosRun struct {
	env     *benchEnv
	o       chaosOptions
	targets customerBenchTargets
	http    *http.Client
	auth    string
	runID   string
	start   time.Time
	loadEnd time.Time

	logs                                   [][]*chaosRequest // per client
	attempted, acked, retries, retryingNow atomic.Int64

	mu       sync.Mutex // guards what follows
	faults   []*chaosFault
	failures map[string]*chaosFailure
	exits    []string // processes that exited without being killed

	procMu sync.Mutex // held while a process is killed, restarted or checked
}

// chaosFailure counts failed attempts of one kind.
type chaosFailure struct {
	n     int
	first string
}

func newChaosRun(env *benchEnv, o chaosOptions, targets customerBenchTargets) *chaosRun {
	return &chaosRun{
		env: env, o: o, targets: targets,
		http:     &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.clients * 2}},
		auth:     "Basic " + basic(env.demo.Magento.APIUser, env.demo.Magento.APIKey),
		runID:    randomHex(4),
		logs:     make([][]*chaosRequest, o.clients),
		failures: map[string]*chaosFailure{},
	}
}

// run starts the clients, the faults, the watch over the other processes
// and the progress lines, and returns once every client has its last
// request answered (or given up) and every fault has been undone.
func (c *chaosRun) run(ctx context.Context) error {
	c.start = time.Now()
	c.loadEnd = c.start.Add(c.o.duration)
	say("chaos: %d clients for %s through %s; %d faults, one every %s, each down %s",
		c.o.clients, c.o.duration, c.env.stack.gateway, c.o.kills, c.o.interval.Round(100*time.Millisecond), c.o.down)
	var clients sync.WaitGroup
	for w := range c.o.clients {
		clients.Go(func() { c.client(ctx, w) })
	}
	done := make(chan struct{})
	var side sync.WaitGroup
	side.Go(func() { c.watchProcesses(done) })
	side.Go(func() { c.progress(done) })
	faultErr := make(chan error, 1)
	go func() { faultErr <- c.injectFaults(ctx) }()
	clients.Wait()
	err := <-faultErr
	close(done)
	side.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// client posts one request after the other until the load ends; each is
// retried with the same key and body until it is answered.
func (c *chaosRun) client(ctx context.Context, w int) {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	for i := 0; ctx.Err() == nil && time.Now().Before(c.loadEnd); i++ {
		r := c.newRequest(rng, w, i)
		c.logs[w] = append(c.logs[w], r)
		c.attempted.Add(1)
		c.send(ctx, r)
	}
}

func (c *chaosRun) newRequest(rng *rand.Rand, w, i int) *chaosRequest {
	r := &chaosRequest{key: fmt.Sprintf("chaos-%s-c%d-%d", c.runID, w, i)}
	n := 1
	if rng.Float64() < c.o.batchShare {
		n = 2 + rng.IntN(3)
	}
	for j := range n {
		p := chaosPosting{
			Customer: c.targets[rng.IntN(len(c.targets))].id,
			Currency: []string{"USD", "EUR"}[rng.IntN(2)],
			Website:  int32(rng.IntN(2)),
			Amount:   fmt.Sprintf("%d.%02d", 1+rng.IntN(99), rng.IntN(100)),
			Comment:  fmt.Sprintf("%s/%d", r.key, j),
		}
		switch rng.IntN(3) {
		case 0:
			p.Kind, p.delta = "PAYMENT", p.Amount
		case 1:
			p.Kind, p.delta = "ORDER", "-"+p.Amount
		default:
			if rng.IntN(2) == 0 {
				p.Amount = "-" + p.Amount
			}
			p.Kind, p.delta = "ADJUSTMENT", p.Amount
		}
		r.postings = append(r.postings, p)
	}
	if n == 1 {
		p := r.postings[0]
		r.path = fmt.Sprintf("/v1/customers/%d/entries", p.Customer)
		p.Customer = 0 // from the path
		r.body, _ = json.Marshal(struct {
			chaosPosting
			Customer int32 `json:"customer_id,omitempty"`
		}{chaosPosting: p})
	} else {
		r.path = "/v1/entries:batchPost"
		r.body, _ = json.Marshal(map[string]any{"postings": r.postings})
	}
	return r
}

// send retries r, with the same key and body, until it is acknowledged or
// refused, or -give-up has passed since its first attempt.
func (c *chaosRun) send(ctx context.Context, r *chaosRequest) {
	first := time.Now()
	pause := 50 * time.Millisecond
	for {
		r.attempts++
		if r.attempts == 2 {
			c.retryingNow.Add(1)
			defer c.retryingNow.Add(-1)
		}
		if r.attempts > 1 {
			c.retries.Add(1)
		}
		if c.attempt(ctx, r) || time.Since(first) > c.o.giveUp {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause/2 + rand.N(pause)):
		}
		pause = min(2*pause, time.Second)
	}
}

// chaosAnswer is a posting's or a batch's answer (int64s are JSON strings).
type chaosAnswer struct {
	Entry   *chaosEntry  `json:"entry"`
	Entries []chaosEntry `json:"entries"`
	Replay  bool         `json:"replayed"`
}

type chaosEntry struct {
	EntryID      int64  `json:"entry_id,string"`
	BalanceAfter string `json:"balance_after"`
	Key          string `json:"idempotency_key"`
	Comment      string `json:"comment"`
}

// attempt sends r once and reports whether it is settled: acknowledged or
// refused for good.
func (c *chaosRun) attempt(ctx context.Context, r *chaosRequest) (settled bool) {
	actx, cancel := context.WithTimeout(ctx, c.o.tout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.env.stack.gateway+r.path, bytes.NewReader(r.body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", r.key)
	resp, err := c.http.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	switch {
	case err != nil:
		c.failed(errorClass(err), err.Error())
		return false
	case resp.StatusCode == http.StatusOK:
		var a chaosAnswer
		if err := json.Unmarshal(body, &a); err != nil {
			r.refused = fmt.Sprintf("200 that does not parse: %v: %.200s", err, body)
			return true
		}
		if a.Entry != nil {
			a.Entries = append(a.Entries, *a.Entry)
		}
		if len(a.Entries) != len(r.postings) {
			r.refused = fmt.Sprintf("200 with %d entries for %d postings: %.200s", len(a.Entries), len(r.postings), body)
			return true
		}
		for i, e := range a.Entries {
			if e.Key != r.key || e.Comment != r.postings[i].Comment {
				r.refused = fmt.Sprintf("200 answering another posting (key %q, comment %q)", e.Key, e.Comment)
				return true
			}
			r.postings[i].entryID, r.postings[i].balanceAfter = e.EntryID, e.BalanceAfter
		}
		r.acked, r.replayed = true, a.Replay
		c.acked.Add(1)
		c.acknowledged(time.Now())
		return true
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusConflict:
		r.refused = fmt.Sprintf("HTTP %d %.300s", resp.StatusCode, body)
		c.failed(fmt.Sprintf("HTTP %d", resp.StatusCode), string(body))
		return true
	default:
		var st struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		class := fmt.Sprintf("HTTP %d", resp.StatusCode)
		if json.Unmarshal(body, &st) == nil && st.Code != 0 {
			if r := []rune(st.Message); len(r) > 110 {
				st.Message = string(r[:110]) + "…"
			}
			class += fmt.Sprintf(" code %d: %s", st.Code, st.Message)
		}
		c.failed(class, string(body))
		return false
	}
}

// errorClass names a transport error for the summary.
func errorClass(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection reset"
	default:
		return "transport error"
	}
}

func (c *chaosRun) failed(class, detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.failures[class]
	if f == nil {
		f = &chaosFailure{first: strings.TrimSpace(detail)}
		c.failures[class] = f
	}
	f.n++
	if n := len(c.faults); n > 0 {
		c.faults[n-1].failures++
		c.faults[n-1].lastFailure = time.Now()
	}
}

// acknowledged records an acknowledgement: the first after a restart is
// that fault's recovery time.
func (c *chaosRun) acknowledged(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.faults {
		if !f.restartAt.IsZero() && f.firstSuccess.IsZero() && !at.Before(f.restartAt) {
			f.firstSuccess = at
		}
	}
}

// injectFaults kills the ledger and crashes PostgreSQL in turn, one fault
// per interval while the load runs. A fault waits (30 s at most) for the
// previous one's first success, so that each recovery is measured alone.
func (c *chaosRun) injectFaults(ctx context.Context) error {
	for i := range c.o.kills {
		due := c.start.Add(time.Duration(i+1) * c.o.interval)
		for wait := due.Add(30 * time.Second); time.Now().Before(c.loadEnd) &&
			(time.Now().Before(due) || (c.recovering() && time.Now().Before(wait))); {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		if time.Now().After(c.loadEnd) {
			say("fault %d of %d would come after the load: not injected", i+1, c.o.kills)
			continue
		}
		f := &chaosFault{n: i/2 + 1}
		var err error
		if i%2 == 0 {
			f.what = "ledger kill -9"
			err = c.killLedger(ctx, f)
		} else {
			f.what = "PostgreSQL immediate stop"
			err = c.crashPostgres(ctx, f)
		}
		if err != nil {
			return fmt.Errorf("%s #%d: %w", f.what, f.n, err)
		}
	}
	return nil
}

// recovering reports whether the last fault has had no success since its
// restart.
func (c *chaosRun) recovering() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.faults) > 0 && c.faults[len(c.faults)-1].firstSuccess.IsZero()
}

func (c *chaosRun) addFault(f *chaosFault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.at = time.Now()
	c.faults = append(c.faults, f)
}

func (c *chaosRun) markRestart(f *chaosFault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.restartAt = time.Now()
}

// killLedger sends SIGKILL to the ledger, waits -down, starts it again and
// measures until its health check answers SERVING.
func (c *chaosRun) killLedger(ctx context.Context, f *chaosFault) error {
	c.procMu.Lock()
	defer c.procMu.Unlock()
	p := c.env.stack.Proc("ledger")
	c.addFault(f)
	p.Kill()
	say("%5.1f s  %s #%d (pid %d)", c.since(f.at), f.what, f.n, p.Pid())
	time.Sleep(c.o.down)
	c.markRestart(f)
	if err := p.Launch(); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.WaitReady(wctx); err != nil {
		f.err = err.Error()
	}
	f.ready, f.readyNote = time.Since(f.restartAt), "SERVING"
	say("%5.1f s  ledger restarted (pid %d), SERVING after %.2f s", c.since(time.Now()), p.Pid(), f.ready.Seconds())
	return nil
}

// crashPostgres stops PostgreSQL in immediate mode, waits -down and starts
// it again on the same data directory and port (crash recovery).
func (c *chaosRun) crashPostgres(ctx context.Context, f *chaosFault) error {
	pg := c.env.stack.pg
	c.addFault(f)
	if err := pg.Crash(ctx); err != nil {
		return err
	}
	say("%5.1f s  %s #%d", c.since(f.at), f.what, f.n)
	time.Sleep(c.o.down)
	c.markRestart(f)
	if err := pg.Restart(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	f.ready, f.readyNote = time.Since(f.restartAt), "pg_ctl start -w returned"
	say("%5.1f s  PostgreSQL restarted, pg_ctl start -w returned after %.2f s", c.since(time.Now()), f.ready.Seconds())
	return nil
}

// watchProcesses notices a process that exits without being killed (for
// example on losing its database), reports it and starts it again, as a
// supervisor would.
func (c *chaosRun) watchProcesses(done <-chan struct{}) {
	every(200*time.Millisecond, done, func() {
		c.procMu.Lock()
		defer c.procMu.Unlock()
		for _, p := range c.env.stack.Procs() {
			select {
			case err := <-p.Exited():
				note := fmt.Sprintf("%s exited on its own at %.1f s (%v; see %s)", p.Name, c.since(time.Now()), err, p.LogPath)
				if rerr := p.Launch(); rerr != nil {
					note += fmt.Sprintf("; restart failed: %v", rerr)
				}
				say("%s; restarted", note)
				c.mu.Lock()
				c.exits = append(c.exits, note)
				c.mu.Unlock()
			default:
			}
		}
	})
}

// progress prints a line every three seconds while the load runs.
func (c *chaosRun) progress(done <-chan struct{}) {
	var last int64
	every(3*time.Second, done, func() {
		acked := c.acked.Load()
		say("%5.1f s  %d attempted, %d acknowledged (%.0f/s), %d retries, %d clients retrying now",
			c.since(time.Now()), c.attempted.Load(), acked, float64(acked-last)/3, c.retries.Load(), c.retryingNow.Load())
		last = acked
	})
}

// every calls fn every d until done is closed.
func every(d time.Duration, done <-chan struct{}, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			fn()
		}
	}
}

func (c *chaosRun) since(t time.Time) float64 { return t.Sub(c.start).Seconds() }

// chaosReport is what verify found.
type chaosReport struct {
	requests, postings, acked, replayed, retries, unacked, refused int
	lost, duplicated                                               int
	unackedWritten                                                 int
	historyWait                                                    time.Duration
	checks                                                         []chaosCheck
}

type chaosCheck struct {
	name    string
	bad     int64
	samples []string
}

func (r chaosReport) failedChecks() int {
	n := 0
	for _, c := range r.checks {
		if c.bad > 0 {
			n++
		}
	}
	return n
}

func (r chaosReport) failed() bool { return r.lost > 0 || r.duplicated > 0 || r.failedChecks() > 0 }

// verify waits for the history to catch up, then checks the database and
// the API against the clients' logs and the ledger's invariants.
func (c *chaosRun) verify(ctx context.Context) (chaosReport, error) {
	var rep chaosReport
	for _, log := range c.logs {
		for _, r := range log {
			rep.requests++
			rep.postings += len(r.postings)
			rep.retries += r.attempts - 1
			switch {
			case r.acked:
				rep.acked++
				if r.replayed {
					rep.replayed++
				}
			case r.refused != "":
				rep.refused++
			default:
				rep.unacked++
			}
		}
	}
	conn, err := pgx.Connect(ctx, c.env.stack.dbURL)
	if err != nil {
		return rep, err
	}
	defer conn.Close(context.Background())
	tenant := c.env.demo.Tenant

	var ledgerRows, historyRows int64
	waitStart := time.Now()
	for {
		err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM ledger.entries WHERE tenant_id = $1),
			(SELECT count(*) FROM history.entries WHERE tenant_id = $1)`, tenant).Scan(&ledgerRows, &historyRows)
		if err != nil {
			return rep, err
		}
		if historyRows >= ledgerRows || time.Since(waitStart) > 2*time.Minute {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	rep.historyWait = time.Since(waitStart)
	say("history has %d rows, the ledger %d entries (waited %.1f s)", historyRows, ledgerRows, rep.historyWait.Seconds())

	if err := c.loadSent(ctx, conn); err != nil {
		return rep, err
	}
	type query struct {
		name, sql string
		out       *int // also the headline figure
	}
	// Each query returns the rows that break its rule, as one text each;
	// a posting is matched to its entries by key and unique comment.
	queries := []query{
		{"every acknowledged posting exists", `
			SELECT DISTINCT s.key FROM chaos_sent s
			WHERE s.acked AND NOT EXISTS (SELECT 1 FROM ledger.entries e
				WHERE e.tenant_id = $1 AND e.idempotency_key = s.key AND e.comment = s.comment)`, &rep.lost},
		{"no posting was written twice", `
			SELECT key || ': a posting written ' || max(n) || ' times' FROM (
				SELECT s.key, count(*) AS n FROM chaos_sent s
				JOIN ledger.entries e ON e.tenant_id = $1 AND e.idempotency_key = s.key AND e.comment = s.comment
				GROUP BY s.key, s.comment HAVING count(*) > 1) x
			GROUP BY key`, &rep.duplicated},
		{"acknowledged postings are as the client was told (entry id, balance after, amounts)", `
			SELECT s.key || ': told entry ' || s.entry_id || ' balance after ' || s.balance_after ||
			       ', database has entry ' || e.entry_id || ' balance after ' || e.balance_after
			FROM chaos_sent s
			JOIN ledger.entries e ON e.tenant_id = $1 AND e.idempotency_key = s.key AND e.comment = s.comment
			WHERE s.acked AND (e.entry_id <> s.entry_id OR e.balance_after <> s.balance_after::numeric
				OR e.delta <> s.delta::numeric OR e.customer_id <> s.customer_id OR e.currency <> s.currency
				OR e.website_id <> s.website_id)`, nil},
		{"no key has more entries than its request had postings", `
			SELECT e.idempotency_key || ': ' || count(*) || ' entries' FROM ledger.entries e
			WHERE e.tenant_id = $1 GROUP BY e.idempotency_key
			HAVING count(*) > (SELECT count(*) FROM chaos_sent s WHERE s.key = e.idempotency_key)`, nil},
		{"every entry is a posting a client sent", `
			SELECT 'entry ' || e.entry_id || ' key ' || e.idempotency_key FROM ledger.entries e
			WHERE e.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM chaos_sent s
				WHERE s.key = e.idempotency_key AND s.comment = e.comment)`, nil},
		{"a batch is written whole or not at all", `
			SELECT key || ': ' || written || ' of ' || sent FROM (
				SELECT s.key, count(*) AS sent, count(e.entry_id) AS written FROM chaos_sent s
				LEFT JOIN ledger.entries e ON e.tenant_id = $1 AND e.idempotency_key = s.key AND e.comment = s.comment
				GROUP BY s.key) x
			WHERE written NOT IN (0, sent)`, nil},
		{"each key's idempotency record names exactly its entries", `
			SELECT coalesce(k.key, e.key) || ': record ' || coalesce(k.entry_ids::text, 'missing') ||
			       ', entries ' || coalesce(e.ids::text, 'none')
			FROM (SELECT key, entry_ids FROM ledger.idempotency_keys WHERE tenant_id = $1) k
			FULL JOIN (SELECT idempotency_key AS key, array_agg(entry_id ORDER BY entry_id) AS ids
			           FROM ledger.entries WHERE tenant_id = $1 GROUP BY 1) e ON e.key = k.key
			WHERE k.entry_ids IS DISTINCT FROM e.ids`, nil},
		{"balance = Σ delta and last_entry_id = its newest entry, per balance", `
			SELECT 'balance ' || b.balance_id || ': ' || b.balance || ' vs Σ ' || coalesce(e.s, 0)
			FROM ledger.balances b
			LEFT JOIN (SELECT balance_id, sum(delta) AS s, max(entry_id) AS m FROM ledger.entries
			           WHERE tenant_id = $1 GROUP BY 1) e ON e.balance_id = b.balance_id
			WHERE b.tenant_id = $1 AND (b.balance <> coalesce(e.s, 0) OR b.last_entry_id IS DISTINCT FROM e.m)`, nil},
		{"chains: balance_after = previous + delta; stream position and post time rise with entry id", `
			SELECT 'entry ' || entry_id || ' of balance ' || balance_id FROM (
				SELECT entry_id, balance_id, balance_after, delta, stream_seq, post_time,
				       lag(balance_after, 1, 0) OVER w AS prev, lag(stream_seq) OVER w AS prev_seq,
				       lag(post_time) OVER w AS prev_time
				FROM ledger.entries WHERE tenant_id = $1
				WINDOW w AS (PARTITION BY balance_id ORDER BY entry_id)) x
			WHERE balance_after <> prev + delta OR stream_seq < prev_seq OR post_time < prev_time`, nil},
		{"stream positions run 1..n without gaps, and the counter is n", `
			SELECT 'entries ' || n || ', positions ' || lo || '..' || hi || ', distinct ' || d || ', counter ' || coalesce(c, -1)
			FROM (SELECT count(*) AS n, min(stream_seq) AS lo, max(stream_seq) AS hi, count(DISTINCT stream_seq) AS d
			      FROM ledger.entries WHERE tenant_id = $1) e
			LEFT JOIN (SELECT last_seq AS c FROM ledger.streams WHERE tenant_id = $1) s ON true
			WHERE n > 0 AND (lo <> 1 OR hi <> n OR d <> n OR c IS DISTINCT FROM n)`, nil},
		{"history = ledger, row for row (ids, amounts, balance after, times)", `
			SELECT 'entry ' || coalesce(l.entry_id, h.history_id) ||
			       CASE WHEN h.history_id IS NULL THEN ' missing from history'
			            WHEN l.entry_id IS NULL THEN ' only in history' ELSE ' differs' END
			FROM (SELECT * FROM ledger.entries WHERE tenant_id = $1) l
			FULL JOIN (SELECT * FROM history.entries WHERE tenant_id = $1) h ON h.history_id = l.entry_id
			WHERE h.history_id IS NULL OR l.entry_id IS NULL
			   OR (h.balance_id, h.customer_id, h.currency, h.website_id, h.kind, h.action, h.balance_delta,
			       h.balance_amount, h.additional_info, h.customer_notified, h.updated_at)
			   IS DISTINCT FROM (l.balance_id, l.customer_id, l.currency, l.website_id, l.kind, l.action, l.delta,
			       l.balance_after, l.comment, l.notify_customer, l.post_time)`, nil},
		{"history balances = ledger balances with entries", `
			SELECT 'balance ' || coalesce(l.balance_id, h.balance_id) FROM
			(SELECT * FROM ledger.balances WHERE tenant_id = $1 AND last_entry_id IS NOT NULL) l
			FULL JOIN (SELECT * FROM history.balances WHERE tenant_id = $1) h ON h.balance_id = l.balance_id
			WHERE (h.customer_id, h.currency, h.website_id) IS DISTINCT FROM (l.customer_id, l.currency, l.website_id)`, nil},
	}
	for _, q := range queries {
		ck, err := chaosQuery(ctx, conn, q.name, q.sql, tenant)
		if err != nil {
			return rep, fmt.Errorf("check %q: %w", q.name, err)
		}
		if q.out != nil {
			*q.out = int(ck.bad)
		}
		rep.checks = append(rep.checks, ck)
	}
	if err := conn.QueryRow(ctx, `SELECT count(DISTINCT s.key) FROM chaos_sent s
		JOIN ledger.entries e ON e.tenant_id = $1 AND e.idempotency_key = s.key AND e.comment = s.comment
		WHERE NOT s.acked`, tenant).Scan(&rep.unackedWritten); err != nil {
		return rep, err
	}
	ck, err := c.checkAPIBalances(ctx, conn)
	if err != nil {
		return rep, err
	}
	rep.checks = append(rep.checks, ck)
	for _, r := range c.allRequests() {
		if r.refused != "" {
			rep.checks = append(rep.checks, chaosCheck{name: "no valid request is refused", bad: int64(rep.refused), samples: []string{r.key + ": " + r.refused}})
			break
		}
	}
	return rep, nil
}

func (c *chaosRun) allRequests() []*chaosRequest {
	var out []*chaosRequest
	for _, log := range c.logs {
		out = append(out, log...)
	}
	return out
}

// chaosQuery runs a check's query and keeps the count and a few samples.
func chaosQuery(ctx context.Context, conn *pgx.Conn, name, sql string, args ...any) (chaosCheck, error) {
	ck := chaosCheck{name: name}
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return ck, err
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return ck, err
		}
		ck.bad++
		if len(ck.samples) < 5 {
			ck.samples = append(ck.samples, s)
		}
	}
	return ck, rows.Err()
}

// loadSent copies every posting the clients sent, with what the
// acknowledgement said, into the temporary table chaos_sent.
func (c *chaosRun) loadSent(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE chaos_sent (
		key text NOT NULL, comment text NOT NULL, customer_id int NOT NULL, currency text NOT NULL,
		website_id int NOT NULL, delta text NOT NULL, acked bool NOT NULL, entry_id bigint, balance_after text)`); err != nil {
		return err
	}
	var rows [][]any
	for _, r := range c.allRequests() {
		for _, p := range r.postings {
			var id, after any
			if r.acked {
				id, after = p.entryID, p.balanceAfter
			}
			rows = append(rows, []any{r.key, p.Comment, p.Customer, p.Currency, p.Website, p.delta, r.acked, id, after})
		}
	}
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"chaos_sent"},
		[]string{"key", "comment", "customer_id", "currency", "website_id", "delta", "acked", "entry_id", "balance_after"},
		pgx.CopyFromRows(rows))
	if err == nil {
		_, err = conn.Exec(ctx, `CREATE INDEX ON chaos_sent (key, comment); ANALYZE chaos_sent`)
	}
	return err
}

// checkAPIBalances reads the balances of up to 20 customers through the
// gateway and compares them with the database.
func (c *chaosRun) checkAPIBalances(ctx context.Context, conn *pgx.Conn) (chaosCheck, error) {
	ids := make([]int32, 0, 20)
	for _, t := range c.targets[:min(20, len(c.targets))] {
		ids = append(ids, t.id)
	}
	ck := chaosCheck{name: fmt.Sprintf("API balances = database (%d customers through GET /v1/customers/{id}/balances)", len(ids))}
	var got [][]any
	for _, id := range ids {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v1/customers/%d/balances", c.env.stack.gateway, id), nil)
		req.Header.Set("Authorization", c.auth)
		resp, err := c.http.Do(req)
		if err != nil {
			return ck, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return ck, err
		}
		var a struct {
			Balances []struct {
				BalanceID   int64  `json:"balance_id,string"`
				CustomerID  int32  `json:"customer_id"`
				Currency    string `json:"currency"`
				WebsiteID   int32  `json:"website_id"`
				Balance     string `json:"balance"`
				LastEntryID int64  `json:"last_entry_id,string"`
			} `json:"balances"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &a) != nil {
			ck.bad++
			ck.samples = append(ck.samples, fmt.Sprintf("customer %d: HTTP %d %.200s", id, resp.StatusCode, body))
			continue
		}
		for _, b := range a.Balances {
			got = append(got, []any{b.BalanceID, b.CustomerID, b.Currency, b.WebsiteID, b.Balance, b.LastEntryID})
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE chaos_api (balance_id bigint, customer_id int, currency text,
		website_id int, balance text, last_entry_id bigint)`); err != nil {
		return ck, err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"chaos_api"},
		[]string{"balance_id", "customer_id", "currency", "website_id", "balance", "last_entry_id"}, pgx.CopyFromRows(got)); err != nil {
		return ck, err
	}
	db, err := chaosQuery(ctx, conn, ck.name, `
		SELECT 'balance ' || coalesce(b.balance_id, a.balance_id) || ': database ' || coalesce(b.balance::text, 'none') ||
		       ', API ' || coalesce(a.balance, 'none')
		FROM (SELECT * FROM ledger.balances WHERE tenant_id = $1 AND customer_id = ANY ($2) AND last_entry_id IS NOT NULL) b
		FULL JOIN chaos_api a ON a.balance_id = b.balance_id
		WHERE (b.customer_id, b.currency, b.website_id, b.balance, b.last_entry_id)
		      IS DISTINCT FROM (a.customer_id, a.currency, a.website_id, a.balance::numeric, a.last_entry_id)`,
		c.env.demo.Tenant, ids)
	db.bad += ck.bad
	db.samples = append(ck.samples, db.samples...)
	return db, err
}

func (c *chaosRun) printSummary(rep chaosReport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	elapsed := time.Since(c.start)
	fmt.Printf("\nChaos: %d clients posting through the gateway for %s (%.0f s with the last retries), %d customers, %d faults\n\n",
		c.o.clients, c.o.duration, elapsed.Seconds(), c.o.customers, len(c.faults))
	batches := 0
	for _, r := range c.allRequests() {
		if len(r.postings) > 1 {
			batches++
		}
	}
	fmt.Printf("  attempted               %6d requests (%d postings; %d of them batches)\n", rep.requests, rep.postings, batches)
	fmt.Printf("  acknowledged            %6d (%d of them answered replayed: true)\n", rep.acked, rep.replayed)
	fmt.Printf("  retried                 %6d attempts beyond the first\n", rep.retries)
	fmt.Printf("  lost                    %6d\n", rep.lost)
	fmt.Printf("  duplicated              %6d\n", rep.duplicated)
	fmt.Printf("  unacknowledged at end   %6d (%d of them written; the client gave up after %s)\n", rep.unacked, rep.unackedWritten, c.o.giveUp)
	fmt.Printf("  refused                 %6d\n", rep.refused)
	fmt.Printf("  invariant violations    %6d checks failed\n", rep.failedChecks())

	fmt.Printf("\nFaults (recovery is the time from the restart to the first acknowledged posting)\n")
	for _, f := range c.faults {
		line := fmt.Sprintf("  %-28s at %5.1f s: down %.1f s; %s %.2f s after restart; ", fmt.Sprintf("%s #%d", f.what, f.n),
			f.at.Sub(c.start).Seconds(), f.restartAt.Sub(f.at).Seconds(), f.readyNote, f.ready.Seconds())
		if f.firstSuccess.IsZero() {
			line += "no success after it"
		} else {
			line += fmt.Sprintf("first success %.2f s after restart", f.firstSuccess.Sub(f.restartAt).Seconds())
		}
		switch {
		case f.failures > 0 && f.lastFailure.Before(f.restartAt):
			line += fmt.Sprintf("; %d failed attempts, none after the restart", f.failures)
		case f.failures > 0:
			line += fmt.Sprintf("; %d failed attempts, the last %.2f s after restart", f.failures, f.lastFailure.Sub(f.restartAt).Seconds())
		}
		if f.err != "" {
			line += " (" + f.err + ")"
		}
		fmt.Println(line)
	}
	for _, e := range c.exits {
		fmt.Printf("  unplanned: %s\n", e)
	}

	if len(c.failures) > 0 {
		fmt.Printf("\nFailed attempts, by answer (each retried with the same key and body)\n")
		classes := make([]string, 0, len(c.failures))
		for k := range c.failures {
			classes = append(classes, k)
		}
		sort.Slice(classes, func(i, j int) bool { return c.failures[classes[i]].n > c.failures[classes[j]].n })
		for i, k := range classes {
			if i == 10 {
				fmt.Printf("  (%d more kinds)\n", len(classes)-i)
				break
			}
			f := c.failures[k]
			if strings.HasPrefix(k, "HTTP") {
				fmt.Printf("  %6d  %s\n", f.n, k)
			} else {
				fmt.Printf("  %6d  %s, first: %.120s\n", f.n, k, f.first)
			}
		}
	}

	fmt.Printf("\nChecks (SQL on the ledger and history schemas, and the API); history caught up %.1f s after the load\n", rep.historyWait.Seconds())
	for _, ck := range rep.checks {
		mark := "ok  "
		if ck.bad > 0 {
			mark = fmt.Sprintf("FAIL %d:", ck.bad)
		}
		fmt.Printf("  %s %s\n", mark, ck.name)
		for _, s := range ck.samples {
			fmt.Printf("         %s\n", s)
		}
	}
	if rep.failed() {
		fmt.Printf("\nresult: FAILED (%d lost, %d duplicated)\n", rep.lost, rep.duplicated)
	} else {
		fmt.Printf("\nresult: ok (0 lost, 0 duplicated)\n")
	}
}

// keepEvidence writes the clients' logs and copies the processes' logs to a
// directory that outlives the run, for a failure to be looked into.
func (c *chaosRun) keepEvidence() {
	dir, err := os.MkdirTemp("", "abacus-chaos-")
	if err != nil {
		return
	}
	for w, log := range c.logs {
		var b bytes.Buffer
		for _, r := range log {
			rec := map[string]any{"key": r.key, "path": r.path, "body": string(r.body), "attempts": r.attempts,
				"acked": r.acked, "replayed": r.replayed, "refused": r.refused}
			var told []map[string]any
			for _, p := range r.postings {
				told = append(told, map[string]any{"entry_id": p.entryID, "balance_after": p.balanceAfter})
			}
			rec["told"] = told
			line, _ := json.Marshal(rec)
			b.Write(append(line, '\n'))
		}
		_ = os.WriteFile(filepath.Join(dir, "client-"+strconv.Itoa(w)+".jsonl"), b.Bytes(), 0o644)
	}
	for _, p := range c.env.stack.Procs() {
		if raw, err := os.ReadFile(p.LogPath); err == nil {
			_ = os.WriteFile(filepath.Join(dir, p.Name+".log"), raw, 0o644)
		}
	}
	fmt.Printf("client logs and process logs kept in %s\n", dir)
}
