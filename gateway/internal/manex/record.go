package manex

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// attribute is one key of MANEX's customer record: the Customer field
// behind it, how its value is read and written, and the parameter of Add
// and Edit that sets it, when one does. It is the only place the gateway
// pairs a MANEX name with a Customer field.
type attribute struct {
	key   string            // in the record, as the seed spells it
	proto protoreflect.Name // the Customer field
	kind  kind
	// editKind is how Edit reads the parameter, when not as kind.
	editKind kind
	// param is the parameter as the seed spells it ("" when no action
	// takes one); a client may send it under the record key too.
	param string
	on    takenBy

	fd protoreflect.FieldDescriptor // filled in from the proto
}

// takenBy says which actions take an attribute's parameter.
type takenBy uint8

const (
	onAdd takenBy = 1 << iota
	onEdit
	addRequires
	// requiredOnAdd: Add takes it and refuses to go without it. Add checks
	// the required parameters first.
	requiredOnAdd = onAdd | addRequires
)

// attributes are the record's keys in the order of the seed's examples
// (Add puts LinkAddList last, Get first), which is also the order in which
// Edit checks its parameters, with the seed's JSON types: strings, numbers,
// booleans, and dates that are null when unset.
//
// Values are written without the trailing blanks of the seed's Get example:
// those are SQL Server's char(n) padding, which the same server's Add
// example does not show, so MANEX clients already cope with both.
var attributes = resolve([]attribute{
	{key: "CUSTNO", proto: "customer_number", kind: kindText}, // Custno names the customer: the actions read it
	{key: "CUSTNAME", proto: "name", kind: kindName, param: "Custname", on: requiredOnAdd | onEdit},
	{key: "PHONE", proto: "phone", kind: kindText, param: "Phone", on: onAdd | onEdit},
	{key: "FAX", proto: "fax", kind: kindText, param: "Fax", on: onAdd | onEdit},
	{key: "BLINKADD", proto: "bill_link_address", kind: kindText},
	{key: "SLINKADD", proto: "ship_link_address", kind: kindText},
	{key: "TERRITORY", proto: "territory", kind: kindChoice, param: "Territory", on: onAdd | onEdit},
	{key: "TERMS", proto: "terms", kind: kindChoice, param: "Terms", on: onAdd | onEdit},
	{key: "CREDLIMIT", proto: "credit_limit", kind: kindAmount, param: "Credlimit", on: onAdd | onEdit},
	{key: "PROFILE", proto: "profile", kind: kindText},
	{key: "CUSTNOTE", proto: "note", kind: kindText},
	{key: "ACCTSTATUS", proto: "account_status", kind: kindText},
	{key: "DIVISION", proto: "division", kind: kindText},
	{key: "SREPS", proto: "sales_reps", kind: kindText},
	{key: "CREDITOK", proto: "credit_status", kind: kindChoice, param: "Creditok", on: onAdd | onEdit},
	{key: "RESL_NO", proto: "reseller_number", kind: kindText, param: "Resl_no", on: onEdit},
	{key: "AR_CALDATE", proto: "ar_call_time", kind: kindDate},
	{key: "AR_CALTIME", proto: "ar_call_time_text", kind: kindText},
	{key: "AR_CALBY", proto: "ar_call_by", kind: kindText},
	{key: "AR_CALNOTE", proto: "ar_call_note", kind: kindText},
	{key: "AR_HIGHBAL", proto: "ar_high_balance", kind: kindAmount, param: "Ar_highBal", on: onAdd | onEdit},
	{key: "CREDITNOTE", proto: "credit_note", kind: kindText},
	{key: "ACCT_DATE", proto: "account_date", kind: kindDate, editKind: kindEditAcctDate, param: "Acct_date", on: onAdd | onEdit},
	{key: "SAVEINIT", proto: "save_initials", kind: kindText},
	{key: "OUT_MARGIN", proto: "outside_margin", kind: kindAmount},
	{key: "TL_MARGIN", proto: "tooling_margin", kind: kindAmount},
	{key: "MAT_MARGIN", proto: "material_margin", kind: kindAmount},
	{key: "LAB_MARGIN", proto: "labor_margin", kind: kindAmount},
	{key: "MIN_ORDAMT", proto: "minimum_order_amount", kind: kindAmount},
	{key: "SCRAP_FACT", proto: "scrap_factor", kind: kindAmount},
	{key: "COMMITEM", proto: "commission_item", kind: kindAmount},
	{key: "CUSTSPEC", proto: "customer_spec", kind: kindAmount},
	{key: "LABOR", proto: "labor", kind: kindFlag},
	{key: "MATERIAL", proto: "material", kind: kindFlag},
	{key: "SPLIT1", proto: "split1", kind: kindAmount},
	{key: "SPLIT2", proto: "split2", kind: kindAmount},
	{key: "SPLITAMT", proto: "split_amount", kind: kindAmount},
	{key: "SPLITPERC", proto: "split_percent", kind: kindAmount},
	{key: "TOOLING", proto: "tooling", kind: kindFlag},
	{key: "SIC_CODE", proto: "sic_code", kind: kindText},
	{key: "SIC_DESC", proto: "sic_description", kind: kindText},
	{key: "DELIVTIME", proto: "delivery_time", kind: kindText},
	{key: "STATUS", proto: "status", kind: kindAddStatus, editKind: kindEditStatus, param: "Status", on: requiredOnAdd | onEdit},
	{key: "SERIFLAG", proto: "serial_flag", kind: kindFlag},
	{key: "OVERHEAD", proto: "overhead", kind: kindAmount},
	{key: "IS_EDITED", proto: "is_edited", kind: kindText},
	{key: "SALEDSCTID", proto: "sales_discount_id", kind: kindText, param: "Saledsctid", on: onAdd | onEdit},
	{key: "CUSTPFX", proto: "customer_prefix", kind: kindText},
	{key: "ACTTAXABLE", proto: "account_taxable", kind: kindFlag, param: "Acctaxable", on: onAdd | onEdit},
	{key: "INACTDT", proto: "inactive_time", kind: kindDate, param: "Inactdt", on: onEdit},
	{key: "INACTINIT", proto: "inactive_initials", kind: kindText, param: "Inactinit", on: onEdit},
	{key: "modifiedDate", proto: "modify_time", kind: kindDate, param: "modifieddate", on: onEdit},
	// MANEX's user id is null in both examples; Abacus has it only when a
	// native client set one.
	{key: "UserId", proto: "user_id", kind: kindOptionalText},
})

// resolve looks up each attribute's field in the Customer descriptor; a
// name that is not there is a programming error.
func resolve(list []attribute) []attribute {
	fields := (&customerv1.Customer{}).ProtoReflect().Descriptor().Fields()
	for i := range list {
		a := &list[i]
		if a.fd = fields.ByName(a.proto); a.fd == nil {
			panic(fmt.Sprintf("manex: abacus.customer.v1.Customer has no field %s", a.proto))
		}
	}
	return list
}

// value writes the attribute of m in the record.
func (a *attribute) value(m protoreflect.Message) any {
	v := m.Get(a.fd)
	switch a.kind {
	case kindAmount:
		return number(v.String())
	case kindDate:
		if !m.Has(a.fd) {
			return nil
		}
		return timestamp(v.Message().Interface().(*timestamppb.Timestamp))
	case kindFlag:
		return v.Bool()
	case kindAddStatus:
		return statusName(customerv1.CustomerStatus(v.Enum()))
	case kindOptionalText:
		if v.String() == "" {
			return nil
		}
	}
	return v.String()
}

// addRecord is the record of the seed's Add answer: LinkAddList last. Its
// dates are written as Get writes them (see layoutPlain).
func addRecord(c *customerv1.Customer) Object {
	m := c.ProtoReflect()
	out := make(Object, 0, len(attributes)+1)
	for i := range attributes {
		out = append(out, Member{attributes[i].key, attributes[i].value(m)})
	}
	return append(out, Member{"LinkAddList", nil})
}

// getRecord is the record of the seed's Get answer: LinkAddList first.
func getRecord(c *customerv1.Customer) Object {
	m := c.ProtoReflect()
	out := make(Object, 0, len(attributes)+1)
	out = append(out, Member{"LinkAddList", nil})
	for i := range attributes {
		out = append(out, Member{attributes[i].key, attributes[i].value(m)})
	}
	return out
}

// number writes a decimal string as a JSON number without a float; the
// service sends canonical decimals, and empty is 0.
func number(s string) json.Number {
	if s == "" {
		return "0"
	}
	return json.Number(s)
}

func timestamp(ts *timestamppb.Timestamp) any {
	if ts == nil {
		return nil
	}
	return ts.AsTime().UTC().Format(layoutPlain)
}
