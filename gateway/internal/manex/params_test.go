package manex

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/textrule"
)

func request(method, query, body string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, "/API/Customer/Add/K?"+query, nil)
	} else {
		r = httptest.NewRequest(method, "/API/Customer/Add/K?"+query, strings.NewReader(body))
	}
	r.URL.RawQuery = query // as sent, even when malformed
	return r
}

func TestReadParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		method      string
		query, body string
		want        params
		wantErr     string // the paramError's text; "null model" for errNoModel
	}{
		{name: "query, names any case", query: "CustName=Acme&STATUS=Active&territory=NEW+ENGLAND",
			want: params{"custname": "Acme", "status": "Active", "territory": "NEW ENGLAND"}},
		{name: "escapes", query: "Custname=50%25%20off&Phone=", want: params{"custname": "50% off", "phone": ""}},
		{name: "empty parts", query: "&&Custname=A&", want: params{"custname": "A"}},
		{name: "name without value", query: "Custname", want: params{"custname": ""}},
		{name: "repeated in two cases", query: "Custname=A&CUSTNAME=B", wantErr: "Custname is given more than once."},
		{name: "repeated unknown", query: "foo=1&foo=2", wantErr: "foo is given more than once."},
		{name: "bad escape in value", query: "Custname=%zz", wantErr: "Custname is not URL-encoded correctly."},
		{name: "bad escape in name", query: "Cust%zzname=A", wantErr: "The parameter name 'Cust%zzname' is not URL-encoded correctly."},
		{name: "GET ignores a body", query: "Custname=A", body: `{"Status":"Active"}`, want: params{"custname": "A"}},
		{name: "POST body", method: http.MethodPost, body: `{"Custname":"Acme","CREDLIMIT":12.50,"Acctaxable":true,"Fax":null}`,
			want: params{"custname": "Acme", "credlimit": "12.50", "acctaxable": "true"}},
		{name: "body wins over query", method: http.MethodPost, query: "Custname=Q&Phone=1", body: `{"custname":"B"}`,
			want: params{"custname": "B", "phone": "1"}},
		{name: "body null removes the query's", method: http.MethodPost, query: "Phone=1", body: `{"PHONE":null}`, want: params{}},
		{name: "empty body", method: http.MethodPost, query: "Custname=A", body: "  ", want: params{"custname": "A"}},
		{name: "body repeated in two cases", method: http.MethodPost, body: `{"Status":"Active","STATUS":"Quote"}`, wantErr: "Status is given more than once."},
		{name: "body object value", method: http.MethodPost, body: `{"Custname":{"a":1}}`, wantErr: "Custname must be a single value, not an object or an array."},
		{name: "body array value", method: http.MethodPost, body: `{"Territory":["EAST"]}`, wantErr: "Territory must be a single value, not an object or an array."},
		{name: "body invalid UTF-8", method: http.MethodPost, body: "{\"Custname\":\"\xc3\x28\"}", wantErr: "Custname must be valid UTF-8."},
		{name: "body name invalid UTF-8", method: http.MethodPost, body: "{\"Cust\xffname\":\"Acme\"}",
			wantErr: "The parameter name 'Cust\uFFFDname' is not valid UTF-8."},
		{name: "query name invalid UTF-8", query: "Cust%FFname=Acme", wantErr: "The parameter name 'Cust%FFname' is not valid UTF-8."},
		{name: "body not JSON", method: http.MethodPost, body: `{`, wantErr: "null model"},
		{name: "body an array", method: http.MethodPost, body: `[]`, wantErr: "null model"},
		{name: "body a string", method: http.MethodPost, body: `"Custname"`, wantErr: "null model"},
		{name: "body null", method: http.MethodPost, body: `null`, wantErr: "null model"},
		{name: "body two objects", method: http.MethodPost, body: `{} {}`, wantErr: "null model"},
		{name: "body with single quotes, as the seed's examples and Json.NET", method: http.MethodPost,
			body: `{'CUSTNO':'0000000000','territory':'NEW ENGLAND'}`, want: params{"custno": "0000000000", "territory": "NEW ENGLAND"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			got, err := readParams(request(method, tt.query, tt.body))
			var pe *paramError
			switch {
			case tt.wantErr == "null model":
				if !errors.Is(err, errNoModel) {
					t.Fatalf("err = %v, want errNoModel", err)
				}
			case tt.wantErr != "":
				if !errors.As(err, &pe) || pe.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			default:
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("params (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	day := func(y, m, d int) *timestamppb.Timestamp {
		t, _ := civil(y, m, d, 0, 0, 0, 0)
		return timestamppb.New(t)
	}
	tests := []struct {
		name      string
		list      []param
		in        params
		want      *customerv1.Customer
		wantPaths []string
		wantErr   string
	}{
		{name: "add, the seed's example", list: addParams, in: params{"custname": "CustomerName", "status": "Active"},
			want:      &customerv1.Customer{Name: "CustomerName", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE},
			wantPaths: []string{"name", "status"}},
		{name: "add, every parameter", list: addParams, in: params{
			"custname": "Acme", "status": "Quote", "phone": "555", "fax": "556", "territory": "NEW ENGLAND", "terms": "NET 30/2% 10",
			"credlimit": "1500.50", "creditok": "HOLD", "ar_highbal": "0", "acct_date": "11/19/2014", "saledsctid": "SD1", "acttaxable": "TRUE",
		}, want: &customerv1.Customer{
			Name: "Acme", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE, Phone: "555", Fax: "556", Territory: "NEW ENGLAND",
			Terms: "NET 30/2% 10", CreditLimit: "1500.5", CreditStatus: "HOLD", ArHighBalance: "0", AccountDate: day(2014, 11, 19),
			SalesDiscountId: "SD1", AccountTaxable: true,
		}, wantPaths: []string{"name", "status", "phone", "fax", "territory", "terms", "credit_limit", "credit_status",
			"ar_high_balance", "account_date", "sales_discount_id", "account_taxable"}},
		{name: "add ignores Edit's parameters", list: addParams, in: params{"custname": "A", "status": "Active", "resl_no": "R"},
			want:      &customerv1.Customer{Name: "A", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE},
			wantPaths: []string{"name", "status"}},
		{name: "empty amount, date and flag are not sent", list: addParams,
			in:   params{"custname": "A", "status": "Active", "credlimit": "", "acct_date": " ", "acctaxable": ""},
			want: &customerv1.Customer{Name: "A", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE}, wantPaths: []string{"name", "status"}},
		{name: "add needs Custname", list: addParams, in: params{"status": "Active"}, wantErr: "Custname is required."},
		{name: "add needs a non-blank Custname", list: addParams, in: params{"custname": "  ", "status": "Active"}, wantErr: "Custname is required."},
		{name: "add needs Status", list: addParams, in: params{"custname": "A"}, wantErr: "Status is required."},
		{name: "add empty Status", list: addParams, in: params{"custname": "A", "status": ""}, wantErr: "Status is required."},
		{name: "add Status upper case", list: addParams, in: params{"custname": "A", "status": "ACTIVE"}, wantErr: "Status must be one of Active, Inactive, Quote."},
		{name: "first bad one in the seed's order", list: addParams, in: params{"custname": "A", "status": "active", "territory": "MARS"},
			wantErr: "Status must be one of Active, Inactive, Quote."},
		{name: "territory lower case", list: addParams, in: params{"custname": "A", "status": "Active", "territory": "east"},
			wantErr: "Territory must be one of SOUTHERN CA, NORTHERN CA, EAST, WEST, MIDWEST, NEW ENGLAND, SOUTH, GREAT LAKES, MEXICO, CANADA, UNITED KINGDOM."},
		{name: "terms unknown", list: addParams, in: params{"custname": "A", "status": "Active", "terms": "NET 60"},
			wantErr: "Terms must be one of NET 10, NET 15, NET 30, NET 30/2% 10, NET 45, COD, NONE."},
		{name: "creditok", list: addParams, in: params{"custname": "A", "status": "Active", "creditok": "ok"}, wantErr: "Creditok must be one of OK, HOLD, REJECT."},
		{name: "credlimit negative", list: addParams, in: params{"custname": "A", "status": "Active", "credlimit": "-1"}, wantErr: "Credlimit must be a number greater than or equal to 0."},
		{name: "credlimit text", list: addParams, in: params{"custname": "A", "status": "Active", "credlimit": "lots"}, wantErr: "Credlimit must be a number greater than or equal to 0."},
		{name: "credlimit five decimals", list: addParams, in: params{"custname": "A", "status": "Active", "credlimit": "1.00001"}, wantErr: "Credlimit must have at most 4 decimal places."},
		{name: "ar_highbal too large", list: addParams, in: params{"custname": "A", "status": "Active", "ar_highbal": "1000000000000000"},
			wantErr: "Ar_highBal must have at most 15 digits before the decimal point."},
		{name: "acct_date ISO on add", list: addParams, in: params{"custname": "A", "status": "Active", "acct_date": "2024-01-01"},
			wantErr: "Acct_date must be a valid date in MM/DD/YYYY format."},
		{name: "acct_date placeholder on add", list: addParams, in: params{"custname": "A", "status": "Active", "acct_date": "YYYY-MM-DD00:00:00"},
			wantErr: "Acct_date must be a valid date in MM/DD/YYYY format."},
		{name: "acctaxable", list: addParams, in: params{"custname": "A", "status": "Active", "acctaxable": "yes"}, wantErr: "Acctaxable must be true or false."},
		{name: "acctaxable under both names", list: addParams, in: params{"custname": "A", "status": "Active", "acctaxable": "true", "acttaxable": "true"},
			wantErr: "Acctaxable is given more than once."},
		{name: "custname too long", list: addParams, in: params{"custname": strings.Repeat("é", 51), "status": "Active"}, wantErr: "Custname must be at most 50 characters."},
		{name: "custname of 50 characters", list: addParams, in: params{"custname": strings.Repeat("é", 50), "status": "Active"},
			want:      &customerv1.Customer{Name: strings.Repeat("é", 50), Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE},
			wantPaths: []string{"name", "status"}},
		{name: "phone invalid UTF-8", list: addParams, in: params{"custname": "A", "status": "Active", "phone": "\xff"}, wantErr: "Phone must be valid UTF-8."},
		{name: "fax with NUL", list: addParams, in: params{"custname": "A", "status": "Active", "fax": "1\x002"},
			wantErr: "Fax must not contain control or invisible formatting characters (found U+0000)."},
		{name: "custname only spaces", list: addParams, in: params{"custname": "   ", "status": "Active"}, wantErr: "Custname is required."},
		{name: "custname a Hangul filler", list: addParams, in: params{"custname": "\u3164", "status": "Active"},
			wantErr: "Custname must not be empty or only spaces."},
		{name: "custname with CR LF", list: addParams, in: params{"custname": "Acme\r\nCorp", "status": "Active"},
			wantErr: "Custname must not contain control or invisible formatting characters (found U+000D)."},
		{name: "custname with TAB", list: addParams, in: params{"custname": "Acme\tCorp", "status": "Active"},
			wantErr: "Custname must not contain control or invisible formatting characters (found U+0009)."},
		{name: "custname with right-to-left override", list: addParams, in: params{"custname": "Acme\u202eproC", "status": "Active"},
			wantErr: "Custname must not contain control or invisible formatting characters (found U+202E)."},
		{name: "custname with byte order mark", list: addParams, in: params{"custname": "\ufeffAcme", "status": "Active"},
			wantErr: "Custname must not contain control or invisible formatting characters (found U+FEFF)."},
		{name: "custname invalid UTF-8", list: addParams, in: params{"custname": "Soci\xc3", "status": "Active"}, wantErr: "Custname must be valid UTF-8."},
		{name: "custname in CJK", list: addParams, in: params{"custname": "株式会社東京", "status": "Active"},
			want:      &customerv1.Customer{Name: "株式会社東京", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE},
			wantPaths: []string{"name", "status"}},
		{name: "custname with accents", list: addParams, in: params{"custname": "Société Générale", "status": "Active"},
			want:      &customerv1.Customer{Name: "Société Générale", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE},
			wantPaths: []string{"name", "status"}},
		{name: "phone with TAB", list: addParams, in: params{"custname": "A", "status": "Active", "phone": "555\t0100"},
			wantErr: "Phone must not contain control or invisible formatting characters (found U+0009)."},

		{name: "edit, the seed's example", list: editParams,
			in:   params{"custname": "CustomerName", "acct_date": "YYYY-MM-DD00:00:00", "status": "Active", "territory": "NEW ENGLAND"},
			want: &customerv1.Customer{Name: "CustomerName", Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE, Territory: "NEW ENGLAND"},
			// The placeholder is not a date: account_date is left alone.
			wantPaths: []string{"name", "territory", "status"}},
		{name: "edit, a real date in the example's form", list: editParams, in: params{"acct_date": "2024-01-15 00:00:00"},
			want: &customerv1.Customer{AccountDate: day(2024, 1, 15)}, wantPaths: []string{"account_date"}},
		{name: "edit, MM/DD/YYYY", list: editParams, in: params{"acct_date": "01/15/2024", "inactdt": "2/1/2024", "modifieddate": "03/01/2024"},
			want:      &customerv1.Customer{AccountDate: day(2024, 1, 15), InactiveTime: day(2024, 2, 1), ModifyTime: day(2024, 3, 1)},
			wantPaths: []string{"account_date", "inactive_time", "modify_time"}},
		{name: "edit, upper-case status", list: editParams, in: params{"status": "INACTIVE"},
			want: &customerv1.Customer{Status: customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE}, wantPaths: []string{"status"}},
		{name: "edit, clearing text", list: editParams, in: params{"territory": "", "resl_no": "", "inactinit": ""},
			want: &customerv1.Customer{}, wantPaths: []string{"territory", "reseller_number", "inactive_initials"}},
		{name: "edit, nothing", list: editParams, in: params{"custno": "0000000001", "unknown": "x"}, want: &customerv1.Customer{}},
		{name: "edit, mixed-case status", list: editParams, in: params{"status": "active"},
			wantErr: "Status must be one of Active, Inactive, Quote (or ACTIVE, INACTIVE, QUOTE)."},
		{name: "edit, empty status", list: editParams, in: params{"status": ""},
			wantErr: "Status must be one of Active, Inactive, Quote (or ACTIVE, INACTIVE, QUOTE)."},
		{name: "edit, ISO date alone", list: editParams, in: params{"acct_date": "2024-01-15"},
			wantErr: "Acct_date must be a valid date in MM/DD/YYYY format (or YYYY-MM-DD HH:MM:SS)."},
		{name: "edit, impossible date", list: editParams, in: params{"inactdt": "02/30/2024"}, wantErr: "Inactdt must be a valid date in MM/DD/YYYY format."},
		{name: "edit, modifieddate ISO", list: editParams, in: params{"modifieddate": "2024-01-15 00:00:00"},
			wantErr: "modifieddate must be a valid date in MM/DD/YYYY format."},
		{name: "edit, inactinit too long", list: editParams, in: params{"inactinit": "ABCDEFGHI"}, wantErr: "Inactinit must be at most 8 characters."},
		{name: "edit, custname only spaces", list: editParams, in: params{"custname": "  "}, wantErr: "Custname must not be empty or only spaces."},
		{name: "edit, custname emptied", list: editParams, in: params{"custname": ""}, wantErr: "Custname must not be empty or only spaces."},
		{name: "edit, custname with LF", list: editParams, in: params{"custname": "A\n"},
			wantErr: "Custname must not contain control or invisible formatting characters (found U+000A)."},
		{name: "edit, inactinit with byte order mark", list: editParams, in: params{"inactinit": "\ufeffJD"},
			wantErr: "Inactinit must not contain control or invisible formatting characters (found U+FEFF)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &customerv1.Customer{}
			paths, err := apply(c, tt.in, tt.list)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c, protocmp.Transform()); diff != "" {
				t.Errorf("customer (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPaths, paths); diff != "" {
				t.Errorf("paths (-want +got):\n%s", diff)
			}
		})
	}
}

// The limits and lists the gateway enforces are the proto's.
func TestRulesComeFromTheProto(t *testing.T) {
	t.Parallel()
	want := map[string]int{"custname": 50, "phone": 19, "fax": 19, "saledsctid": 10, "resl_no": 20, "inactinit": 8}
	for _, list := range [][]param{addParams, editParams} {
		for _, p := range list {
			if n, ok := want[p.name]; ok && p.maxLen != n {
				t.Errorf("%s: max length %d, want %d", p.label, p.maxLen, n)
			}
		}
	}
	if custNumOrNameMax != 50 {
		t.Errorf("CustNumOrName max length %d, want 50", custNumOrNameMax)
	}
	if got := addParams[4].choices; len(got) != 11 || got[0] != "SOUTHERN CA" {
		t.Errorf("territories = %v", got)
	}
}

// FuzzParams: no request makes the parameter reading or the rules panic;
// what they accept is valid UTF-8 within the limits, and every refusal
// names a parameter in a message that is valid UTF-8.
func FuzzParams(f *testing.F) {
	f.Add("GET", "CustName=CustomerName&Status=Active", "")
	f.Add("POST", "", `{"Custname":"CustomerName","Status":"Active"}`)
	f.Add("POST", "", `{'CUSTNO':'0000000000','CUSTNAME':'CustomerName','ACCT_DATE':'YYYY-MM-DD00:00:00','STATUS':'Active','territory':'NEW ENGLAND'}`)
	f.Add("GET", "CUSTNO=0000000000&CUSTNAME=CustomerName&ACCT_DATE=YYYY-MM-DD00:00:00&STATUS=Active&territory=NEW%20ENGLAND", "")
	f.Add("GET", "Custname=%zz&a=1&A=2", "")
	f.Add("POST", "Credlimit=-1", `{"Credlimit":1e400,"Acctaxable":"maybe"}`)
	f.Add("POST", "", "{\"Custname\":\"\xc3\x28\"}")
	f.Add("POST", "", `{"Status":{"x":[1,2]}}`)
	f.Add("POST", "", `{"Acct_date":"02/30/2024","Inactdt":"2024-01-01"}`)
	f.Fuzz(func(t *testing.T, method, query, body string) {
		if method != http.MethodPost {
			method = http.MethodGet
		}
		r := httptest.NewRequest(method, "/API/Customer/Add/K", strings.NewReader(body))
		r.URL.RawQuery = query
		p, err := readParams(r)
		if err != nil {
			var pe *paramError
			if !errors.Is(err, errNoModel) && (!errors.As(err, &pe) || pe.name == "" || !utf8.ValidString(pe.Error())) {
				t.Fatalf("readParams error %#v", err)
			}
			return
		}
		for _, list := range [][]param{addParams, editParams} {
			c := &customerv1.Customer{}
			paths, err := apply(c, p, list)
			if err != nil {
				if !utf8.ValidString(err.Error()) || !strings.Contains(err.Error(), " ") {
					t.Fatalf("apply error %q", err)
				}
				continue
			}
			for _, s := range []string{c.GetName(), c.GetPhone(), c.GetFax(), c.GetTerritory(), c.GetTerms(), c.GetSalesDiscountId()} {
				if textrule.Line(s) != "" || utf8.RuneCountInString(s) > 50 {
					t.Fatalf("accepted %q", s)
				}
			}
			if slices.Contains(paths, "name") && textrule.Name(c.GetName()) != "" {
				t.Fatalf("accepted name %q", c.GetName())
			}
			if len(paths) > len(list) {
				t.Fatalf("paths %v", paths)
			}
		}
	})
}
