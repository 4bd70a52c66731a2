package grpcapi

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/customer/internal/customer"
	"github.com/abacus-ledger/abacus/services/platform/fielderr"
	"github.com/abacus-ledger/abacus/services/platform/pagetoken"
	"github.com/abacus-ledger/abacus/services/platform/tenancy"
)

// Customers implements customerv1.CustomerServiceServer over the customer
// domain. Every call acts for the tenant the interceptor put in the context.
type Customers struct {
	customerv1.UnimplementedCustomerServiceServer
	svc *customer.Service
	log *slog.Logger
}

var _ customerv1.CustomerServiceServer = (*Customers)(nil)

// NewCustomers returns the customer server.
func NewCustomers(svc *customer.Service, log *slog.Logger) *Customers {
	return &Customers{svc: svc, log: log}
}

const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// tenantOf returns the tenant of the call. The server interceptor refuses
// calls without one, so its absence here is a wiring mistake; refusing
// keeps a call from ever acting for no tenant.
func tenantOf(ctx context.Context) (string, error) {
	id, ok := tenancy.FromContext(ctx)
	if !ok {
		return "", status.Error(codes.Unauthenticated, "missing tenant")
	}
	return id, nil
}

func pageSize(field string, n int32) (int, error) {
	switch {
	case n < 0:
		return 0, &customer.FieldError{Field: field, Rule: "must be >= 0"}
	case n == 0:
		return defaultPageSize, nil
	case n > maxPageSize:
		return maxPageSize, nil
	}
	return int(n), nil
}

// CreateCustomer implements the RPC.
func (s *Customers) CreateCustomer(ctx context.Context, req *customerv1.CreateCustomerRequest) (*customerv1.CreateCustomerResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetCustomer() == nil {
		return nil, toStatus(ctx, s.log, &customer.FieldError{Field: "customer", Rule: "is required"})
	}
	c, err := customerFromProto(req.GetCustomer(), nil)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	c, err = s.svc.Create(ctx, tenantID, c)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.CreateCustomerResponse{Customer: customerToProto(c)}, nil
}

// GetCustomer implements the RPC.
func (s *Customers) GetCustomer(ctx context.Context, req *customerv1.GetCustomerRequest) (*customerv1.GetCustomerResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.svc.Get(ctx, tenantID, req.GetCustomerId())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.GetCustomerResponse{Customer: customerToProto(c)}, nil
}

// LookupCustomer implements the RPC.
func (s *Customers) LookupCustomer(ctx context.Context, req *customerv1.LookupCustomerRequest) (*customerv1.LookupCustomerResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var c customer.Customer
	switch by := req.GetBy().(type) {
	case *customerv1.LookupCustomerRequest_CustomerKey:
		c, err = s.svc.LookupByKey(ctx, tenantID, by.CustomerKey)
	case *customerv1.LookupCustomerRequest_CustomerNumber:
		c, err = s.svc.LookupByNumber(ctx, tenantID, by.CustomerNumber)
	case *customerv1.LookupCustomerRequest_Name:
		c, err = s.svc.LookupByName(ctx, tenantID, by.Name)
	default:
		err = &customer.FieldError{Field: "by", Rule: "one of customer_key, customer_number or name is required"}
	}
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.LookupCustomerResponse{Customer: customerToProto(c)}, nil
}

// UpdateCustomer implements the RPC.
func (s *Customers) UpdateCustomer(ctx context.Context, req *customerv1.UpdateCustomerRequest) (*customerv1.UpdateCustomerResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case req.GetCustomer() == nil:
		return nil, toStatus(ctx, s.log, &customer.FieldError{Field: "customer", Rule: "is required"})
	case req.GetUpdateMask() == nil:
		return nil, toStatus(ctx, s.log, &customer.FieldError{Field: "update_mask", Rule: "is required"})
	}
	// version is the update's precondition, not a field it changes; a mask
	// the JSON facade derives from a body that carries it names it too.
	paths := slices.DeleteFunc(slices.Clone(req.GetUpdateMask().GetPaths()), func(p string) bool { return p == "version" })
	named := make(map[string]bool, len(paths))
	for _, p := range paths {
		named[p] = true
	}
	// Only the named fields are converted: a value the mask leaves out is
	// ignored, even when it would not parse.
	c, err := customerFromProto(req.GetCustomer(), named)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	c, err = s.svc.Update(ctx, tenantID, c, paths, req.GetCustomer().GetVersion())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.UpdateCustomerResponse{Customer: customerToProto(c)}, nil
}

// ListCustomers implements the RPC.
func (s *Customers) ListCustomers(ctx context.Context, req *customerv1.ListCustomersRequest) (*customerv1.ListCustomersResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	size, err := pageSize("page_size", req.GetPageSize())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	f := customer.Filter{Territory: req.GetTerritory(), NamePrefix: req.GetNamePrefix()}
	if f.Status, err = statusFromProto(req.GetStatus()); err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	query := pagetoken.Query("customers", tenantID, req.GetStatus().String(), f.Territory, f.NamePrefix)
	after, err := decodePos(req.GetPageToken(), query)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	cs, err := s.svc.List(ctx, tenantID, f, after.ID, size+1)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp := &customerv1.ListCustomersResponse{}
	if len(cs) > size {
		cs = cs[:size]
		resp.NextPageToken = pagetoken.Encode(query, pagePos{ID: cs[len(cs)-1].ID})
	}
	resp.Customers = make([]*customerv1.Customer, len(cs))
	for i, c := range cs {
		resp.Customers[i] = customerToProto(c)
	}
	return resp, nil
}

// GetCustomerExtended implements the RPC.
func (s *Customers) GetCustomerExtended(ctx context.Context, req *customerv1.GetCustomerExtendedRequest) (*customerv1.GetCustomerExtendedResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.svc.GetExtended(ctx, tenantID, req.GetCustomerId(), req.GetExtendedGroupId(), req.GetCustomerExtendedId())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.GetCustomerExtendedResponse{Extended: extendedToProto(e)}, nil
}

// ListCustomerExtended implements the RPC.
func (s *Customers) ListCustomerExtended(ctx context.Context, req *customerv1.ListCustomerExtendedRequest) (*customerv1.ListCustomerExtendedResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	size, err := pageSize("page_size", req.GetPageSize())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	query := pagetoken.Query("extended", tenantID, req.GetCustomerId(), req.GetExtendedGroupId())
	after, err := decodePos(req.GetPageToken(), query)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	es, err := s.svc.ListExtended(ctx, tenantID, req.GetCustomerId(), req.GetExtendedGroupId(),
		customer.ExtendedPage{GroupID: after.Group, ExtendedID: after.ID}, size+1)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp := &customerv1.ListCustomerExtendedResponse{}
	if len(es) > size {
		es = es[:size]
		last := es[len(es)-1]
		resp.NextPageToken = pagetoken.Encode(query, pagePos{Group: last.GroupID, ID: last.ExtendedID})
	}
	resp.Extended = make([]*customerv1.CustomerExtended, len(es))
	for i, e := range es {
		resp.Extended[i] = extendedToProto(e)
	}
	return resp, nil
}

// UpdateCustomerExtended implements the RPC.
func (s *Customers) UpdateCustomerExtended(ctx context.Context, req *customerv1.UpdateCustomerExtendedRequest) (*customerv1.UpdateCustomerExtendedResponse, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case req.GetFields() == nil:
		return nil, toStatus(ctx, s.log, &customer.FieldError{Field: "fields", Rule: "is required"})
	case req.GetUpdateMask() == nil:
		return nil, toStatus(ctx, s.log, &customer.FieldError{Field: "update_mask", Rule: "is required"})
	}
	e := customer.Extended{
		CustomerID: req.GetCustomerId(),
		GroupID:    req.GetExtendedGroupId(),
		ExtendedID: req.GetCustomerExtendedId(),
		Fields:     extendedFieldsFromProto(req.GetFields()),
	}
	e, err = s.svc.UpdateExtended(ctx, tenantID, e, req.GetUpdateMask().GetPaths())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &customerv1.UpdateCustomerExtendedResponse{Extended: extendedToProto(e)}, nil
}

// Conversions between the proto and the domain.

// protoDecimals are the decimal string fields of Customer.
var protoDecimals = []struct {
	name string
	get  func(*customerv1.Customer) string
	set  func(*customerv1.Customer, string)
	dst  func(*customer.Customer) *decimal.Decimal
}{
	{"credit_limit", (*customerv1.Customer).GetCreditLimit, func(p *customerv1.Customer, v string) { p.CreditLimit = v }, func(c *customer.Customer) *decimal.Decimal { return &c.CreditLimit }},
	{"ar_high_balance", (*customerv1.Customer).GetArHighBalance, func(p *customerv1.Customer, v string) { p.ArHighBalance = v }, func(c *customer.Customer) *decimal.Decimal { return &c.ARHighBalance }},
	{"outside_margin", (*customerv1.Customer).GetOutsideMargin, func(p *customerv1.Customer, v string) { p.OutsideMargin = v }, func(c *customer.Customer) *decimal.Decimal { return &c.OutsideMargin }},
	{"tooling_margin", (*customerv1.Customer).GetToolingMargin, func(p *customerv1.Customer, v string) { p.ToolingMargin = v }, func(c *customer.Customer) *decimal.Decimal { return &c.ToolingMargin }},
	{"material_margin", (*customerv1.Customer).GetMaterialMargin, func(p *customerv1.Customer, v string) { p.MaterialMargin = v }, func(c *customer.Customer) *decimal.Decimal { return &c.MaterialMargin }},
	{"labor_margin", (*customerv1.Customer).GetLaborMargin, func(p *customerv1.Customer, v string) { p.LaborMargin = v }, func(c *customer.Customer) *decimal.Decimal { return &c.LaborMargin }},
	{"minimum_order_amount", (*customerv1.Customer).GetMinimumOrderAmount, func(p *customerv1.Customer, v string) { p.MinimumOrderAmount = v }, func(c *customer.Customer) *decimal.Decimal { return &c.MinimumOrderAmount }},
	{"scrap_factor", (*customerv1.Customer).GetScrapFactor, func(p *customerv1.Customer, v string) { p.ScrapFactor = v }, func(c *customer.Customer) *decimal.Decimal { return &c.ScrapFactor }},
	{"commission_item", (*customerv1.Customer).GetCommissionItem, func(p *customerv1.Customer, v string) { p.CommissionItem = v }, func(c *customer.Customer) *decimal.Decimal { return &c.CommissionItem }},
	{"customer_spec", (*customerv1.Customer).GetCustomerSpec, func(p *customerv1.Customer, v string) { p.CustomerSpec = v }, func(c *customer.Customer) *decimal.Decimal { return &c.CustomerSpec }},
	{"split1", (*customerv1.Customer).GetSplit1, func(p *customerv1.Customer, v string) { p.Split1 = v }, func(c *customer.Customer) *decimal.Decimal { return &c.Split1 }},
	{"split2", (*customerv1.Customer).GetSplit2, func(p *customerv1.Customer, v string) { p.Split2 = v }, func(c *customer.Customer) *decimal.Decimal { return &c.Split2 }},
	{"split_amount", (*customerv1.Customer).GetSplitAmount, func(p *customerv1.Customer, v string) { p.SplitAmount = v }, func(c *customer.Customer) *decimal.Decimal { return &c.SplitAmount }},
	{"split_percent", (*customerv1.Customer).GetSplitPercent, func(p *customerv1.Customer, v string) { p.SplitPercent = v }, func(c *customer.Customer) *decimal.Decimal { return &c.SplitPercent }},
	{"overhead", (*customerv1.Customer).GetOverhead, func(p *customerv1.Customer, v string) { p.Overhead = v }, func(c *customer.Customer) *decimal.Decimal { return &c.Overhead }},
}

// protoTimes are the optional timestamp fields a caller sets.
var protoTimes = []struct {
	name string
	get  func(*customerv1.Customer) *timestamppb.Timestamp
	dst  func(*customer.Customer) **time.Time
}{
	{"ar_call_time", (*customerv1.Customer).GetArCallTime, func(c *customer.Customer) **time.Time { return &c.ARCallTime }},
	{"account_date", (*customerv1.Customer).GetAccountDate, func(c *customer.Customer) **time.Time { return &c.AccountDate }},
	{"inactive_time", (*customerv1.Customer).GetInactiveTime, func(c *customer.Customer) **time.Time { return &c.InactiveTime }},
	// Create ignores it; an update may name it (MANEX Edit's modifieddate).
	{"modify_time", (*customerv1.Customer).GetModifyTime, func(c *customer.Customer) **time.Time { return &c.ModifyTime }},
}

func statusFromProto(s customerv1.CustomerStatus) (customer.Status, error) {
	switch s {
	case customerv1.CustomerStatus_CUSTOMER_STATUS_UNSPECIFIED:
		return customer.StatusUnspecified, nil
	case customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE:
		return customer.StatusActive, nil
	case customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE:
		return customer.StatusInactive, nil
	case customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE:
		return customer.StatusQuote, nil
	}
	return 0, &customer.FieldError{Field: "status", Rule: fmt.Sprintf("unknown value %d", int32(s))}
}

func statusToProto(s customer.Status) customerv1.CustomerStatus {
	switch s {
	case customer.StatusActive:
		return customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE
	case customer.StatusInactive:
		return customerv1.CustomerStatus_CUSTOMER_STATUS_INACTIVE
	case customer.StatusQuote:
		return customerv1.CustomerStatus_CUSTOMER_STATUS_QUOTE
	}
	return customerv1.CustomerStatus_CUSTOMER_STATUS_UNSPECIFIED
}

// customerFromProto converts p. The fields that can fail to convert
// (decimals, times, status) are converted only when named is nil or names
// them; output-only fields other than the id and version are dropped.
func customerFromProto(p *customerv1.Customer, named map[string]bool) (customer.Customer, error) {
	want := func(name string) bool { return named == nil || named[name] }
	c := customer.Customer{
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
	var err error
	if want("status") {
		if c.Status, err = statusFromProto(p.GetStatus()); err != nil {
			return customer.Customer{}, err
		}
	}
	for _, d := range protoDecimals {
		if !want(d.name) {
			continue
		}
		if *d.dst(&c), err = customer.ParseDecimal(d.name, d.get(p)); err != nil {
			return customer.Customer{}, err
		}
	}
	for _, t := range protoTimes {
		ts := t.get(p)
		if ts == nil || !want(t.name) {
			continue
		}
		if err := ts.CheckValid(); err != nil {
			return customer.Customer{}, &customer.FieldError{Field: t.name, Rule: "must be a valid timestamp between years 1 and 9999"}
		}
		v := ts.AsTime()
		*t.dst(&c) = &v
	}
	return c, nil
}

func timeToProto(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

func customerToProto(c customer.Customer) *customerv1.Customer {
	p := &customerv1.Customer{
		CustomerId:       c.ID,
		CustomerKey:      c.Key,
		CustomerNumber:   c.Number,
		Name:             c.Name,
		Status:           statusToProto(c.Status),
		Phone:            c.Phone,
		Fax:              c.Fax,
		BillLinkAddress:  c.BillLinkAddress,
		ShipLinkAddress:  c.ShipLinkAddress,
		Territory:        c.Territory,
		Terms:            c.Terms,
		Profile:          c.Profile,
		Note:             c.Note,
		AccountStatus:    c.AccountStatus,
		Division:         c.Division,
		SalesReps:        c.SalesReps,
		CreditStatus:     c.CreditStatus,
		ResellerNumber:   c.ResellerNumber,
		ArCallTime:       timeToProto(c.ARCallTime),
		ArCallTimeText:   c.ARCallTimeText,
		ArCallBy:         c.ARCallBy,
		ArCallNote:       c.ARCallNote,
		CreditNote:       c.CreditNote,
		AccountDate:      timeToProto(c.AccountDate),
		SaveInitials:     c.SaveInitials,
		Labor:            c.Labor,
		Material:         c.Material,
		Tooling:          c.Tooling,
		SicCode:          c.SICCode,
		SicDescription:   c.SICDescription,
		DeliveryTime:     c.DeliveryTime,
		SerialFlag:       c.SerialFlag,
		IsEdited:         c.IsEdited,
		SalesDiscountId:  c.SalesDiscountID,
		CustomerPrefix:   c.CustomerPrefix,
		AccountTaxable:   c.AccountTaxable,
		InactiveTime:     timeToProto(c.InactiveTime),
		InactiveInitials: c.InactiveInitials,
		ModifyTime:       timeToProto(c.ModifyTime),
		UserId:           c.UserID,
		Version:          c.Version,
		CreateTime:       timestamppb.New(c.CreateTime),
	}
	for _, d := range protoDecimals {
		d.set(p, d.dst(&c).String())
	}
	return p
}

// extendedFieldDescs are field1..field30 of ExtendedFields, in order.
var extendedFieldDescs = func() (out [customer.ExtendedFieldCount]protoreflect.FieldDescriptor) {
	fields := (&customerv1.ExtendedFields{}).ProtoReflect().Descriptor().Fields()
	for i := range out {
		out[i] = fields.ByName(protoreflect.Name("field" + strconv.Itoa(i+1)))
		if out[i] == nil {
			panic(fmt.Sprintf("abacus.customer.v1.ExtendedFields has no field%d", i+1))
		}
	}
	return out
}()

func extendedFieldsFromProto(p *customerv1.ExtendedFields) (out [customer.ExtendedFieldCount]string) {
	m := p.ProtoReflect()
	for i, fd := range extendedFieldDescs {
		out[i] = m.Get(fd).String()
	}
	return out
}

func extendedToProto(e customer.Extended) *customerv1.CustomerExtended {
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

// pagePos is where a page ends: the last customer id, or the last
// (extended group, record id) of a customer's extended records.
type pagePos struct {
	Group int32 `json:"g,omitempty"`
	ID    int32 `json:"id"`
}

// decodePos decodes a page token of query; "" is the first page.
func decodePos(token, query string) (pagePos, error) {
	if token == "" {
		return pagePos{}, nil
	}
	p, err := pagetoken.Decode[pagePos](token, query)
	if err == nil && (p.ID < 0 || p.Group < 0) {
		err = fielderr.New(pagetoken.Field, "is malformed")
	}
	return p, err
}
