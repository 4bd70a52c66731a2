package manex

import (
	"encoding/json"

	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// recordField is one key of MANEX's customer record and how to write it from
// a Customer; dateLayout is the form of the record's dates.
type recordField struct {
	key   string
	value func(c *customerv1.Customer, dateLayout string) any
}

func str(get func(*customerv1.Customer) string) func(*customerv1.Customer, string) any {
	return func(c *customerv1.Customer, _ string) any { return get(c) }
}

func num(get func(*customerv1.Customer) string) func(*customerv1.Customer, string) any {
	return func(c *customerv1.Customer, _ string) any { return number(get(c)) }
}

func flag(get func(*customerv1.Customer) bool) func(*customerv1.Customer, string) any {
	return func(c *customerv1.Customer, _ string) any { return get(c) }
}

func date(get func(*customerv1.Customer) *timestamppb.Timestamp) func(*customerv1.Customer, string) any {
	return func(c *customerv1.Customer, layout string) any { return timestamp(get(c), layout) }
}

// recordFields are the record's keys in the order of the seed's examples
// (Add puts LinkAddList last, Get first), with the seed's JSON types:
// strings, numbers, booleans, and dates that are null when unset.
//
// Values are written without the trailing blanks of the seed's Get example:
// those are SQL Server's char(n) padding, which the same server's Add
// example does not show, so MANEX clients already cope with both.
var recordFields = []recordField{
	{"CUSTNO", str((*customerv1.Customer).GetCustomerNumber)},
	{"CUSTNAME", str((*customerv1.Customer).GetName)},
	{"PHONE", str((*customerv1.Customer).GetPhone)},
	{"FAX", str((*customerv1.Customer).GetFax)},
	{"BLINKADD", str((*customerv1.Customer).GetBillLinkAddress)},
	{"SLINKADD", str((*customerv1.Customer).GetShipLinkAddress)},
	{"TERRITORY", str((*customerv1.Customer).GetTerritory)},
	{"TERMS", str((*customerv1.Customer).GetTerms)},
	{"CREDLIMIT", num((*customerv1.Customer).GetCreditLimit)},
	{"PROFILE", str((*customerv1.Customer).GetProfile)},
	{"CUSTNOTE", str((*customerv1.Customer).GetNote)},
	{"ACCTSTATUS", str((*customerv1.Customer).GetAccountStatus)},
	{"DIVISION", str((*customerv1.Customer).GetDivision)},
	{"SREPS", str((*customerv1.Customer).GetSalesReps)},
	{"CREDITOK", str((*customerv1.Customer).GetCreditStatus)},
	{"RESL_NO", str((*customerv1.Customer).GetResellerNumber)},
	{"AR_CALDATE", date((*customerv1.Customer).GetArCallTime)},
	{"AR_CALTIME", str((*customerv1.Customer).GetArCallTimeText)},
	{"AR_CALBY", str((*customerv1.Customer).GetArCallBy)},
	{"AR_CALNOTE", str((*customerv1.Customer).GetArCallNote)},
	{"AR_HIGHBAL", num((*customerv1.Customer).GetArHighBalance)},
	{"CREDITNOTE", str((*customerv1.Customer).GetCreditNote)},
	{"ACCT_DATE", date((*customerv1.Customer).GetAccountDate)},
	{"SAVEINIT", str((*customerv1.Customer).GetSaveInitials)},
	{"OUT_MARGIN", num((*customerv1.Customer).GetOutsideMargin)},
	{"TL_MARGIN", num((*customerv1.Customer).GetToolingMargin)},
	{"MAT_MARGIN", num((*customerv1.Customer).GetMaterialMargin)},
	{"LAB_MARGIN", num((*customerv1.Customer).GetLaborMargin)},
	{"MIN_ORDAMT", num((*customerv1.Customer).GetMinimumOrderAmount)},
	{"SCRAP_FACT", num((*customerv1.Customer).GetScrapFactor)},
	{"COMMITEM", num((*customerv1.Customer).GetCommissionItem)},
	{"CUSTSPEC", num((*customerv1.Customer).GetCustomerSpec)},
	{"LABOR", flag((*customerv1.Customer).GetLabor)},
	{"MATERIAL", flag((*customerv1.Customer).GetMaterial)},
	{"SPLIT1", num((*customerv1.Customer).GetSplit1)},
	{"SPLIT2", num((*customerv1.Customer).GetSplit2)},
	{"SPLITAMT", num((*customerv1.Customer).GetSplitAmount)},
	{"SPLITPERC", num((*customerv1.Customer).GetSplitPercent)},
	{"TOOLING", flag((*customerv1.Customer).GetTooling)},
	{"SIC_CODE", str((*customerv1.Customer).GetSicCode)},
	{"SIC_DESC", str((*customerv1.Customer).GetSicDescription)},
	{"DELIVTIME", str((*customerv1.Customer).GetDeliveryTime)},
	{"STATUS", func(c *customerv1.Customer, _ string) any { return statusName(c.GetStatus()) }},
	{"SERIFLAG", flag((*customerv1.Customer).GetSerialFlag)},
	{"OVERHEAD", num((*customerv1.Customer).GetOverhead)},
	{"IS_EDITED", str((*customerv1.Customer).GetIsEdited)},
	{"SALEDSCTID", str((*customerv1.Customer).GetSalesDiscountId)},
	{"CUSTPFX", str((*customerv1.Customer).GetCustomerPrefix)},
	{"ACTTAXABLE", flag((*customerv1.Customer).GetAccountTaxable)},
	{"INACTDT", date((*customerv1.Customer).GetInactiveTime)},
	{"INACTINIT", str((*customerv1.Customer).GetInactiveInitials)},
	{"modifiedDate", date((*customerv1.Customer).GetModifyTime)},
	// MANEX's user id is null in both examples; Abacus has it only when a
	// native client set one.
	{"UserId", func(c *customerv1.Customer, _ string) any {
		if c.GetUserId() == "" {
			return nil
		}
		return c.GetUserId()
	}},
}

// addRecord is the record of the seed's Add answer: dates with their zone
// offset, LinkAddList last.
func addRecord(c *customerv1.Customer) Object {
	out := make(Object, 0, len(recordFields)+1)
	for _, f := range recordFields {
		out = append(out, Member{f.key, f.value(c, layoutWithOffset)})
	}
	return append(out, Member{"LinkAddList", nil})
}

// getRecord is the record of the seed's Get answer: LinkAddList first, dates
// without an offset.
func getRecord(c *customerv1.Customer) Object {
	out := make(Object, 0, len(recordFields)+1)
	out = append(out, Member{"LinkAddList", nil})
	for _, f := range recordFields {
		out = append(out, Member{f.key, f.value(c, layoutPlain)})
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

func timestamp(ts *timestamppb.Timestamp, layout string) any {
	if ts == nil {
		return nil
	}
	return ts.AsTime().UTC().Format(layout)
}
