package customer

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

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
	check func(c *Customer) error
}

// note is free text: notes may span lines and hold any character but NUL,
// since Abacus never matches on them or shows them in a column.
func note(name string, get func(*Customer) string) customerField {
	return customerField{name, func(c *Customer) error { return checkText(name, get(c), maxNote) }}
}

// line is a short single-line attribute (phone, codes, initials): no line
// breaks, tabs or invisible formatting characters either (textrule.Line).
func line(name string, max int, get func(*Customer) string) customerField {
	return customerField{name, func(c *Customer) error { return checkTextRule(name, get(c), max, textrule.Line) }}
}

func oneOf(name string, list []string, get func(*Customer) string) customerField {
	return customerField{name, func(c *Customer) error { return checkOneOf(name, get(c), list) }}
}

func number(name string, nonNegative bool, get func(*Customer) decimal.Decimal) customerField {
	return customerField{name, func(c *Customer) error { return checkDecimal(name, get(c), nonNegative) }}
}

// free is a field any value of its type is good for (bools and times).
func free(name string) customerField {
	return customerField{name, func(*Customer) error { return nil }}
}

// customerFields are the fields a caller sets, with the MANEX rules.
var customerFields = []customerField{
	{"customer_key", func(c *Customer) error { return checkKey(c.Key) }},
	{"customer_number", func(c *Customer) error {
		if c.Number != "" && !numberPattern.MatchString(c.Number) {
			return invalid("customer_number", "must be 10 digits")
		}
		return nil
	}},
	{"name", func(c *Customer) error { return checkTextRule("name", c.Name, maxName, textrule.Name) }},
	{"status", func(c *Customer) error {
		if c.Status != StatusUnspecified && !c.Status.Valid() {
			return invalid("status", "must be Active, Inactive or Quote")
		}
		return nil
	}},
	line("phone", 19, func(c *Customer) string { return c.Phone }),
	line("fax", 19, func(c *Customer) string { return c.Fax }),
	line("bill_link_address", 10, func(c *Customer) string { return c.BillLinkAddress }),
	line("ship_link_address", 10, func(c *Customer) string { return c.ShipLinkAddress }),
	oneOf("territory", territories, func(c *Customer) string { return c.Territory }),
	oneOf("terms", salesTerms, func(c *Customer) string { return c.Terms }),
	number("credit_limit", true, func(c *Customer) decimal.Decimal { return c.CreditLimit }),
	note("profile", func(c *Customer) string { return c.Profile }),
	note("note", func(c *Customer) string { return c.Note }),
	line("account_status", 20, func(c *Customer) string { return c.AccountStatus }),
	line("division", 20, func(c *Customer) string { return c.Division }),
	line("sales_reps", 100, func(c *Customer) string { return c.SalesReps }),
	oneOf("credit_status", creditStatuses, func(c *Customer) string { return c.CreditStatus }),
	line("reseller_number", 20, func(c *Customer) string { return c.ResellerNumber }),
	free("ar_call_time"),
	line("ar_call_time_text", 8, func(c *Customer) string { return c.ARCallTimeText }),
	line("ar_call_by", 10, func(c *Customer) string { return c.ARCallBy }),
	note("ar_call_note", func(c *Customer) string { return c.ARCallNote }),
	number("ar_high_balance", true, func(c *Customer) decimal.Decimal { return c.ARHighBalance }),
	note("credit_note", func(c *Customer) string { return c.CreditNote }),
	free("account_date"),
	line("save_initials", 8, func(c *Customer) string { return c.SaveInitials }),
	number("outside_margin", false, func(c *Customer) decimal.Decimal { return c.OutsideMargin }),
	number("tooling_margin", false, func(c *Customer) decimal.Decimal { return c.ToolingMargin }),
	number("material_margin", false, func(c *Customer) decimal.Decimal { return c.MaterialMargin }),
	number("labor_margin", false, func(c *Customer) decimal.Decimal { return c.LaborMargin }),
	number("minimum_order_amount", false, func(c *Customer) decimal.Decimal { return c.MinimumOrderAmount }),
	number("scrap_factor", false, func(c *Customer) decimal.Decimal { return c.ScrapFactor }),
	number("commission_item", false, func(c *Customer) decimal.Decimal { return c.CommissionItem }),
	number("customer_spec", false, func(c *Customer) decimal.Decimal { return c.CustomerSpec }),
	free("labor"),
	free("material"),
	number("split1", false, func(c *Customer) decimal.Decimal { return c.Split1 }),
	number("split2", false, func(c *Customer) decimal.Decimal { return c.Split2 }),
	number("split_amount", false, func(c *Customer) decimal.Decimal { return c.SplitAmount }),
	number("split_percent", false, func(c *Customer) decimal.Decimal { return c.SplitPercent }),
	free("tooling"),
	line("sic_code", 8, func(c *Customer) string { return c.SICCode }),
	line("sic_description", 100, func(c *Customer) string { return c.SICDescription }),
	line("delivery_time", 20, func(c *Customer) string { return c.DeliveryTime }),
	free("serial_flag"),
	number("overhead", false, func(c *Customer) decimal.Decimal { return c.Overhead }),
	line("is_edited", 1, func(c *Customer) string { return c.IsEdited }),
	line("sales_discount_id", 10, func(c *Customer) string { return c.SalesDiscountID }),
	line("customer_prefix", 10, func(c *Customer) string { return c.CustomerPrefix }),
	free("account_taxable"),
	free("inactive_time"),
	line("inactive_initials", 8, func(c *Customer) string { return c.InactiveInitials }),
	line("user_id", 50, func(c *Customer) string { return c.UserID }),
}

// fieldByName indexes customerFields.
var fieldByName = func() map[string]customerField {
	m := make(map[string]customerField, len(customerFields))
	for _, f := range customerFields {
		m[f.name] = f
	}
	return m
}()

// outputOnly are the fields the service sets. modify_time is the exception
// an update may name (see Service.Update).
var outputOnly = map[string]bool{"customer_id": true, "version": true, "create_time": true, modifyTimeField: true}

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
