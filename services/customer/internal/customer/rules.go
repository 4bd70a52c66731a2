package customer

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/services/customer/internal/record"
	"github.com/abacus-ledger/abacus/services/platform/textrule"
)

// The MANEX lists (seed 004).
var (
	territories = []string{
		"SOUTHERN CA", "NORTHERN CA", "EAST", "WEST", "MIDWEST", "NEW ENGLAND",
		"SOUTH", "GREAT LAKES", "MEXICO", "CANADA", "UNITED KINGDOM",
	}
	salesTerms     = []string{"NET 10", "NET 15", "NET 30", "NET 30/2% 10", "NET 45", "COD", "NONE"}
	creditStatuses = []string{"OK", "HOLD", "REJECT"}
)

var (
	numberPattern  = regexp.MustCompile(`^[0-9]{10}$`)
	decimalPattern = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
)

// Length limits in characters, as in the proto.
const (
	maxName = 50
	maxNote = 4000
)

// Every decimal column is numeric(19,4).
const (
	decimalScale         = 4
	decimalIntegerDigits = 15
	maxDecimalText       = 64
)

var decimalBound = decimal.New(1, decimalIntegerDigits)

// ParseDecimal parses the decimal string s of field exactly: an optional
// minus sign, digits, and optionally a point and digits. "" is zero, as an
// unset proto string is. The range is checked when the customer is.
func ParseDecimal(field, s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Zero, nil
	}
	if len(s) > maxDecimalText || !decimalPattern.MatchString(s) {
		return decimal.Decimal{}, invalid(field, "must be a decimal number such as 1234.56")
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, invalid(field, "must be a decimal number such as 1234.56")
	}
	return d, nil
}

// checkDecimal requires d to fit numeric(19,4) without rounding.
func checkDecimal(field string, d decimal.Decimal, nonNegative bool) error {
	if nonNegative && d.IsNegative() {
		return invalid(field, "must be >= 0")
	}
	if !d.Equal(d.Truncate(decimalScale)) {
		return invalid(field, "must have at most %d decimal places", decimalScale)
	}
	if d.Abs().GreaterThanOrEqual(decimalBound) {
		return invalid(field, "must have at most %d digits before the decimal point", decimalIntegerDigits)
	}
	return nil
}

// checkText requires valid UTF-8 of at most max characters without NUL,
// which PostgreSQL text cannot hold.
func checkText(field, s string, max int) error {
	switch {
	case !utf8.ValidString(s):
		return invalid(field, "must be valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return invalid(field, "must not contain NUL characters")
	case utf8.RuneCountInString(s) > max:
		return invalid(field, "must be at most %d characters", max)
	}
	return nil
}

// checkOneOf allows "" or one of list, exactly as spelled.
func checkOneOf(field, s string, list []string) error {
	if s == "" || slices.Contains(list, s) {
		return nil
	}
	return invalid(field, "must be one of %s, or empty", strings.Join(list, ", "))
}

// checkTextRule is checkText, then one of textrule's rules for the kind of
// text the field holds.
func checkTextRule(field, s string, max int, rule func(string) string) error {
	if err := checkText(field, s, max); err != nil {
		return err
	}
	if broken := rule(s); broken != "" {
		return invalid(field, "%s", broken)
	}
	return nil
}

// checkKey applies textrule's rule for keys to a customer's key, which may
// be empty: a customer need not have one.
func checkKey(key string) error {
	if key == "" {
		return nil
	}
	if rule := textrule.Key(key); rule != "" {
		return invalid("customer_key", "%s", rule)
	}
	return nil
}

// customerField is the rule for one settable field, by its proto name.
type customerField struct {
	name  string
	check func(c *record.Customer) error
}

var (
	// customerFields are the fields a caller sets, with the MANEX rules, in
	// the record's order (the first broken rule is the one reported). They
	// are the record.Customer fields with a rule tag.
	customerFields []customerField
	// fieldByName indexes customerFields.
	fieldByName = map[string]customerField{}
	// outputOnly are the fields the service sets: those without a rule.
	// modify_time is the exception an update may name (see Service.Update).
	outputOnly = map[string]bool{}
)

func init() {
	t := reflect.TypeFor[record.Customer]()
	for i := range t.NumField() {
		name, tag := t.Field(i).Tag.Get("db"), t.Field(i).Tag.Get("rule")
		if tag == "" {
			outputOnly[name] = true
			continue
		}
		f := customerField{name, ruleFor(t.Field(i), name, tag)}
		customerFields = append(customerFields, f)
		fieldByName[name] = f
	}
}

// ruleFor returns the check that the rule tag names for field sf: "key",
// "number", "name", "status", "line N" (a line of at most N characters),
// "note", "territory", "terms", "credit" (one of the MANEX lists),
// "amount" (a decimal >= 0), "decimal", or "any". A tag that does not fit
// the field's type is a programming error, found at start-up.
func ruleFor(sf reflect.StructField, name, tag string) func(*record.Customer) error {
	rule, arg, _ := strings.Cut(tag, " ")
	field := func(c *record.Customer) reflect.Value { return reflect.ValueOf(c).Elem().FieldByIndex(sf.Index) }
	str := func(c *record.Customer) string { return field(c).String() }
	dec := func(c *record.Customer) decimal.Decimal { return field(c).Interface().(decimal.Decimal) }
	want := func(t reflect.Type) {
		if sf.Type != t {
			panic(fmt.Sprintf("customer: rule %q does not fit record.Customer.%s (%s)", tag, sf.Name, sf.Type))
		}
	}
	oneOf := func(list []string) func(*record.Customer) error {
		want(reflect.TypeFor[string]())
		return func(c *record.Customer) error { return checkOneOf(name, str(c), list) }
	}
	number := func(nonNegative bool) func(*record.Customer) error {
		want(reflect.TypeFor[decimal.Decimal]())
		return func(c *record.Customer) error { return checkDecimal(name, dec(c), nonNegative) }
	}
	switch rule {
	case "line":
		want(reflect.TypeFor[string]())
		max, err := strconv.Atoi(arg)
		if err != nil || max <= 0 {
			panic(fmt.Sprintf("customer: rule %q of record.Customer.%s needs a length", tag, sf.Name))
		}
		// A short single-line attribute (phone, codes, initials): no line
		// breaks, tabs or invisible formatting characters either.
		return func(c *record.Customer) error { return checkTextRule(name, str(c), max, textrule.Line) }
	case "note":
		// Free text: notes may span lines and hold any character but NUL,
		// since Abacus never matches on them or shows them in a column.
		want(reflect.TypeFor[string]())
		return func(c *record.Customer) error { return checkText(name, str(c), maxNote) }
	case "name":
		want(reflect.TypeFor[string]())
		return func(c *record.Customer) error { return checkTextRule(name, str(c), maxName, textrule.Name) }
	case "key":
		want(reflect.TypeFor[string]())
		return func(c *record.Customer) error { return checkKey(str(c)) }
	case "number":
		want(reflect.TypeFor[string]())
		return func(c *record.Customer) error {
			if s := str(c); s != "" && !numberPattern.MatchString(s) {
				return invalid(name, "must be 10 digits")
			}
			return nil
		}
	case "status":
		want(reflect.TypeFor[record.Status]())
		return func(c *record.Customer) error {
			if s := record.Status(field(c).Int()); s != record.StatusUnspecified && !s.Valid() {
				return invalid(name, "must be Active, Inactive or Quote")
			}
			return nil
		}
	case "territory":
		return oneOf(territories)
	case "terms":
		return oneOf(salesTerms)
	case "credit":
		return oneOf(creditStatuses)
	case "amount":
		return number(true)
	case "decimal":
		return number(false)
	case "any":
		// Bools and times: any value of the type is good.
		return func(*record.Customer) error { return nil }
	}
	panic(fmt.Sprintf("customer: record.Customer.%s has an unknown rule %q", sf.Name, tag))
}

const modifyTimeField = "modify_time"

// extendedFieldNumber returns n for "fieldN", 1 <= N <= 30.
func extendedFieldNumber(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "field")
	if !ok || digits == "" || digits[0] == '0' || len(digits) > 2 || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > ExtendedFieldCount {
		return 0, false
	}
	return n, true
}
