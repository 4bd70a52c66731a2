package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	historyv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/history/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

func init() { benchmarks["soap"] = benchSOAP }

// soapTarget is the share of its JSON twin's throughput a SOAP read must
// reach: the XML edge must not become the bottleneck.
const soapTarget = 0.8

// benchRoute is one HTTP read measured closed loop.
type benchRoute struct {
	name string
	op   func(ctx context.Context, worker, i int) error
}

// routePair is an operation served in JSON and in SOAP.
type routePair struct {
	title      string
	json, soap benchRoute
	// skipped says why the pair is not measured ("" when it is).
	skipped string
}

// routeTally gathers one route's measured slices and the CPU each process
// group spent during them.
type routeTally struct {
	runs []loadResult
	cpu  cpuSample
}

// benchSOAP is `abacusdev bench soap`: each SOAP read beside its JSON twin,
// on one stack, with the same clients, customers and credentials. Exigo
// GetCustomerBalances (REST GET /3.0/customers/balances against SOAP
// ExigoApi.asmx) and Magento store-credit history (REST
// /api/rest/customers/{id}/storecredit/history against SOAP v2
// enterpriseCustomerbalanceHistory, each worker logged in once). Each
// route's time is cut into -rounds slices run in ABBA order (JSON, SOAP,
// SOAP, JSON, ...), so neither form gets the warmer machine.
func benchSOAP(ctx context.Context, args []string) error {
	var customers, rounds int
	var warmup time.Duration
	var profileDir string
	f, err := parseBenchFlags("soap", args, func(fs *flag.FlagSet) {
		fs.IntVar(&customers, "customers", 1000, "customers the reads spread over, each with a handful of store-credit rows")
		fs.IntVar(&rounds, "rounds", 4, "slices each route's -duration is cut into, JSON and SOAP alternating")
		fs.DurationVar(&warmup, "warmup", 2*time.Second, "unmeasured load on each route before the first slice")
		fs.StringVar(&profileDir, "profile", "", "write the gateway's CPU profile of each route's first slice into this directory")
	})
	if err != nil {
		return err
	}
	if customers < 1 || f.clients < 1 || rounds < 1 {
		return fmt.Errorf("-customers, -clients and -rounds must be at least 1")
	}
	env, stop, err := startBenchEnv(ctx, f.binDir)
	if err != nil {
		return err
	}
	defer stop()
	s := env.stack

	say("creating %d customers with %d store-credit rows each", customers, len(soapBenchPostings))
	targets, err := env.createCustomers(ctx, customers, 16)
	if err != nil {
		return err
	}
	if err := seedStoreCredit(ctx, env, targets); err != nil {
		return err
	}

	// One keep-alive connection per client, for both forms alike.
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: f.clients, MaxIdleConnsPerHost: f.clients, IdleConnTimeout: time.Minute,
	}}
	defer client.CloseIdleConnections()
	pairs := []routePair{exigoPair(env, client, targets)}
	magento, err := magentoPair(ctx, env, client, targets, f.clients)
	if err != nil {
		return err
	}
	pairs = append(pairs, magento)

	slice := f.duration / time.Duration(rounds)
	tallies := map[string]*routeTally{}
	measure := func(r benchRoute, round int) error {
		t := tallies[r.name]
		if t == nil {
			t = &routeTally{cpu: cpuSample{}}
			tallies[r.name] = t
			if warmup > 0 {
				say("warming up: %s", r.name)
				closedLoop(ctx, f.clients, warmup, r.op)
			}
		}
		var profiled func() error
		if profileDir != "" && round == 0 {
			profiled = profileGateway(ctx, s, slice, filepath.Join(profileDir, "gateway-"+fileSafe(r.name)+".pprof"))
		}
		cpu0 := sampleCPU(s)
		res := closedLoop(ctx, f.clients, slice, r.op)
		cpu1 := sampleCPU(s)
		for name, v := range cpu1 {
			t.cpu[name] += v - cpu0[name]
		}
		t.runs = append(t.runs, res)
		say("  round %d, %s: %s", round+1, r.name, res)
		if profiled != nil {
			if err := profiled(); err != nil {
				return err
			}
		}
		return ctx.Err()
	}
	for round := range rounds {
		for _, p := range pairs {
			if p.skipped != "" {
				continue
			}
			order := []benchRoute{p.json, p.soap}
			if round%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			for _, r := range order {
				if err := measure(r, round); err != nil {
					return err
				}
			}
		}
	}

	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }
	var rows [][]string
	var notes []string
	failed := 0
	for _, p := range pairs {
		if p.skipped != "" {
			rows = append(rows, []string{p.title, "not measured (see below)", "", "", "", "", "", "", ""})
			notes = append(notes, p.title+": not measured: "+p.skipped)
			continue
		}
		js, so := mergeLoads(tallies[p.json.name].runs), mergeLoads(tallies[p.soap.name].runs)
		ratio, verdict := so.perSecond()/js.perSecond(), "met"
		if ratio < soapTarget {
			verdict = "NOT met"
		}
		if js.errors+so.errors > 0 {
			verdict = "errors: not comparable"
		}
		for i, x := range []struct {
			r   benchRoute
			res loadResult
		}{{p.json, js}, {p.soap, so}} {
			row := []string{p.title, x.r.name, fmt.Sprintf("%.0f", x.res.perSecond()), ms(x.res.p50), ms(x.res.p99), strconv.Itoa(x.res.ops), strconv.Itoa(x.res.errors), "", ""}
			if i == 1 {
				// Cut, not rounded, to two places: 0.797 shows as 0.79×, not
				// as a 0.80× that misses the target.
				row[7], row[8] = fmt.Sprintf("%.2f×", math.Floor(ratio*100)/100), fmt.Sprintf("≥ %.1f×: %s", soapTarget, verdict)
			}
			rows = append(rows, row)
			if x.res.ops > 0 {
				notes = append(notes, x.r.name+": "+perOp(cpuSample{}, tallies[x.r.name].cpu, x.res.ops, "read"))
			}
			if x.res.errors > 0 {
				failed += x.res.errors
				notes = append(notes, fmt.Sprintf("  %d errors, first: %v", x.res.errors, x.res.firstError))
			}
		}
	}
	printTable(fmt.Sprintf("SOAP beside JSON: %d clients (-clients), %d customers, %s per route in %d slices of %s, JSON and SOAP alternating; %d CPUs, everything on this machine",
		f.clients, customers, f.duration, rounds, slice, runtime.NumCPU()),
		[]string{"operation", "route", "ops/s", "p50 ms", "p99 ms", "ops", "errors", "SOAP/JSON", "target"}, rows)
	for _, n := range notes {
		fmt.Println("  " + n)
	}
	if failed > 0 {
		return fmt.Errorf("%d reads failed or answered other than the expected success", failed)
	}
	return nil
}

// soapBenchPostings are each customer's rows: store credit created, used
// and refunded on website 1, a payment on website 0, and credit in a
// second currency, so that both operations answer several rows.
var soapBenchPostings = []*ledgerv1.Posting{
	{Currency: "USD", WebsiteId: 1, Kind: "STORE_CREDIT", Action: 2, Amount: "50.00", Comment: "gift card"},
	{Currency: "USD", WebsiteId: 1, Kind: "STORE_CREDIT", Action: 3, Amount: "12.50", Comment: "order 1001"},
	{Currency: "USD", WebsiteId: 1, Kind: "STORE_CREDIT", Action: 4, Amount: "5.25", Comment: "refund of order 1001"},
	{Currency: "USD", Kind: "PAYMENT", Amount: "25.00"},
	{Currency: "EUR", WebsiteId: 2, Kind: "STORE_CREDIT", Action: 2, Amount: "10.00", Comment: "welcome credit"},
}

// seedStoreCredit posts soapBenchPostings for every customer, one batch
// each, and waits until the history has applied them all.
func seedStoreCredit(ctx context.Context, env *benchEnv, targets customerBenchTargets) error {
	ledger := ledgerv1.NewLedgerServiceClient(env.conns["ledger"])
	tctx := env.tenantCtx(ctx)
	last := make([]*ledgerv1.Entry, 16)
	res := closedLoop(tctx, len(last), time.Hour, func(ctx context.Context, w, i int) error {
		n := i*len(last) + w
		if n >= len(targets) {
			return errSeedDone
		}
		req := &ledgerv1.BatchPostEntriesRequest{IdempotencyKey: fmt.Sprintf("soap-bench-%d", targets[n].id)}
		for _, p := range soapBenchPostings {
			c := proto.CloneOf(p)
			c.CustomerId = targets[n].id
			req.Postings = append(req.Postings, c)
		}
		resp, err := ledger.BatchPostEntries(ctx, req)
		if err != nil {
			return err
		}
		if e := resp.GetEntries(); len(e) > 0 && e[len(e)-1].GetEntryId() > last[w].GetEntryId() {
			last[w] = e[len(e)-1]
		}
		return nil
	}, stopOn(errSeedDone))
	if res.errors > 0 {
		return fmt.Errorf("seed store credit: %d errors, first: %w", res.errors, res.firstError)
	}
	newest := last[0]
	for _, e := range last {
		if e.GetEntryId() > newest.GetEntryId() {
			newest = e
		}
	}
	return awaitHistory(tctx, historyv1.NewHistoryServiceClient(env.conns["history"]), newest)
}

// exigoPair reads a customer's balances by id with the tenant's Exigo
// credential: Basic login@company:password for REST, the ApiAuthentication
// header for SOAP.
func exigoPair(env *benchEnv, client *http.Client, targets customerBenchTargets) routePair {
	d := env.demo.Exigo
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(d.Login+"@"+d.Company+":"+d.Password))
	restURL := env.stack.gateway + "/3.0/customers/balances?customerID="
	soapURL := env.stack.gateway + "/3.0/ExigoApi.asmx"
	// The envelope as the seeds' .NET client writes it, cut where the
	// customer id goes.
	head := `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
		`xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>` +
		`<ApiAuthentication xmlns="http://api.exigo.com/"><LoginName>` + xmlText(d.Login) + `</LoginName><Password>` + xmlText(d.Password) +
		`</Password><Company>` + xmlText(d.Company) + `</Company><RequestTimeUtc>0001-01-01T00:00:00</RequestTimeUtc></ApiAuthentication>` +
		`</soap:Header><soap:Body><GetCustomerBalancesRequest xmlns="http://api.exigo.com/"><CustomerID>`
	const tail = `</CustomerID></GetCustomerBalancesRequest></soap:Body></soap:Envelope>`
	return routePair{
		title: "Exigo GetCustomerBalances",
		json: benchRoute{"Exigo JSON GET /3.0/customers/balances", func(ctx context.Context, w, i int) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, restURL+strconv.Itoa(int(targets.pick(w, i).id)), nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", basic)
			return expectOK(client.Do(req))(`"status":"Success"`, `"currencyCode":"USD"`, `"currencyCode":"EUR"`)
		}},
		soap: benchRoute{"Exigo SOAP POST /3.0/ExigoApi.asmx", func(ctx context.Context, w, i int) error {
			body := head + strconv.Itoa(int(targets.pick(w, i).id)) + tail
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, soapURL, strings.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "text/xml; charset=utf-8")
			req.Header.Set("SOAPAction", `"https://api.exigo.com/GetCustomerBalances"`)
			return expectOK(client.Do(req))(`<Status>Success</Status>`, `<CurrencyCode>USD</CurrencyCode>`, `<CurrencyCode>EUR</CurrencyCode>`)
		}},
	}
}

// Magento SOAP v2 (rpc/encoded) envelopes, as PHP SoapClient writes them.
const (
	magentoSOAPHead = `<?xml version="1.0" encoding="UTF-8"?>` +
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:Magento" ` +
		`xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
		`xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">` +
		`<SOAP-ENV:Body>`
	magentoSOAPTail = `</SOAP-ENV:Body></SOAP-ENV:Envelope>`
)

// magentoSession is the session id in a login answer.
var magentoSession = regexp.MustCompile(`>([0-9a-f]{32})<`)

// magentoPair reads a customer's store-credit history with the tenant's
// Magento credential: Basic apiUser:apiKey for REST; for SOAP v2 each
// worker logs in once, before the warm-up, and reuses its session.
func magentoPair(ctx context.Context, env *benchEnv, client *http.Client, targets customerBenchTargets, clients int) (routePair, error) {
	d := env.demo.Magento
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(d.APIUser+":"+d.APIKey))
	restURL := env.stack.gateway + "/api/rest/customers/"
	soapURL := env.stack.gateway + "/api/v2_soap/"
	post := func(ctx context.Context, body string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, soapURL, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("SOAPAction", `"urn:Mage_Api_Model_Server_V2_HandlerAction"`)
		return client.Do(req)
	}
	login := magentoSOAPHead + `<ns1:login><username xsi:type="xsd:string">` + xmlText(d.APIUser) +
		`</username><apiKey xsi:type="xsd:string">` + xmlText(d.APIKey) + `</apiKey></ns1:login>` + magentoSOAPTail
	p := routePair{title: "Magento store-credit history"}
	sessions := make([]string, clients)
	for w := range sessions {
		resp, err := post(ctx, login)
		if err != nil {
			return p, fmt.Errorf("magento SOAP login: %w", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return p, fmt.Errorf("magento SOAP login: %w", err)
		}
		if resp.StatusCode == http.StatusNotFound && w == 0 {
			p.skipped = "this gateway does not serve Magento SOAP v2 (POST /api/v2_soap/ answers 404)"
			say("Magento SOAP v2: %s", p.skipped)
			return p, nil
		}
		m := magentoSession.FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			return p, fmt.Errorf("magento SOAP login: %w: HTTP %d %.300s", errUnexpected, resp.StatusCode, answerBody(body))
		}
		sessions[w] = string(m[1])
	}
	p.json = benchRoute{"Magento JSON GET /api/rest/customers/{id}/storecredit/history", func(ctx context.Context, w, i int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, restURL+strconv.Itoa(int(targets.pick(w, i).id))+"/storecredit/history", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", basic)
		return expectOK(client.Do(req))(`"history_id":"`, `"additional_info":"welcome credit"`)
	}}
	p.soap = benchRoute{"Magento SOAP v2 enterpriseCustomerbalanceHistory", func(ctx context.Context, w, i int) error {
		body := magentoSOAPHead + `<ns1:enterpriseCustomerbalanceHistory><sessionId xsi:type="xsd:string">` + sessions[w] +
			`</sessionId><customerId xsi:type="xsd:string">` + strconv.Itoa(int(targets.pick(w, i).id)) +
			`</customerId><websiteId xsi:nil="true"/></ns1:enterpriseCustomerbalanceHistory>` + magentoSOAPTail
		return expectOK(post(ctx, body))(`<history_id`, `>welcome credit</additional_info>`)
	}}
	return p, nil
}

// expectOK reads the whole answer and checks that it is a 200 holding
// every want; anything else is errUnexpected.
func expectOK(resp *http.Response, err error) func(want ...string) error {
	return func(want ...string) error {
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%w: HTTP %d %.300s", errUnexpected, resp.StatusCode, answerBody(body))
		}
		for _, w := range want {
			if !bytes.Contains(body, []byte(w)) {
				return fmt.Errorf("%w: no %s in %.300s", errUnexpected, w, answerBody(body))
			}
		}
		return nil
	}
}

// answerBody is what an error quotes of an answer: a SOAP envelope from
// its Body on, since the namespace declarations before it say nothing.
func answerBody(body []byte) []byte {
	if i := bytes.Index(body, []byte("Body>")); i >= 0 {
		return body[i+len("Body>"):]
	}
	return body
}

// xmlText escapes s as XML character data.
func xmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// profileGateway starts a CPU profile of the gateway over d (whole seconds,
// at least one) from its admin port; the returned function waits for it and
// writes it to path.
func profileGateway(ctx context.Context, s *stack, d time.Duration, path string) func() error {
	done := make(chan error, 1)
	go func() {
		secs := max(int(d.Seconds()), 1)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
			fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.Proc("gateway").AdminAddr, secs), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- fmt.Errorf("gateway profile: %w", err)
			return
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("gateway profile: HTTP %d %.200s", resp.StatusCode, raw)
		}
		if err == nil {
			err = os.MkdirAll(filepath.Dir(path), 0o755)
		}
		if err == nil {
			err = os.WriteFile(path, raw, 0o644)
		}
		done <- err
	}()
	return func() error { return <-done }
}

// fileSafe turns a route's name into a file name.
func fileSafe(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, name)
}
