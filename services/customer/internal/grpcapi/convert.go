package grpcapi

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/customer/internal/record"
	"github.com/abacus-ledger/abacus/services/customer/internal/store"
)

// Conversions between the protos and the records, the only place that
// knows both.

func customerToProto(c record.Customer) *customerv1.Customer {
	return &customerv1.Customer{
		CustomerId:         c.ID,
		CustomerKey:        c.Key,
		CustomerNumber:     c.Number,
		Name:               c.Name,
		Status:             statusToProto(c.Status),
		Phone:              c.Phone,
		Fax:                c.Fax,
		BillLinkAddress:    c.BillLinkAddress,
		ShipLinkAddress:    c.ShipLinkAddress,
		Territory:          c.Territory,
		Terms:              c.Terms,
		CreditLimit:        c.CreditLimit.String(),
		Profile:            c.Profile,
		Note:               c.Note,
		AccountStatus:      c.AccountStatus,
		Division:           c.Division,
		SalesReps:          c.SalesReps,
		CreditStatus:       c.CreditStatus,
		ResellerNumber:     c.ResellerNumber,
		ArCallTime:         timeToProto(c.ARCallTime),
		ArCallTimeText:     c.ARCallTimeText,
		ArCallBy:           c.ARCallBy,
		ArCallNote:         c.ARCallNote,
		ArHighBalance:      c.ARHighBalance.String(),
		CreditNote:         c.CreditNote,
		AccountDate:        timeToProto(c.AccountDate),
		SaveInitials:       c.SaveInitials,
		OutsideMargin:      c.OutsideMargin.String(),
		ToolingMargin:      c.ToolingMargin.String(),
		MaterialMargin:     c.MaterialMargin.String(),
		LaborMargin:        c.LaborMargin.String(),
		MinimumOrderAmount: c.MinimumOrderAmount.String(),
		ScrapFactor:        c.ScrapFactor.String(),
		CommissionItem:     c.CommissionItem.String(),
		CustomerSpec:       c.CustomerSpec.String(),
		Labor:              c.Labor,
		Material:           c.Material,
		Split1:             c.Split1.String(),
		Split2:             c.Split2.String(),
		SplitAmount:        c.SplitAmount.String(),
		SplitPercent:       c.SplitPercent.String(),
		Tooling:            c.Tooling,
		SicCode:            c.SICCode,
		SicDescription:     c.SICDescription,
		DeliveryTime:       c.DeliveryTime,
		SerialFlag:         c.SerialFlag,
		Overhead:           c.Overhead.String(),
		IsEdited:           c.IsEdited,
		SalesDiscountId:    c.SalesDiscountID,
		CustomerPrefix:     c.CustomerPrefix,
		AccountTaxable:     c.AccountTaxable,
		InactiveTime:       timeToProto(c.InactiveTime),
		InactiveInitials:   c.InactiveInitials,
		ModifyTime:         timeToProto(c.ModifyTime),
		UserId:             c.UserID,
		Version:            c.Version,
		CreateTime:         timestamppb.New(c.CreateTime),
	}
}

// customerFromProto converts p. The fields that can fail to convert
// (status, decimals, times, checked in that order) are converted only when
// named is nil or names them; output-only fields other than the id and
// version are dropped, but an update may name modify_time (MANEX Edit's
// modifieddate).
func customerFromProto(p *customerv1.Customer, named map[string]bool) (record.Customer, error) {
	conv := fieldConverter{named: named}
	c := record.Customer{
		ID:               p.GetCustomerId(),
		Key:              p.GetCustomerKey(),
		Number:           p.GetCustomerNumber(),
		Name:             p.GetName(),
		Phone:            p.GetPhone(),
		Fax:              p.GetFax(),
		BillLinkAddress:  p.GetBillLinkAddress(),
		ShipLinkAddress:  p.GetShipLinkAddress(),
		Territory:        p.GetTerritory(),
		Terms:            p.GetTerms(),
		Profile:          p.GetProfile(),
		Note:             p.GetNote(),
		AccountStatus:    p.GetAccountStatus(),
		Division:         p.GetDivision(),
		SalesReps:        p.GetSalesReps(),
		CreditStatus:     p.GetCreditStatus(),
		ResellerNumber:   p.GetResellerNumber(),
		ARCallTimeText:   p.GetArCallTimeText(),
		ARCallBy:         p.GetArCallBy(),
		ARCallNote:       p.GetArCallNote(),
		CreditNote:       p.GetCreditNote(),
		SaveInitials:     p.GetSaveInitials(),
		Labor:            p.GetLabor(),
		Material:         p.GetMaterial(),
		Tooling:          p.GetTooling(),
		SICCode:          p.GetSicCode(),
		SICDescription:   p.GetSicDescription(),
		DeliveryTime:     p.GetDeliveryTime(),
		SerialFlag:       p.GetSerialFlag(),
		IsEdited:         p.GetIsEdited(),
		SalesDiscountID:  p.GetSalesDiscountId(),
		CustomerPrefix:   p.GetCustomerPrefix(),
		AccountTaxable:   p.GetAccountTaxable(),
		InactiveInitials: p.GetInactiveInitials(),
		UserID:           p.GetUserId(),
		Version:          p.GetVersion(),
	}
	if conv.want("status") {
		c.Status, conv.err = statusFromProto(p.GetStatus())
	}
	conv.decimal(&c.CreditLimit, "credit_limit", p.GetCreditLimit())
	conv.decimal(&c.ARHighBalance, "ar_high_balance", p.GetArHighBalance())
	conv.decimal(&c.OutsideMargin, "outside_margin", p.GetOutsideMargin())
	conv.decimal(&c.ToolingMargin, "tooling_margin", p.GetToolingMargin())
	conv.decimal(&c.MaterialMargin, "material_margin", p.GetMaterialMargin())
	conv.decimal(&c.LaborMargin, "labor_margin", p.GetLaborMargin())
	conv.decimal(&c.MinimumOrderAmount, "minimum_order_amount", p.GetMinimumOrderAmount())
	conv.decimal(&c.ScrapFactor, "scrap_factor", p.GetScrapFactor())
	conv.decimal(&c.CommissionItem, "commission_item", p.GetCommissionItem())
	conv.decimal(&c.CustomerSpec, "customer_spec", p.GetCustomerSpec())
	conv.decimal(&c.Split1, "split1", p.GetSplit1())
	conv.decimal(&c.Split2, "split2", p.GetSplit2())
	conv.decimal(&c.SplitAmount, "split_amount", p.GetSplitAmount())
	conv.decimal(&c.SplitPercent, "split_percent", p.GetSplitPercent())
	conv.decimal(&c.Overhead, "overhead", p.GetOverhead())
	conv.time(&c.ARCallTime, "ar_call_time", p.GetArCallTime())
	conv.time(&c.AccountDate, "account_date", p.GetAccountDate())
	conv.time(&c.InactiveTime, "inactive_time", p.GetInactiveTime())
	conv.time(&c.ModifyTime, "modify_time", p.GetModifyTime())
	if conv.err != nil {
		return record.Customer{}, conv.err
	}
	return c, nil
}

// fieldConverter converts the fields named (all when named is nil) and
// keeps the first error; after it, it converts nothing more.
type fieldConverter struct {
	named map[string]bool
	err   error
}

func (f *fieldConverter) want(name string) bool {
	return f.err == nil && (f.named == nil || f.named[name])
}

func (f *fieldConverter) decimal(dst *decimal.Decimal, name, s string) {
	if f.want(name) {
		*dst, f.err = customer.ParseDecimal(name, s)
	}
}

func (f *fieldConverter) time(dst **time.Time, name string, ts *timestamppb.Timestamp) {
	if ts == nil || !f.want(name) {
		return
	}
	if err := ts.CheckValid(); err != nil {
		f.err = &customer.FieldError{Field: name, Rule: "must be a valid timestamp between years 1 and 9999"}
		return
	}
	t := ts.AsTime()
	*dst = &t
}

func timeToProto(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

// The status numbers of the proto and the record are the same; the
// conversion refuses those the record does not know.

func statusFromProto(s customerv1.CustomerStatus) (record.Status, error) {
	switch s {
	case customerv1.CustomerStatus_CUSTOMER_STATUS_UNSPECIFIED, customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE,
		customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE, customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE:
		return record.Status(s), nil
	}
	return 0, &customer.FieldError{Field: "status", Rule: fmt.Sprintf("unknown value %d", int32(s))}
}

func statusToProto(s record.Status) customerv1.CustomerStatus {
	if !s.Valid() {
		return customerv1.CustomerStatus_CUSTOMER_STATUS_UNSPECIFIED
	}
	return customerv1.CustomerStatus(s)
}

// extendedFieldDescs are field1..field30 of ExtendedFields, in order.
var extendedFieldDescs = func() (out [record.ExtendedFieldCount]protoreflect.FieldDescriptor) {
	fields := (&customerv1.ExtendedFields{}).ProtoReflect().Descriptor().Fields()
	for i := range out {
		out[i] = fields.ByName(protoreflect.Name("field" + strconv.Itoa(i+1)))
		if out[i] == nil {
			panic(fmt.Sprintf("abacus.customer.v1.ExtendedFields has no field%d", i+1))
		}
	}
	return out
}()

func extendedFieldsFromProto(p *customerv1.ExtendedFields) (out [record.ExtendedFieldCount]string) {
	m := p.ProtoReflect()
	for i, fd := range extendedFieldDescs {
		out[i] = m.Get(fd).String()
	}
	return out
}

func extendedToProto(e record.Extended) *customerv1.CustomerExtended {
	fields := &customerv1.ExtendedFields{}
	m := fields.ProtoReflect()
	for i, fd := range extendedFieldDescs {
		if e.Fields[i] != "" {
			m.Set(fd, protoreflect.ValueOfString(e.Fields[i]))
		}
	}
	return &customerv1.CustomerExtended{
		CustomerId:         e.CustomerID,
		ExtendedGroupId:    e.GroupID,
		CustomerExtendedId: e.ExtendedID,
		Fields:             fields,
		Version:            e.Version,
		UpdateTime:         timestamppb.New(e.UpdateTime),
	}
}

func tenantToProto(t store.Tenant) *customerv1.Tenant {
	return &customerv1.Tenant{
		TenantId: t.ID, Name: t.Name, Company: t.Company, Sandbox: t.Sandbox,
		LiveTenantId: t.LiveTenantID, CreateTime: timestamppb.New(t.CreateTime),
	}
}

func credentialToProto(c store.Credential) *customerv1.Credential {
	out := &customerv1.Credential{
		CredentialId: c.ID, TenantId: c.TenantID, Kind: customerv1.CredentialKind(c.Kind),
		Identifier: c.Identifier, CreateTime: timestamppb.New(c.CreateTime),
	}
	if c.RevokeTime != nil {
		out.RevokeTime = timestamppb.New(*c.RevokeTime)
	}
	return out
}
