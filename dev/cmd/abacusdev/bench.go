package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/abacus-ledger/abacus/dev/devstack"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/config"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// benchmarks are the `abacusdev bench NAME` programs; each file that adds
// one registers it in an init function.
var benchmarks = map[string]func(ctx context.Context, args []string) error{}

// benchSummaries say in a line what each benchmark measures, for
// `abacusdev bench help`; a test checks that every benchmark has one.
var benchSummaries = map[string]string{
	"customer": "reading one customer: through the gateway's MANEX route, and over gRPC by id and by number",
	"history":  "keyset paging through a long balance history, balance at an instant over many rows, and how fast the projection catches up",
	"ledger":   "postings and balance reads beside pgbench on the same PostgreSQL, and every dialect's read beside a bare net/http + pgx server",
	"soap":     "each SOAP read (Exigo, Magento) beside its JSON twin, on one stack with the same clients",
}

// benchUsage is `abacusdev bench help`.
func benchUsage() string {
	var b strings.Builder
	b.WriteString(`usage: abacusdev bench [NAME] [flags]
  start the system on a throwaway PostgreSQL and measure it; with no NAME,
  every benchmark in turn (make bench; make bench BENCH=NAME for one)

benchmarks (abacusdev bench NAME -h lists its flags and their defaults):
`)
	for _, n := range benchNames() {
		fmt.Fprintf(&b, "  %-9s %s\n", n, benchSummaries[n])
	}
	fmt.Fprintf(&b, `
  %s  not a benchmark: the bare reference server the ledger benchmark
               starts as a process of its own (abacusdev bench %s -h)
`, bareServerCmd, bareServerCmd)
	return b.String()
}

// runBench is `abacusdev bench [NAME] [flags]`: with no name it runs them
// all, in name order, each with the flags given.
func runBench(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == bareServerCmd {
		return serveBare(ctx, args[1:])
	}
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Print(benchUsage())
		return flag.ErrHelp
	}
	names := benchNames()
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		names, args = args[:1], args[1:]
		if _, ok := benchmarks[names[0]]; !ok {
			return config.Usagef("unknown benchmark %q; the benchmarks are %s (abacusdev bench help)", names[0], strings.Join(benchNames(), ", "))
		}
	}
	for _, n := range names {
		if err := benchmarks[n](ctx, args); err != nil {
			return fmt.Errorf("bench %s: %w", n, err)
		}
	}
	return nil
}

func benchNames() []string {
	var out []string
	for n := range benchmarks {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// benchFlags are the flags every benchmark takes.
type benchFlags struct {
	binDir   string
	duration time.Duration
	clients  int
}

func parseBenchFlags(name string, args []string, extra func(fs *flag.FlagSet)) (benchFlags, error) {
	var f benchFlags
	fs := flag.NewFlagSet("abacusdev bench "+name, flag.ContinueOnError)
	fs.StringVar(&f.binDir, "bin", "bin", "directory holding the binaries")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "how long each measurement runs")
	fs.IntVar(&f.clients, "clients", 16, "concurrent clients")
	if extra != nil {
		extra(fs)
	}
	return f, parseFlags(fs, args, "usage: abacusdev bench "+name+" [flags]\n  "+benchSummaries[name])
}

// startBenchStack starts the whole system on a throwaway PostgreSQL cluster
// (with its durability settings on: fsync and synchronous commit are part of
// what is measured) in a temporary directory that stop removes.
func startBenchStack(ctx context.Context, binDir string) (*stack, func(), error) {
	dir, err := os.MkdirTemp("", "abacus-bench-")
	if err != nil {
		return nil, nil, err
	}
	s, err := startStack(ctx, stackOptions{binDir: binDir, dataDir: dir, host: "127.0.0.1", ports: devstack.Ports{Gateway: 18080}, pgPort: 55329, say: say,
		extraEnv: []string{"ABACUS_LOG_LEVEL=warn", "ABACUS_AUTH_FAILURE_BURST=1000000"}})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return s, func() { s.stop(); os.RemoveAll(dir) }, nil
}

// say reports a step of a benchmark or a chaos run on stderr.
func say(format string, a ...any) { fmt.Fprintf(os.Stderr, "--> "+format+"\n", a...) }

// loadResult summarises one closed-loop load run.
type loadResult struct {
	ops, errors int
	elapsed     time.Duration
	p50, p99    time.Duration
	firstError  error
	latencies   []time.Duration // every successful call's, sorted
}

func (r loadResult) perSecond() float64 { return float64(r.ops) / r.elapsed.Seconds() }

func (r loadResult) String() string {
	s := fmt.Sprintf("%8.0f/s  p50 %6.2f ms  p99 %6.2f ms  (%d ops", r.perSecond(),
		float64(r.p50.Microseconds())/1000, float64(r.p99.Microseconds())/1000, r.ops)
	if r.errors > 0 {
		s += fmt.Sprintf(", %d errors, first: %v", r.errors, r.firstError)
	}
	return s + ")"
}

// loopOption tunes closedLoop.
type loopOption func(*loopConfig)

type loopConfig struct{ done func(error) bool }

// stopOn ends a worker when op returns sentinel (not counted as an error),
// for loops that work through a fixed amount of work.
func stopOn(sentinel error) loopOption {
	return func(c *loopConfig) { c.done = func(err error) bool { return errors.Is(err, sentinel) } }
}

// closedLoop runs clients workers, each calling op back to back for d, and
// measures every call's latency. op gets the worker number and a counter.
func closedLoop(ctx context.Context, clients int, d time.Duration, op func(ctx context.Context, worker, i int) error, opts ...loopOption) loadResult {
	cfg := loopConfig{done: func(error) bool { return false }}
	for _, o := range opts {
		o(&cfg)
	}
	// Calls get ctx itself, not a deadline: a deadline would reach the
	// servers, which would then fail the last calls of a run, and those
	// would count as errors.
	end := time.Now().Add(d)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		res       loadResult
		wg        sync.WaitGroup
	)
	start := time.Now()
	for w := range clients {
		wg.Go(func() {
			var local []time.Duration
			var errs int
			var first error
			for i := 0; ctx.Err() == nil && time.Now().Before(end); i++ {
				t0 := time.Now()
				err := op(ctx, w, i)
				if err != nil && cfg.done(err) {
					break
				}
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			res.errors += errs
			if res.firstError == nil {
				res.firstError = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.ops = len(latencies)
	slices.Sort(latencies)
	res.latencies = latencies
	res.p50, res.p99 = percentiles(latencies)
	return res
}

// percentiles are the median and the 99th percentile of sorted latencies.
func percentiles(sorted []time.Duration) (p50, p99 time.Duration) {
	if n := len(sorted); n > 0 {
		return sorted[n/2], sorted[min(n-1, n*99/100)]
	}
	return 0, 0
}

// mergeLoads sums runs of one workload measured apart (ops, errors and
// time) and takes the percentiles over all of their calls.
func mergeLoads(runs []loadResult) loadResult {
	var out loadResult
	for _, r := range runs {
		out.ops += r.ops
		out.errors += r.errors
		out.elapsed += r.elapsed
		out.latencies = append(out.latencies, r.latencies...)
		if out.firstError == nil {
			out.firstError = r.firstError
		}
	}
	slices.Sort(out.latencies)
	out.p50, out.p99 = percentiles(out.latencies)
	return out
}

var errUnexpected = errors.New("unexpected answer")

// benchEnv is a started stack with a tenant (the demo tenant's credentials)
// and gRPC connections that carry the service token.
type benchEnv struct {
	stack *stack
	demo  demoFile
	conns map[string]*grpc.ClientConn // customer, ledger, history
}

// newBenchEnv creates the tenant and dials the services.
func newBenchEnv(ctx context.Context, s *stack) (*benchEnv, error) {
	e := &benchEnv{stack: s, conns: map[string]*grpc.ClientConn{}}
	for name, addr := range s.grpc {
		conn, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tenancy.DialOptions(s.token)...)...)
		if err != nil {
			e.close()
			return nil, err
		}
		e.conns[name] = conn
	}
	demo, err := createDemo(ctx, customerv1.NewTenantAdminServiceClient(e.conns["customer"]))
	if err != nil {
		e.close()
		return nil, err
	}
	e.demo = demo
	return e, nil
}

// startBenchEnv starts the stack (startBenchStack) and creates the bench
// tenant (newBenchEnv); stop undoes both.
func startBenchEnv(ctx context.Context, binDir string) (_ *benchEnv, stop func(), _ error) {
	s, stopStack, err := startBenchStack(ctx, binDir)
	if err != nil {
		return nil, nil, err
	}
	e, err := newBenchEnv(ctx, s)
	if err != nil {
		stopStack()
		return nil, nil, err
	}
	return e, func() { e.close(); stopStack() }, nil
}

// createCustomers creates n customers of the bench tenant (ids 1..n, as the
// tenant is fresh) with clients concurrent creators, and returns their ids
// and numbers.
func (e *benchEnv) createCustomers(ctx context.Context, n, clients int) (customerBenchTargets, error) {
	ctx = e.tenantCtx(ctx)
	client := customerv1.NewCustomerServiceClient(e.conns["customer"])
	out := make(customerBenchTargets, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				resp, err := client.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{Customer: &customerv1.Customer{
					Name:        fmt.Sprintf("Bench Customer %05d", i),
					Status:      customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE,
					Territory:   "NEW ENGLAND",
					Terms:       "NET 30",
					CreditLimit: "1500.50",
				}})
				if err != nil {
					errs <- fmt.Errorf("create customer %d: %w", i, err)
					return
				}
				out[i] = customerBenchTarget{id: resp.GetCustomer().GetCustomerId(), number: resp.GetCustomer().GetCustomerNumber()}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return out, ctx.Err()
}

// tenantCtx makes calls act for the bench tenant.
func (e *benchEnv) tenantCtx(ctx context.Context) context.Context {
	return tenancy.WithTenant(ctx, e.demo.Tenant)
}

func (e *benchEnv) close() {
	for _, c := range e.conns {
		c.Close()
	}
}

// printTable writes rows of columns aligned, for the benchmark summaries.
func printTable(title string, header []string, rows [][]string) {
	fmt.Printf("\n%s\n", title)
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	line := func(r []string) {
		for i, c := range r {
			fmt.Printf("  %-*s", widths[i], c)
		}
		fmt.Println()
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
}
