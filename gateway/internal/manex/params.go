package manex

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/abacus-ledger/abacus/gateway/internal/query"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// params are a request's parameters by lower-cased name: MANEX matches
// names case-insensitively (Custname, CUSTNAME and custname are one).
type params map[string]string

// readParams merges the query string and, for POST, the JSON body; the body
// wins. Body values may be strings, numbers or booleans (kept as their JSON
// text); null means not sent.
func readParams(r *http.Request) (params, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return params{}, fmt.Errorf("query: %w", err)
	}
	p, err := query.Lower(q)
	if err != nil {
		return params{}, err
	}
	if r.Method != http.MethodPost || r.Body == nil {
		return p, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return p, fmt.Errorf("read body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return p, errors.New("body is not a JSON object")
	}
	seen := map[string]bool{}
	for k, v := range raw {
		lk := strings.ToLower(k)
		if seen[lk] {
			return p, &query.RepeatedError{Name: k}
		}
		seen[lk] = true
		text, present, err := scalarText(v)
		if err != nil {
			return p, fmt.Errorf("%s: %w", k, err)
		}
		if present {
			p[lk] = text
		} else {
			delete(p, lk)
		}
	}
	return p, nil
}

func scalarText(v json.RawMessage) (text string, present bool, err error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", false, nil
	case v[0] == '"':
		err := json.Unmarshal(v, &text)
		return text, err == nil, err
	case v[0] == '{' || v[0] == '[':
		return "", false, errors.New("not a single value")
	default: // number or boolean: its JSON text is its value
		return string(v), true, nil
	}
}

type kind int

const (
	text kind = iota
	amount
	date
	flag
	acctStatus
)

// field maps a MANEX parameter onto a Customer field.
type field struct {
	param string // lower-cased
	label string // as the seed spells it, for messages
	proto protoreflect.Name
	kind  kind
}

// fields are the parameters Add and Edit accept, in the seed's order so that
// the first bad one is reported deterministically. Custno names the customer
// on Edit and is handled apart.
var fields = []field{
	{"custname", "Custname", "name", text},
	{"status", "Status", "status", acctStatus},
	{"phone", "Phone", "phone", text},
	{"fax", "Fax", "fax", text},
	{"territory", "Territory", "territory", text},
	{"terms", "Terms", "terms", text},
	{"credlimit", "Credlimit", "credit_limit", amount},
	{"creditok", "Creditok", "credit_status", text},
	{"resl_no", "Resl_no", "reseller_number", text},
	{"ar_highbal", "Ar_highBal", "ar_high_balance", amount},
	{"acct_date", "Acct_date", "account_date", date},
	{"saledsctid", "Saledsctid", "sales_discount_id", text},
	{"acctaxable", "Acctaxable", "account_taxable", flag},
	{"inactdt", "Inactdt", "inactive_time", date},
	{"inactinit", "Inactinit", "inactive_initials", text},
}

// Dates are MM/DD/YYYY per the seed; its Edit example also sends ISO dates,
// so those are accepted too. MANEX has no zone; Abacus reads them as UTC.
var dateLayouts = []string{"1/2/2006", "2006-01-02", "2006-01-02T15:04:05", "2006-01-0215:04:05", "2006-01-02 15:04:05"}

// apply sets the fields present in p on c and returns the proto paths set,
// or a message naming the first bad parameter and its rule. strictStatus is
// Add's rule (camel-cased Active, Inactive, Quote); Edit takes any case.
func apply(c *customerv1.Customer, p params, strictStatus bool) (paths []string, problem string) {
	m := c.ProtoReflect()
	for _, f := range fields {
		v, ok := p[f.param]
		if !ok {
			continue
		}
		fd := m.Descriptor().Fields().ByName(f.proto)
		switch f.kind {
		case text:
			m.Set(fd, protoreflect.ValueOfString(v))
		case amount:
			d, err := decimal.NewFromString(v)
			if err != nil || d.IsNegative() {
				return nil, f.label + " must be a number greater than or equal to 0."
			}
			m.Set(fd, protoreflect.ValueOfString(d.String()))
		case date:
			t, ok := parseDate(v)
			if !ok {
				return nil, f.label + " must be in MM/DD/YYYY format."
			}
			m.Set(fd, protoreflect.ValueOfMessage(timestamppb.New(t).ProtoReflect()))
		case flag:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, f.label + " must be true or false."
			}
			m.Set(fd, protoreflect.ValueOfBool(b))
		case acctStatus:
			st, ok := parseStatus(v, strictStatus)
			if !ok {
				return nil, f.label + " can be: Active, Inactive, Quote."
			}
			m.Set(fd, protoreflect.ValueOfEnum(protoreflect.EnumNumber(st)))
		}
		paths = append(paths, string(f.proto))
	}
	return paths, ""
}

func parseDate(v string) (time.Time, bool) {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var statuses = map[string]customerv1.CustomerStatus{
	"Active":   customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE,
	"Inactive": customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE,
	"Quote":    customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE,
}

func parseStatus(v string, strict bool) (customerv1.CustomerStatus, bool) {
	if st, ok := statuses[v]; ok {
		return st, true
	}
	if strict {
		return 0, false
	}
	for name, st := range statuses {
		if strings.EqualFold(name, v) {
			return st, true
		}
	}
	return 0, false
}

// isCustomerNumber reports whether s is a MANEX customer number: ten digits.
func isCustomerNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
