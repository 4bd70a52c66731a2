package manex

import (
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/abacus-ledger/abacus/gateway/internal/upstream"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

const (
	msgAdded      = "Customer added successfully."
	msgEdited     = "Customer edited successfully."
	msgDetails    = "Customer details:"
	msgNoCustomer = "Customer does not exists."
	// msgNullModel is the seed's answer when the action gets no parameters
	// at all (a body that does not bind).
	msgNullModel = "Object reference not set to an instance of an object."
	// msgNoCustno is the seed's answer for an Edit without Custno.
	msgNoCustno       = "Customer Number or Customer Name is Required"
	msgAmbiguous      = "CustNumOrName matches more than one customer; use the customer number (Custno)."
	msgUnavailable    = "Service temporarily unavailable. Try again later."
	msgNotImplemented = "Not implemented yet."
	// msgInternal is what ASP.NET Web API answers for an unhandled error.
	msgInternal = "An error has occurred."
)

// failedPrefix starts a parameter error; the seed writes the reason right
// after the period, without a space.
func failedPrefix(action string) string { return "Customer " + action + " failed." }

// refuse answers a client mistake: Code 403 in an HTTP 200 envelope.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, action, reason string) {
	h.envelope(w, r, http.StatusOK, 403, failedPrefix(action)+reason, true, nil)
}

// add is /API/Customer/Add/{key}.
func (h *Handler) add(w http.ResponseWriter, r *http.Request, p params) {
	c := &customerv1.Customer{}
	if n := p["custno"]; n != "" {
		if !isCustomerNumber(n) {
			h.refuse(w, r, "add", labelCustno+" must be ten digits.")
			return
		}
		c.CustomerNumber = n
	}
	if _, err := apply(c, p, addParams); err != nil {
		h.refuse(w, r, "add", err.Error())
		return
	}
	resp, err := h.customers.CreateCustomer(r.Context(), &customerv1.CreateCustomerRequest{Customer: c})
	if err != nil {
		h.serviceError(w, r, "add", err)
		return
	}
	h.envelope(w, r, http.StatusOK, 200, msgAdded, true, addRecord(resp.GetCustomer()))
}

// edit is /API/Customer/Edit/{key}: Custno names the customer and only the
// parameters sent change.
func (h *Handler) edit(w http.ResponseWriter, r *http.Request, p params) {
	number := p["custno"]
	switch {
	case number == "":
		h.refuse(w, r, "edit", msgNoCustno)
		return
	case !isCustomerNumber(number):
		h.refuse(w, r, "edit", labelCustno+" must be ten digits.")
		return
	}
	c := &customerv1.Customer{}
	paths, err := apply(c, p, editParams)
	if err != nil {
		h.refuse(w, r, "edit", err.Error())
		return
	}
	found, err := h.customers.LookupCustomer(r.Context(), &customerv1.LookupCustomerRequest{
		By: &customerv1.LookupCustomerRequest_CustomerNumber{CustomerNumber: number},
	})
	if err != nil {
		h.serviceError(w, r, "edit", err)
		return
	}
	// With nothing to change there is nothing to send: an empty mask is
	// refused by the service (AIP-style services read it as "everything").
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
	h.envelope(w, r, http.StatusOK, 200, msgEdited, true, nil)
}

// get is /API/Customer/Get/{key}. A ten-digit CustNumOrName is a customer
// number, unless no customer has that number and one is named so; anything
// else is an exact name. A name shared by several customers is refused, not
// guessed at.
func (h *Handler) get(w http.ResponseWriter, r *http.Request, p params) {
	v := p["custnumorname"]
	if strings.TrimSpace(v) == "" {
		h.refuse(w, r, "get", labelCustNumOrName+" is required.")
		return
	}
	if rule := checkText(v, custNumOrNameMax); rule != "" {
		h.refuse(w, r, "get", labelCustNumOrName+" "+rule)
		return
	}
	byName := &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_Name{Name: v}}
	req := byName
	if isCustomerNumber(v) {
		req = &customerv1.LookupCustomerRequest{By: &customerv1.LookupCustomerRequest_CustomerNumber{CustomerNumber: v}}
	}
	resp, err := h.customers.LookupCustomer(r.Context(), req)
	if req != byName && status.Code(err) == codes.NotFound {
		resp, err = h.customers.LookupCustomer(r.Context(), byName)
	}
	if err != nil {
		h.serviceError(w, r, "get", err)
		return
	}
	h.envelope(w, r, http.StatusOK, 200, msgDetails, true, getRecord(resp.GetCustomer()))
}

// serviceError maps a failed call into the envelope. Client-caused failures
// are Code 403 with a reason in MANEX's terms; server-side ones use their
// HTTP status as both Code and status, so monitoring sees them, and never
// show the cause (upstream logs it).
func (h *Handler) serviceError(w http.ResponseWriter, r *http.Request, action string, err error) {
	e := upstream.Sort(r.Context(), h.log, err)
	switch e.Kind {
	case upstream.NotFound:
		h.envelope(w, r, http.StatusOK, 403, msgNoCustomer, true, nil)
	case upstream.FailedPrecondition:
		// The only precondition a lookup has: the name is not ambiguous.
		h.refuse(w, r, action, msgAmbiguous)
	case upstream.Conflict:
		// Add is the only action that can collide, and only on Custno.
		h.refuse(w, r, action, labelCustno+" is already taken by another customer.")
	case upstream.Aborted:
		h.refuse(w, r, action, "The customer was changed at the same time; try again.")
	case upstream.Invalid:
		h.refuse(w, r, action, invalidReason(e, action))
	case upstream.Unimplemented:
		h.envelope(w, r, http.StatusNotImplemented, 501, msgNotImplemented, true, nil)
	case upstream.Unavailable:
		h.envelope(w, r, http.StatusServiceUnavailable, 503, msgUnavailable, true, nil)
	default:
		h.envelope(w, r, http.StatusInternalServerError, 500, msgInternal, true, nil)
	}
}

// invalidReason says in MANEX's terms what the service refused. The gateway
// checks every rule it knows first, so this is the backstop for rules only
// the service knows; its field names become the seed's parameter names.
func invalidReason(e upstream.Error, action string) string {
	field := strings.TrimPrefix(e.Field, "customer.")
	label := labelCustNumOrName
	if action != "get" {
		label = protoLabels[field]
	}
	if label == "" {
		label = "A parameter"
	}
	return label + " " + strings.TrimSuffix(e.Rule, ".") + "."
}

// protoLabels maps Customer field names to the parameters that set them.
var protoLabels = func() map[string]string {
	m := map[string]string{"customer_number": labelCustno}
	for _, a := range attributes {
		if a.param != "" {
			m[string(a.proto)] = a.param
		}
	}
	return m
}()
