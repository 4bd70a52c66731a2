package exigo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/abacus-ledger/abacus/gateway/internal/query"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	ledgerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/ledger/v1"
)

// customerRef is how an Exigo request names a customer: by exactly one of
// its numeric id or its alphanumeric key.
type customerRef struct {
	id  int32
	key string
}

// parseCustomerID accepts Exigo's Int32 ids, which are positive.
func parseCustomerID(text string) (int32, error) {
	n, err := strconv.ParseInt(text, 10, 32)
	if err != nil || n <= 0 {
		return 0, clientErrorf("customerID must be a positive whole number, got %q", text)
	}
	return int32(n), nil
}

// refFromQuery reads customerID / customerKey; an empty value counts as not
// sent, as it would bind to null in Exigo's model.
func refFromQuery(q url.Values) (customerRef, error) {
	idText, _, err := query.Get(q, "customerID")
	if err != nil {
		return customerRef{}, err
	}
	key, _, err := query.Get(q, "customerKey")
	if err != nil {
		return customerRef{}, err
	}
	switch {
	case idText != "" && key != "":
		return customerRef{}, clientError(errBothIDs)
	case idText == "" && key == "":
		return customerRef{}, clientError(errNeitherID)
	}
	if key != "" {
		if problem := keyProblem(key); problem != "" {
			return customerRef{}, clientError(problem)
		}
		return customerRef{key: key}, nil
	}
	id, err := parseCustomerID(idText)
	if err != nil {
		return customerRef{}, err
	}
	return customerRef{id: id}, nil
}

// resolve turns a reference into the numeric id the services key on.
func (h *Handler) resolve(ctx context.Context, ref customerRef) (int32, error) {
	if ref.key == "" {
		return ref.id, nil
	}
	resp, err := h.clients.Customer.LookupCustomer(ctx, &customerv1.LookupCustomerRequest{
		By: &customerv1.LookupCustomerRequest_CustomerKey{CustomerKey: ref.key},
	})
	if err != nil {
		return 0, err
	}
	return resp.GetCustomer().GetCustomerId(), nil
}

// balances is GET /3.0/customers/balances: one row per currency.
func (h *Handler) balances(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "The query string is malformed.")
		return
	}
	rows, f := h.customerBalances(r.Context(), q)
	if f != nil {
		h.failWith(w, r, f)
		return
	}
	h.writeJSON(w, r, http.StatusOK, balancesAnswer{CustomerBalances: rows, Result: newResult()})
}

// customerBalances is the GetCustomerBalances operation of both forms: it
// validates customerID / customerKey, resolves the customer and reads its
// balances.
func (h *Handler) customerBalances(ctx context.Context, q url.Values) ([]customerBalance, *failure) {
	ref, err := refFromQuery(q)
	if err != nil {
		return nil, fail(http.StatusBadRequest, err.Error())
	}
	id, err := h.resolve(ctx, ref)
	if err != nil {
		return nil, h.serviceFailure(ctx, ref, err)
	}
	resp, err := h.clients.Ledger.GetBalances(ctx, &ledgerv1.GetBalancesRequest{CustomerId: id})
	if err != nil {
		return nil, h.serviceFailure(ctx, ref, err)
	}
	rows := make([]customerBalance, 0, len(resp.GetCurrencyBalances()))
	for _, cb := range resp.GetCurrencyBalances() {
		n, err := exactNumber(cb.GetBalance(), cb.GetScale())
		if err != nil {
			h.log.ErrorContext(ctx, "ledger returned a bad balance", "currency", cb.GetCurrency(), "error", err)
			return nil, fail(http.StatusInternalServerError, msgInternal)
		}
		rows = append(rows, customerBalance{
			CurrencyCode: cb.GetCurrency(), CurrencyDescription: cb.GetDescription(), Balance: n,
		})
	}
	return rows, nil
}

// exactNumber writes a decimal string as a JSON number with the currency's
// scale (Exigo's .NET decimals keep it: 25.00, not 25). It never goes through
// a float, and never rounds: a value with more decimals keeps them all.
func exactNumber(s string, scale int32) (json.Number, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return "", fmt.Errorf("balance %q: %w", s, err)
	}
	if scale >= 0 && d.Exponent() >= -scale {
		return json.Number(d.StringFixed(scale)), nil
	}
	return json.Number(d.String()), nil
}
