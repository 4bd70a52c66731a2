package exigo

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

// extendedFieldCount is the number of free text fields of an extended record.
const extendedFieldCount = 30

// updateExtended is PATCH /3.0/customers/extended: only the fields sent
// change. Exigo's model binds a missing field and a null one alike, so null
// also means "leave unchanged".
func (h *Handler) updateExtended(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	req, ref, err := extendedRequest(body)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	if req.CustomerId, err = h.resolve(ctx, ref); err != nil {
		h.serviceError(w, r, err)
		return
	}
	if _, err := h.clients.Customer.UpdateCustomerExtended(ctx, req); err != nil {
		h.serviceError(w, r, err)
		return
	}
	h.writeJSON(w, r, http.StatusOK, resultOnly{Result: newResult()})
}

// decodeObject reads a JSON object whose keys are matched case-insensitively:
// the keys come back lower-cased, and two spellings of one key are refused
// rather than resolved by whichever came last.
func decodeObject(r *http.Request) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(r.Body)
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, clientError("The request body must be a JSON object.")
	}
	if dec.More() {
		return nil, clientError("The request body must hold a single JSON object.")
	}
	out := make(map[string]json.RawMessage, len(raw))
	for k, v := range raw {
		lk := strings.ToLower(k)
		if _, dup := out[lk]; dup {
			return nil, clientErrorf("The property %s is given more than once.", k)
		}
		out[lk] = v
	}
	return out, nil
}

func isNull(v json.RawMessage) bool {
	return v == nil || bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// intProperty reads an Int32 property sent as a number or a numeric string
// (both bind in Exigo's .NET model); ok is false when it is absent or null.
func intProperty(body map[string]json.RawMessage, name string) (n int32, ok bool, err error) {
	v := body[strings.ToLower(name)]
	if isNull(v) {
		return 0, false, nil
	}
	var text string
	if err := json.Unmarshal(v, &text); err != nil {
		text = string(bytes.TrimSpace(v))
	}
	i, err := strconv.ParseInt(text, 10, 32)
	if err != nil || i <= 0 {
		return 0, true, clientErrorf("%s must be a positive whole number.", name)
	}
	return int32(i), true, nil
}

// extendedRequest builds the service request from the body, except for the
// customer id, which may first need a key lookup.
func extendedRequest(body map[string]json.RawMessage) (*customerv1.UpdateCustomerExtendedRequest, customerRef, error) {
	var ref customerRef
	id, hasID, err := intProperty(body, "customerID")
	if err != nil {
		return nil, ref, err
	}
	var key string
	if v := body["customerkey"]; !isNull(v) {
		if err := json.Unmarshal(v, &key); err != nil {
			return nil, ref, clientError("customerKey must be a string.")
		}
	}
	if hasID == (key != "") {
		return nil, ref, clientError(errBothOrNeither)
	}
	ref = customerRef{id: id, key: key}
	req := &customerv1.UpdateCustomerExtendedRequest{
		Fields:     &customerv1.ExtendedFields{},
		UpdateMask: &fieldmaskpb.FieldMask{},
	}
	for _, p := range []struct {
		name string
		dst  *int32
	}{{"extendedGroupID", &req.ExtendedGroupId}, {"customerExtendedID", &req.CustomerExtendedId}} {
		n, ok, err := intProperty(body, p.name)
		if err != nil {
			return nil, ref, err
		}
		if !ok {
			return nil, ref, clientErrorf("%s is required.", p.name)
		}
		*p.dst = n
	}
	fields := req.Fields.ProtoReflect()
	for i := 1; i <= extendedFieldCount; i++ {
		name := "field" + strconv.Itoa(i)
		v := body[name]
		if isNull(v) {
			continue
		}
		var text string
		if err := json.Unmarshal(v, &text); err != nil {
			return nil, ref, clientErrorf("Field%d must be a string.", i)
		}
		fd := fields.Descriptor().Fields().ByName(protoreflect.Name(name))
		fields.Set(fd, protoreflect.ValueOfString(text))
		req.UpdateMask.Paths = append(req.UpdateMask.Paths, name)
	}
	return req, ref, nil
}
