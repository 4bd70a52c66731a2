package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"time"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

func init() { benchmarks["customer"] = benchCustomer }

// benchCustomer is `abacusdev bench customer`: it seeds customers, then
// measures reading one customer, closed loop, through the gateway's MANEX
// route (GET /API/Customer/Get/{key}?CustNumOrName=<number>, which
// authenticates the key and looks the number up over gRPC) and over gRPC
// directly: CustomerService.GetCustomer by id, and LookupCustomer by
// number, the call the MANEX route makes.
func benchCustomer(ctx context.Context, args []string) error {
	var seed int
	var warmup time.Duration
	f, err := parseBenchFlags("customer", args, func(fs *flag.FlagSet) {
		fs.IntVar(&seed, "customers", 10000, "customers to create before measuring")
		fs.DurationVar(&warmup, "warmup", 2*time.Second, "unmeasured load before each measurement")
	})
	if err != nil {
		return err
	}
	if seed < 1 || f.clients < 1 {
		return fmt.Errorf("-customers and -clients must be at least 1")
	}
	env, stop, err := startBenchEnv(ctx, f.binDir)
	if err != nil {
		return err
	}
	defer stop()
	client := customerv1.NewCustomerServiceClient(env.conns["customer"])

	start := time.Now()
	targets, err := env.createCustomers(ctx, seed, f.clients)
	if err != nil {
		return err
	}
	seeding := time.Since(start)
	say("seeded %d customers in %s (%.0f creates/s over gRPC, %d clients)", seed, seeding.Round(time.Millisecond),
		float64(seed)/seeding.Seconds(), f.clients)

	// One keep-alive connection per client, as a real client pool would
	// hold; the default transport keeps only two idle ones per host.
	httpClient := &http.Client{Transport: &http.Transport{
		MaxIdleConns: f.clients, MaxIdleConnsPerHost: f.clients, IdleConnTimeout: time.Minute,
	}}
	defer httpClient.CloseIdleConnections()
	getURL := env.stack.gateway + "/API/Customer/Get/" + url.PathEscape(env.demo.Manex.APIKey) + "?CustNumOrName="

	runs := []struct {
		name string
		op   func(ctx context.Context, worker, i int) error
	}{
		{"MANEX GET /API/Customer/Get (gateway, HTTP/1.1)", func(ctx context.Context, worker, i int) error {
			t := targets.pick(worker, i)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, getURL+t.number, nil)
			if err != nil {
				return err
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case err != nil:
				return err
			case resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"Code":200`)) || !bytes.Contains(body, []byte(`"CUSTNO":"`+t.number+`"`)):
				return fmt.Errorf("%w: HTTP %d %.200s", errUnexpected, resp.StatusCode, body)
			}
			return nil
		}},
		{"gRPC CustomerService.GetCustomer (by id)", func(ctx context.Context, worker, i int) error {
			t := targets.pick(worker, i)
			resp, err := client.GetCustomer(env.tenantCtx(ctx), &customerv1.GetCustomerRequest{CustomerId: t.id})
			if err != nil {
				return err
			}
			if resp.GetCustomer().GetCustomerNumber() != t.number {
				return fmt.Errorf("%w: customer %d has number %s", errUnexpected, t.id, resp.GetCustomer().GetCustomerNumber())
			}
			return nil
		}},
		{"gRPC CustomerService.LookupCustomer (by number)", func(ctx context.Context, worker, i int) error {
			t := targets.pick(worker, i)
			resp, err := client.LookupCustomer(env.tenantCtx(ctx), &customerv1.LookupCustomerRequest{
				By: &customerv1.LookupCustomerRequest_CustomerNumber{CustomerNumber: t.number},
			})
			if err != nil {
				return err
			}
			if resp.GetCustomer().GetCustomerId() != t.id {
				return fmt.Errorf("%w: number %s is customer %d", errUnexpected, t.number, resp.GetCustomer().GetCustomerId())
			}
			return nil
		}},
	}
	var rows [][]string
	for _, r := range runs {
		if warmup > 0 {
			say("warming up: %s", r.name)
			closedLoop(ctx, f.clients, warmup, r.op)
		}
		say("measuring %s for %s with %d clients", r.name, f.duration, f.clients)
		res := closedLoop(ctx, f.clients, f.duration, r.op)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		say("  %s", res)
		if res.ops == 0 {
			return fmt.Errorf("%s: no call succeeded (first error: %v)", r.name, res.firstError)
		}
		rows = append(rows, []string{r.name, fmt.Sprint(f.clients), fmt.Sprintf("%.0f", res.perSecond()),
			fmt.Sprintf("%.2f", customerBenchMillis(res.p50)), fmt.Sprintf("%.2f", customerBenchMillis(res.p99)), fmt.Sprint(res.ops), fmt.Sprint(res.errors)})
	}
	printTable(fmt.Sprintf("Customer Get: %d customers, %d clients, %s per route, %d CPUs (%s/%s, GOMAXPROCS %d); everything on this machine",
		seed, f.clients, f.duration, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0)),
		[]string{"route", "clients", "ops/s", "p50 ms", "p99 ms", "ops", "errors"}, rows)
	return nil
}

func customerBenchMillis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// customerBenchTarget is a seeded customer.
type customerBenchTarget struct {
	id     int32
	number string
}

type customerBenchTargets []customerBenchTarget

// pick spreads the calls over every seeded customer, differently per
// worker, so that the measurement is not of one hot row.
func (ts customerBenchTargets) pick(worker, i int) customerBenchTarget {
	return ts[(worker*7919+i*104729)%len(ts)]
}
