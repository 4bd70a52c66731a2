package manex

import (
	"encoding/json"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

const (
	msgNoCustomer     = "Customer does not exists."
	msgUnavailable    = "Service temporarily unavailable. Try again later."
	msgNotImplemented = "Not implemented yet."
	// msgInternal is what ASP.NET Web API answers for an unhandled error.
	msgInternal = "An error has occurred."
)

// failedPrefix starts a parameter error; the seed writes the reason right
// after the period, without a space.
func failedPrefix(action string) string { return "Customer " + action + " failed." }

// add is /API/Customer/Add/{key}.
func (h *Handler) add(w http.ResponseWriter, r *http.Request, p params) {
	c := &customerv1.Customer{}
	if _, problem := apply(c, p, true); problem != "" {
		h.envelope(w, r, http.StatusOK, 403, failedPrefix("add")+problem, true, nil)
		return
	}
	for _, req := range []struct{ param, label string }{{"custname", "Custname"}, {"status", "Status"}} {
		if p[req.param] == "" {
			h.envelope(w, r, http.StatusOK, 403, failedPrefix("add")+req.label+" is required.", true, nil)
			return
		}
	}
	if n, ok := p["custno"]; ok && n != "" {
		if !isCustomerNumber(n) {
			h.envelope(w, r, http.StatusOK, 403, failedPrefix("add")+"Custno must be ten digits.", true, nil)
			return
		}
		c.CustomerNumber = n
	}
	resp, err := h.customers.CreateCustomer(r.Context(), &customerv1.CreateCustomerRequest{Customer: c})
	if err != nil {
		h.serviceError(w, r, "add", err)
		return
	}
	h.envelope(w, r, http.StatusOK, 200, "Customer added successfully.", true, record(resp.GetCustomer()))
}

// edit is /API/Customer/Edit/{key}: Custno names the customer and only the
// parameters sent change.
func (h *Handler) edit(w http.ResponseWriter, r *http.Request, p params) {
	number := p["custno"]
	if number == "" {
		h.envelope(w, r, http.StatusOK, 403, failedPrefix("edit")+"Customer Number or Customer Name is Required", true, nil)
		return
	}
	if !isCustomerNumber(number) {
		h.envelope(w, r, http.StatusOK, 403, failedPrefix("edit")+"Custno must be ten digits.", true, nil)
		return
	}
	c := &customerv1.Customer{}
	paths, problem := apply(c, p, false)
	if problem != "" {
		h.envelope(w, r, http.StatusOK, 403, failedPrefix("edit")+problem, true, nil)
		return
	}
	found, err := h.customers.LookupCustomer(r.Context(), &customerv1.LookupCustomerRequest{
		By: &customerv1.LookupCustomerRequest_CustomerNumber{CustomerNumber: number},
	})
	if err != nil {
		h.serviceError(w, r, "edit", err)
		return
	}
	// An empty mask would read as "replace everything" to an AIP-style
	// service; with nothing to change there is nothing to send.
	if len(paths) > 0 {
		c.CustomerId = found.GetCustomer().GetCustomerId()
		_, err = h.customers.UpdateCustomer(r.Context(), &customerv1.UpdateCustomerRequest{
			Customer: c, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
		})
		if err != nil {
			h.serviceError(w, r, "edit", err)
			return
		}
	}
	h.envelope(w, r, http.StatusOK, 200, "Customer edited successfully.", true, nil)
}

// get is /API/Customer/Get/{key}: a ten-digit CustNumOrName is a customer
// number, anything else a name.
func (h *Handler) get(w http.ResponseWriter, r *http.Request, p params) {
	v := p["custnumorname"]
	req := &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_Name{Name: v}}
	if isCustomerNumber(v) {
		req.By = &customerv1.LookupCustomerRequest_CustomerNumber{CustomerNumber: v}
	}
	resp, err := h.customers.LookupCustomer(r.Context(), req)
	if err != nil {
		h.serviceError(w, r, "get", err)
		return
	}
	h.envelope(w, r, http.StatusOK, 200, "Customer details:", true, record(resp.GetCustomer()))
}

// serviceError maps a failed call into the envelope. Client-caused failures
// are Code 403 with the reason; server-side ones use their HTTP status as
// both Code and status, so monitoring sees them, and never show the cause.
func (h *Handler) serviceError(w http.ResponseWriter, r *http.Request, action string, err error) {
	st := status.Convert(err)
	switch st.Code() {
	case codes.NotFound:
		h.envelope(w, r, http.StatusOK, 403, msgNoCustomer, true, nil)
	case codes.InvalidArgument, codes.AlreadyExists, codes.FailedPrecondition:
		h.envelope(w, r, http.StatusOK, 403, failedPrefix(action)+st.Message(), true, nil)
	case codes.Unimplemented:
		h.envelope(w, r, http.StatusNotImplemented, 501, msgNotImplemented, true, nil)
	case codes.Unavailable:
		h.log.WarnContext(r.Context(), "customer service unavailable", "error", err)
		h.envelope(w, r, http.StatusServiceUnavailable, 503, msgUnavailable, true, nil)
	default:
		h.log.ErrorContext(r.Context(), "customer service call failed", "error", err)
		h.envelope(w, r, http.StatusInternalServerError, 500, msgInternal, true, nil)
	}
}

// record renders a customer as MANEX's record, keys in the seed's order.
// It is deliberately plain for now; the full rendering (padding, every
// type as the seed shows) belongs to the MANEX issue.
func record(c *customerv1.Customer) Object {
	return Object{
		{"CUSTNO", c.GetCustomerNumber()},
		{"CUSTNAME", c.GetName()},
		{"PHONE", c.GetPhone()},
		{"FAX", c.GetFax()},
		{"TERRITORY", c.GetTerritory()},
		{"TERMS", c.GetTerms()},
		{"CREDLIMIT", number(c.GetCreditLimit())},
		{"CREDITOK", c.GetCreditStatus()},
		{"RESL_NO", c.GetResellerNumber()},
		{"AR_HIGHBAL", number(c.GetArHighBalance())},
		{"ACCT_DATE", timestamp(c.GetAccountDate())},
		{"STATUS", statusName(c.GetStatus())},
		{"SALEDSCTID", c.GetSalesDiscountId()},
		{"ACTTAXABLE", c.GetAccountTaxable()},
		{"INACTDT", timestamp(c.GetInactiveTime())},
		{"INACTINIT", c.GetInactiveInitials()},
		{"modifiedDate", timestamp(c.GetModifyTime())},
		{"LinkAddList", nil},
	}
}

// number writes a decimal string as a JSON number without a float; empty is 0.
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
	return ts.AsTime().UTC().Format(time.RFC3339Nano)
}

func statusName(s customerv1.CustomerStatus) string {
	for name, v := range statuses {
		if v == s {
			return name
		}
	}
	return ""
}
