package manex

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/textrule"
)

// kind is how a parameter's text becomes a Customer field, and how the
// record writes the field.
type kind int

const (
	_                kind = iota // an attribute's editKind when Edit reads it as kind
	kindName                     // a name (textrule.Name); length limit from the proto
	kindText                     // single-line text (textrule.Line); length limit from the proto
	kindOptionalText             // text, written as null when empty; never a parameter
	kindChoice                   // one of the proto's list, spelled exactly
	kindAmount                   // a decimal, a JSON number in the record; a parameter takes it >= 0
	kindDate                     // MM/DD/YYYY
	kindEditAcctDate             // Edit's Acct_date: MM/DD/YYYY or the seed example's ISO form
	kindFlag                     // true or false
	kindAddStatus                // Active, Inactive, Quote
	kindEditStatus               // those, or ACTIVE, INACTIVE, QUOTE
)

// param is one MANEX parameter of an action.
type param struct {
	name     string            // lower-cased
	label    string            // as the seed spells it, for messages
	alias    string            // another lower-cased name for it, or ""
	proto    protoreflect.Name // the Customer field it sets
	kind     kind
	required bool

	// Filled in from the proto's buf.validate rules, so the gateway refuses
	// exactly what the service would, but with MANEX's names.
	fd      protoreflect.FieldDescriptor
	maxLen  int
	choices []string
}

// The parameters of Add and Edit, in a fixed order, so that the first bad
// one reported is always the same: Add's required ones first, then the
// record's order, as in the seed's tables. Custno names the customer and is
// handled by the actions.
var (
	addParams  = paramsOf(onAdd)
	editParams = paramsOf(onEdit)
)

// paramsOf returns the parameters action takes, from the attributes.
func paramsOf(action takenBy) []param {
	var required, others []param
	for _, a := range attributes {
		if a.on&action == 0 {
			continue
		}
		p := param{name: strings.ToLower(a.param), label: a.param, proto: a.proto, kind: a.kind, fd: a.fd}
		// A client echoing the record back is understood: ACTTAXABLE is
		// Acctaxable (the other keys differ from their parameters in case
		// only).
		if alias := strings.ToLower(a.key); alias != p.name {
			p.alias = alias
		}
		if action == onEdit && a.editKind != 0 {
			p.kind = a.editKind
		}
		if action == onAdd && a.on&addRequires != 0 {
			p.required = true
			required = append(required, p)
			continue
		}
		others = append(others, p)
	}
	return compile(append(required, others...))
}

// custNumOrNameMax is the longest name a lookup takes.
var custNumOrNameMax = func() int {
	fd := (&customerv1.LookupCustomerRequest{}).ProtoReflect().Descriptor().Fields().ByName("name")
	rules, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
	return int(rules.GetString().GetMaxLen())
}()

// Labels of the parameters handled apart from the tables.
const (
	labelCustno        = "Custno"
	labelCustNumOrName = "CustNumOrName"
)

// labels maps every lower-cased MANEX parameter name to its seed spelling.
var labels = func() map[string]string {
	m := map[string]string{"custno": labelCustno, "custnumorname": labelCustNumOrName}
	for _, list := range [][]param{addParams, editParams} {
		for _, p := range list {
			m[p.name] = p.label
			if p.alias != "" {
				m[p.alias] = p.label
			}
		}
	}
	return m
}()

// labelOf names a parameter in a message: the seed's spelling when it is
// MANEX's, else as sent (made printable and short).
func labelOf(name string) string {
	if l, ok := labels[strings.ToLower(name)]; ok {
		return l
	}
	if name == "" {
		return "The parameter without a name"
	}
	name = strings.ToValidUTF8(name, "\uFFFD")
	if utf8.RuneCountInString(name) > 40 {
		name = string([]rune(name)[:40]) + "…"
	}
	return name
}

// compile reads each parameter's rules from the proto's buf.validate
// options; a list field without its list of values is a programming error.
func compile(list []param) []param {
	for i := range list {
		p := &list[i]
		rules, _ := proto.GetExtension(p.fd.Options(), validate.E_Field).(*validate.FieldRules)
		str := rules.GetString()
		p.maxLen = int(str.GetMaxLen())
		for _, c := range str.GetIn() {
			if c != "" {
				p.choices = append(p.choices, c)
			}
		}
		if p.kind == kindChoice && len(p.choices) == 0 {
			panic(fmt.Sprintf("manex: abacus.customer.v1.Customer.%s has no list of values", p.proto))
		}
	}
	return list
}

// lookup returns the parameter's value and whether it was sent; sending it
// under both its name and its alias is an error.
func (p *param) lookup(ps params) (string, bool, error) {
	v, ok := ps[p.name]
	if p.alias == "" {
		return v, ok, nil
	}
	av, aok := ps[p.alias]
	switch {
	case ok && aok:
		return "", false, &paramError{p.label, "is given more than once."}
	case aok:
		return av, true, nil
	}
	return v, ok, nil
}

// apply sets on c the parameters of list present in ps and returns the
// proto paths set, or the first broken rule as a paramError.
func apply(c *customerv1.Customer, ps params, list []param) (paths []string, err error) {
	m := c.ProtoReflect()
	for i := range list {
		p := &list[i]
		text, sent, err := p.lookup(ps)
		if err != nil {
			return nil, err
		}
		if !sent {
			if p.required {
				return nil, &paramError{p.label, "is required."}
			}
			continue
		}
		v, set, rule := p.parse(text)
		if rule != "" {
			return nil, &paramError{p.label, rule}
		}
		if !set {
			continue
		}
		m.Set(p.fd, v)
		paths = append(paths, string(p.proto))
	}
	return paths, nil
}

// Amounts are numeric(19,4) in the customer service.
const (
	amountScale         = 4
	amountIntegerDigits = 15
)

var amountPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

var amountBound = decimal.New(1, amountIntegerDigits)

// parse turns a parameter's text into its field value. set is false when
// the value means "not sent": an empty amount, date or flag (.NET binds ""
// to null for those) and the Edit example's literal date placeholder. rule
// is the broken rule, ready to follow the label.
func (p *param) parse(text string) (v protoreflect.Value, set bool, rule string) {
	if rule := checkText(text, p.maxLen); rule != "" {
		return v, false, rule
	}
	switch p.kind {
	case kindName:
		if p.required && strings.TrimSpace(text) == "" {
			return v, false, "is required."
		}
		if rule := textrule.Name(text); rule != "" {
			return v, false, rule + "."
		}
		return protoreflect.ValueOfString(text), true, ""
	case kindText:
		return protoreflect.ValueOfString(text), true, ""
	case kindChoice:
		if text != "" && !slices.Contains(p.choices, text) {
			return v, false, "must be one of " + strings.Join(p.choices, ", ") + "."
		}
		return protoreflect.ValueOfString(text), true, ""
	case kindAmount:
		if text == "" {
			return v, false, ""
		}
		d, rule := parseAmount(text)
		if rule != "" {
			return v, false, rule
		}
		return protoreflect.ValueOfString(d.String()), true, ""
	case kindDate, kindEditAcctDate:
		text = strings.TrimSpace(text)
		if text == "" {
			return v, false, ""
		}
		t, ok := parseDate(text)
		if !ok && p.kind == kindEditAcctDate {
			if isDatePlaceholder(text) {
				return v, false, ""
			}
			t, ok = parseDateTime(text)
			if !ok {
				return v, false, "must be a valid date in MM/DD/YYYY format (or YYYY-MM-DD HH:MM:SS)."
			}
		}
		if !ok {
			return v, false, "must be a valid date in MM/DD/YYYY format."
		}
		return protoreflect.ValueOfMessage(timestamppb.New(t).ProtoReflect()), true, ""
	case kindFlag:
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "":
			return v, false, ""
		case "true":
			return protoreflect.ValueOfBool(true), true, ""
		case "false":
			return protoreflect.ValueOfBool(false), true, ""
		}
		return v, false, "must be true or false."
	case kindAddStatus, kindEditStatus:
		st, ok := parseStatus(text, p.kind == kindEditStatus)
		switch {
		case ok:
			return protoreflect.ValueOfEnum(st.Number()), true, ""
		case text == "" && p.required:
			return v, false, "is required."
		case p.kind == kindEditStatus:
			return v, false, "must be one of Active, Inactive, Quote (or ACTIVE, INACTIVE, QUOTE)."
		}
		return v, false, "must be one of Active, Inactive, Quote."
	}
	panic(fmt.Sprintf("manex: parameter %s has no kind", p.label))
}

// checkText is the rule every value obeys: single-line text, as the
// customer service requires of every MANEX field (textrule.Line: UTF-8
// without control or invisible formatting characters; none of the lists,
// amounts, dates or flags has any either), and at most maxLen characters
// when the field has a limit.
func checkText(s string, maxLen int) string {
	if rule := textrule.Line(s); rule != "" {
		return rule + "."
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		return fmt.Sprintf("must be at most %d characters.", maxLen)
	}
	return ""
}

// parseAmount reads a non-negative decimal that fits numeric(19,4): digits,
// optionally a point and digits. No sign, exponent or thousands separator.
func parseAmount(s string) (decimal.Decimal, string) {
	const rule = "must be a number greater than or equal to 0."
	if len(s) > 64 || !amountPattern.MatchString(s) {
		return decimal.Decimal{}, rule
	}
	d, err := decimal.NewFromString(s)
	switch {
	case err != nil:
		return decimal.Decimal{}, rule
	case !d.Equal(d.Truncate(amountScale)):
		return decimal.Decimal{}, fmt.Sprintf("must have at most %d decimal places.", amountScale)
	case d.GreaterThanOrEqual(amountBound):
		return decimal.Decimal{}, fmt.Sprintf("must have at most %d digits before the decimal point.", amountIntegerDigits)
	}
	return d, ""
}

// The account statuses: MANEX's camel-cased spelling, and the upper-case one
// the seed's Edit table shows.
var statuses = []struct {
	name  string
	value customerv1.CustomerStatus
}{
	{"Active", customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE},
	{"Inactive", customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE},
	{"Quote", customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE},
}

func parseStatus(s string, upperToo bool) (customerv1.CustomerStatus, bool) {
	for _, st := range statuses {
		if s == st.name || upperToo && s == strings.ToUpper(st.name) {
			return st.value, true
		}
	}
	return 0, false
}

func statusName(s customerv1.CustomerStatus) string {
	for _, st := range statuses {
		if st.value == s {
			return st.name
		}
	}
	return ""
}

// isCustomerNumber reports whether s is a MANEX customer number: ten digits.
func isCustomerNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
