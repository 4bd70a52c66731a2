package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sync"
	"testing"
)

// send makes one request to the gateway and returns the raw answer.
func send(t *testing.T, method, path string, header map[string]string, body []byte) answer {
	t.Helper()
	code, raw, err := httpDo(t.Context(), method, sys.gateway+path, header, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return answer{status: code, body: raw}
}

func (a answer) wantStatus(t *testing.T, code int) answer {
	t.Helper()
	if a.status != code {
		t.Fatalf("HTTP %d, want %d: %s", a.status, code, a.body)
	}
	return a
}

// The seed's example requests for MANEX Customer Main, sent as written
// (query strings without the document's closing quote, spaces
// percent-encoded; JSON bodies with the document's single quotes, which
// Json.NET and the gateway accept), with a valid key and existing
// customers, and the errors the seed lists. One tenant, so customer numbers
// are the same on every run.
func TestManexSeedExamples(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	key := tc.manexKey
	add, edit, get := "/API/Customer/Add/"+key, "/API/Customer/Edit/"+key, "/API/Customer/Get/"+key
	addSkip := map[string]*regexp.Regexp{"/ResponseObject/ACCT_DATE": reDatePlain}
	// The seed's record values are another customer's (number 0000000010)
	// and carry SQL Server's char padding; keys, order and types must agree.
	steps := []struct {
		name         string
		method, path string
		body         string
		status       int
		g            golden
	}{
		// Add: query string, then JSON body. Numbers are generated.
		{"add example, query", "GET", add + "?CustName=CustomerName&Status=Active", "", 200,
			golden{file: "manex_add_example_query", volatile: addSkip, seed: "manex_add_ok"}},
		{"add example, JSON", "POST", add, `{"Custname": "CustomerName", "Status": "Active"}`, 200,
			golden{file: "manex_add_example_json", volatile: addSkip, seed: "manex_add_ok"}},
		// The customers the Edit and Get examples name: 0000000000, and
		// 0000000010 named Customer (as in the seed's Get answer).
		{"add customer 0000000000", "POST", add, `{"Custno":"0000000000","Custname":"Someone","Status":"Quote","Acct_date":"11/19/2014"}`, 200,
			golden{file: "manex_add_custno", seed: "manex_add_ok"}},
		{"add customer 0000000010", "GET", add + "?Custno=0000000010&Custname=Customer&Status=Active&Phone=555-0100&Terms=NET%2030&Credlimit=1500.50&Creditok=OK&Ar_highBal=12.3456&Acct_date=11/19/2014&Saledsctid=SD1&Acctaxable=true", "", 200,
			golden{file: "manex_add_full", seed: "manex_add_ok"}},
		// Edit: the example's ACCT_DATE is the literal placeholder, which
		// leaves the date alone.
		{"edit example, query", "GET", edit + "?CUSTNO=0000000000&CUSTNAME=CustomerName&ACCT_DATE=YYYY-MM-DD00:00:00&STATUS=Active&territory=NEW%20ENGLAND", "", 200,
			golden{file: "manex_edit_example", seed: "manex_edit_ok", seedValues: true}},
		{"edit example, JSON", "POST", edit, `{'CUSTNO':'0000000000','CUSTNAME':'CustomerName','ACCT_DATE':'YYYY-MM-DD00:00:00','STATUS':'Active','territory':'NEW ENGLAND'}`, 200,
			golden{file: "manex_edit_example", seed: "manex_edit_ok", seedValues: true}},
		{"edit customer 0000000010 as the Get example shows it", "GET", edit + "?CUSTNO=0000000010&territory=NEW%20ENGLAND&ACCT_DATE=2014-11-19%2013:28:00", "", 200,
			golden{file: "manex_edit_example", seed: "manex_edit_ok", seedValues: true}},
		// Get: query string, then JSON body.
		{"get example, query", "GET", get + "?CustNumOrName=Customer", "", 200,
			golden{file: "manex_get_example", volatile: map[string]*regexp.Regexp{"/ResponseObject/modifiedDate": reDatePlain}, seed: "manex_get_ok"}},
		{"get example, JSON", "POST", get, `{'CustNumOrName':'Customer'}`, 200,
			golden{file: "manex_get_example", volatile: map[string]*regexp.Regexp{"/ResponseObject/modifiedDate": reDatePlain}, seed: "manex_get_ok"}},
		{"get by number", "GET", get + "?custnumorname=0000000000", "", 200,
			golden{file: "manex_get_by_number", volatile: map[string]*regexp.Regexp{"/ResponseObject/modifiedDate": reDatePlain}, seed: "manex_get_ok"}},

		// The errors the seed lists, value for value.
		{"add URL error", "GET", "/api/CustomerAdd/123456789", "", 404,
			golden{file: "manex_add_url_error", seed: "manex_add_url_error", seedValues: true}},
		{"add parameter error", "POST", add, `Custname=CustomerName&Status=Active`, 200,
			golden{file: "manex_add_param_error", seed: "manex_add_param_error", seedValues: true}},
		{"add API key error", "GET", "/API/Customer/Add/123456789?CustName=CustomerName&Status=Active", "", 200,
			golden{file: "manex_invalid_key", seed: "manex_invalid_key", seedValues: true}},
		{"edit API key error", "POST", "/API/Customer/Edit/" + key + "x", `{'CUSTNO':'0000000000'}`, 200,
			golden{file: "manex_invalid_key", seed: "manex_invalid_key", seedValues: true}},
		{"edit URL error", "GET", "/api/CustomerEdit/123456789", "", 404,
			golden{file: "manex_edit_url_error", seed: "manex_edit_url_error", seedValues: true}},
		{"edit parameter error", "GET", edit + "?CUSTNAME=CustomerName", "", 200,
			golden{file: "manex_edit_param_error", seed: "manex_edit_param_error", seedValues: true}},
		{"get incorrect URL", "GET", "/api/Customer/Get/123456789?CustName=CustomerName", "", 404,
			golden{file: "manex_get_url_error", seed: "manex_get_url_error", seedValues: true}},
		{"get non-existent customer", "GET", get + "?CustNumOrName=Nobody", "", 200,
			golden{file: "manex_get_no_customer", seed: "manex_get_no_customer", seedValues: true}},
		{"get API key error", "GET", "/API/Customer/Get/" + key[:9] + "?CustNumOrName=Customer", "", 200,
			golden{file: "manex_invalid_key", seed: "manex_invalid_key", seedValues: true}},

		// Errors the seed describes in words; the envelope is the seed's
		// parameter error, the message says which parameter and rule.
		{"add bad status", "GET", add + "?CustName=CustomerName&Status=ACTIVE", "", 200,
			golden{file: "manex_add_bad_status", seed: "manex_add_param_error"}},
		{"add taken number", "GET", add + "?Custno=0000000010&CustName=Again&Status=Active", "", 200,
			golden{file: "manex_add_taken_custno", seed: "manex_add_param_error"}},
		{"edit unknown customer", "GET", edit + "?CUSTNO=0000009999&CUSTNAME=X", "", 200,
			golden{file: "manex_get_no_customer", seed: "manex_get_no_customer", seedValues: true}},
		{"get ambiguous name", "GET", get + "?CustNumOrName=CustomerName", "", 200,
			golden{file: "manex_get_ambiguous", seed: "manex_get_no_customer"}},
	}
	// In order: each step relies on the ones before.
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			var body []byte
			if s.body != "" {
				body = []byte(s.body)
			}
			a := send(t, s.method, s.path, nil, body).wantStatus(t, s.status)
			s.g.check(t, a)
		})
		if !ok {
			return
		}
	}
}

// Edit changes only the parameters sent; Get shows the result, dates in the
// Get form, and the modification date a client gave.
func TestManexEditChangesOnlyWhatIsSent(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	add, edit, get := "/API/Customer/Add/"+tc.manexKey, "/API/Customer/Edit/"+tc.manexKey, "/API/Customer/Get/"+tc.manexKey
	_, v := call(t, "POST", add, nil, []byte(`{"Custname":"Edited","Status":"Active","Phone":"555","Territory":"EAST","Terms":"COD",
		"Credlimit":100,"Creditok":"HOLD","Ar_highBal":"7.5","Acct_date":"01/15/2024","Saledsctid":"S1","Acctaxable":true}`))
	if field(v, "Code") != 200.0 {
		t.Fatalf("add: %v", v)
	}
	number := field(v, "ResponseObject", "CUSTNO").(string)

	steps := []struct {
		name  string
		query string
		want  map[string]any // record keys after the edit
	}{
		{"status in upper case, inactive date and initials", "STATUS=INACTIVE&Inactdt=2/1/2024&Inactinit=MK",
			map[string]any{"STATUS": "Inactive", "INACTDT": "2024-02-01T00:00:00", "INACTINIT": "MK", "PHONE": "555", "TERRITORY": "EAST",
				"CREDLIMIT": 100.0, "ACCT_DATE": "2024-01-15T00:00:00", "ACTTAXABLE": true}},
		{"a dated change", "Phone=556&modifieddate=03/01/2024",
			map[string]any{"PHONE": "556", "modifiedDate": "2024-03-01T00:00:00", "STATUS": "Inactive", "TERMS": "COD"}},
		{"clearing and the example's ISO date", "Territory=&Resl_no=R-9&ACCT_DATE=2024-01-1513:28:00&Acctaxable=False&Credlimit=0.5",
			map[string]any{"TERRITORY": "", "RESL_NO": "R-9", "ACCT_DATE": "2024-01-15T13:28:00", "ACTTAXABLE": false, "CREDLIMIT": 0.5,
				"CREDITOK": "HOLD", "AR_HIGHBAL": 7.5, "SALEDSCTID": "S1", "CUSTNAME": "Edited"}},
		{"the placeholder date leaves the date alone", "ACCT_DATE=YYYY-MM-DD00:00:00&Custname=Renamed",
			map[string]any{"ACCT_DATE": "2024-01-15T13:28:00", "CUSTNAME": "Renamed"}},
		{"nothing to change", "",
			map[string]any{"CUSTNAME": "Renamed", "PHONE": "556"}},
	}
	for _, s := range steps {
		code, v := call(t, "GET", edit+"?Custno="+number+"&"+s.query, nil, nil)
		if code != 200 || field(v, "Code") != 200.0 || field(v, "Message") != "Customer edited successfully." {
			t.Fatalf("%s: edit %d %v", s.name, code, v)
		}
		_, v = call(t, "GET", get+"?CustNumOrName="+number, nil, nil)
		for k, want := range s.want {
			if got := field(v, "ResponseObject", k); got != want {
				t.Errorf("%s: %s = %#v, want %#v", s.name, k, got, want)
			}
		}
	}

	// A ten-digit name is found by name when no customer has it as number.
	call(t, "GET", add+"?Custname=0000000777&Status=Quote", nil, nil)
	_, v = call(t, "GET", get+"?CustNumOrName=0000000777", nil, nil)
	if field(v, "ResponseObject", "CUSTNAME") != "0000000777" || field(v, "ResponseObject", "STATUS") != "Quote" {
		t.Errorf("get of a ten-digit name: %v", v)
	}
}

// Add, Get and Edit agree on dates: Add answers each date as Get then
// shows it, and the text Get shows, sent back to Edit, leaves the date as
// it was; a date given to Edit in that form is what Get shows next.
func TestManexDatesAgree(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	add, edit, get := "/API/Customer/Add/"+tc.manexKey, "/API/Customer/Edit/"+tc.manexKey, "/API/Customer/Get/"+tc.manexKey
	record := func(what string, v any) map[string]any {
		t.Helper()
		r, ok := field(v, "ResponseObject").(map[string]any)
		if field(v, "Code") != 200.0 || !ok {
			t.Fatalf("%s: %v", what, v)
		}
		return r
	}
	dates := []string{"ACCT_DATE", "AR_CALDATE", "INACTDT", "modifiedDate"}
	for _, body := range []string{
		`{"Custname":"Dated","Status":"Active","Acct_date":"11/19/2014"}`,
		// No Acct_date: the account date is the moment of the Add, with
		// its fraction of a second.
		`{"Custname":"Undated","Status":"Active"}`,
	} {
		_, v := call(t, "POST", add, nil, []byte(body))
		added := record("add "+body, v)
		number := added["CUSTNO"].(string)
		_, v = call(t, "GET", get+"?CustNumOrName="+number, nil, nil)
		got := record("get "+number, v)
		for _, k := range dates {
			if added[k] != got[k] {
				t.Errorf("%s: %s is %#v in Add's answer, %#v in Get's", body, k, added[k], got[k])
			}
		}
		acct, _ := got["ACCT_DATE"].(string)
		if !reDatePlain.MatchString(acct) {
			t.Errorf("%s: ACCT_DATE %q is not the Get example's form", body, acct)
		}
		for _, sent := range []string{acct, "2015-03-04T05:06:07.5"} {
			_, v = call(t, "GET", edit+"?Custno="+number+"&ACCT_DATE="+url.QueryEscape(sent), nil, nil)
			if field(v, "Code") != 200.0 {
				t.Fatalf("edit ACCT_DATE=%s: %v", sent, v)
			}
			_, v = call(t, "GET", get+"?CustNumOrName="+number, nil, nil)
			if after := record("get after edit", v)["ACCT_DATE"]; after != sent {
				t.Errorf("%s: Edit sent ACCT_DATE %q, Get then shows %#v", body, sent, after)
			}
		}
	}
}

// Adds racing through the gateway never share a customer number.
func TestManexConcurrentAdds(t *testing.T) {
	t.Parallel()
	tc := newTenant(t)
	const n = 24
	numbers := make(chan string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			code, raw, err := httpDo(t.Context(), "POST", sys.gateway+"/API/Customer/Add/"+tc.manexKey, nil,
				[]byte(fmt.Sprintf(`{"Custname":"Racer %d","Status":"Active"}`, i)))
			var v any
			if err == nil {
				err = json.Unmarshal(raw, &v)
			}
			if err != nil || code != 200 || field(v, "Code") != 200.0 {
				t.Errorf("add %d: %d %v %s", i, code, err, raw)
				numbers <- ""
				return
			}
			numbers <- field(v, "ResponseObject", "CUSTNO").(string)
		})
	}
	wg.Wait()
	close(numbers)
	seen := map[string]bool{}
	for num := range numbers {
		if seen[num] {
			t.Errorf("number %q handed out twice", num)
		}
		seen[num] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[fmt.Sprintf("%010d", i)] {
			t.Errorf("number %010d missing", i)
		}
	}
}
