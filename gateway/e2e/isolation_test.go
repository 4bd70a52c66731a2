package e2e

import (
	"fmt"
	"testing"
)

// A credential of tenant A never reaches tenant B's data, whatever ids it
// sends: customer ids are per tenant, so both tenants own a customer 1 and
// each sees only its own.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	a, b := newTenant(t), newTenant(t)
	authA, authB := basicAuth(a.magentoUser, a.magentoKey), basicAuth(b.magentoUser, b.magentoKey)
	nameA, nameB := "Alpha "+randomHex(3), "Bravo "+randomHex(3)

	create := func(auth map[string]string, name string) string {
		code, body := call(t, "POST", "/v1/customers", auth, []byte(`{"name":"`+name+`","status":"CUSTOMER_STATUS_ACTIVE"}`))
		if code != 200 {
			t.Fatalf("create %s: %d %v", name, code, body)
		}
		return fmt.Sprint(field(body, "customer", "customer_id"))
	}
	idA := create(authA, nameA)
	onlyA := create(authA, nameA+" 2") // a second customer that only A has
	idB := create(authB, nameB)
	if idA != idB {
		t.Fatalf("per-tenant ids: A's first customer is %s, B's is %s; want equal", idA, idB)
	}

	for _, tc := range []struct {
		name     string
		auth     map[string]string
		path     string
		wantCode int
		wantName string
	}{
		{"A reads its customer", authA, "/v1/customers/" + idA, 200, nameA},
		{"B reads the same id and gets its own", authB, "/v1/customers/" + idB, 200, nameB},
		{"B cannot read A's second customer", authB, "/v1/customers/" + onlyA, 404, ""},
	} {
		code, body := call(t, "GET", tc.path, tc.auth, nil)
		if code != tc.wantCode {
			t.Errorf("%s: status %d, want %d (%v)", tc.name, code, tc.wantCode, body)
			continue
		}
		if tc.wantName != "" && field(body, "customer", "name") != tc.wantName {
			t.Errorf("%s: got %v", tc.name, field(body, "customer", "name"))
		}
	}

	code, body := call(t, "GET", "/v1/customers?page_size=100", authB, nil)
	if code != 200 {
		t.Fatalf("list as B: %d %v", code, body)
	}
	list, _ := field(body, "customers").([]any)
	if len(list) != 1 || field(list[0], "name") != nameB {
		t.Errorf("B's list = %v, want only %s", list, nameB)
	}

	// MANEX: B's key looks A's customer up by name and finds nothing.
	code, body = call(t, "GET", "/API/Customer/Get/"+b.manexKey+"?CustNumOrName="+urlEscape(nameA), nil, nil)
	if code != 200 || field(body, "Message") != "Customer does not exists." {
		t.Errorf("MANEX get of A's customer with B's key: %d %v", code, body)
	}
}
