package exigo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/abacus-ledger/abacus/gateway/internal/jsonbody"
	"github.com/abacus-ledger/abacus/gateway/internal/upstream"
	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
	"github.com/abacus-ledger/abacus/services/platform/textrule"
)

// extendedFieldCount is the number of free text fields of an extended record.
const extendedFieldCount = 30

// The property names of UpdateCustomerExtendedRequest as Exigo's REST JSON
// spells them; messages use these spellings.
const (
	propCustomerID         = "customerID"
	propCustomerKey        = "customerKey"
	propExtendedGroupID    = "extendedGroupID"
	propCustomerExtendedID = "customerExtendedID"
)

const (
	errBothIDs   = "Send customerID or customerKey, not both."
	errNeitherID = "customerID or customerKey is required."
	msgBadBody   = "The request body must be a JSON object."
)

// extendedField is field1 … field30 with the service's rules for it.
type extendedField struct {
	name   string // "field7"
	fd     protoreflect.FieldDescriptor
	maxLen int
}

// extendedFields are read from the ExtendedFields descriptor, so the limits
// are the service's own.
var extendedFields = func() [extendedFieldCount]extendedField {
	var out [extendedFieldCount]extendedField
	desc := (&customerv1.ExtendedFields{}).ProtoReflect().Descriptor().Fields()
	for i := range out {
		name := "field" + strconv.Itoa(i+1)
		fd := desc.ByName(protoreflect.Name(name))
		if fd == nil {
			panic("exigo: abacus.customer.v1.ExtendedFields has no " + name)
		}
		rules, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
		out[i] = extendedField{name: name, fd: fd, maxLen: int(rules.GetString().GetMaxLen())}
	}
	return out
}()

// extendedRequest is a parsed PATCH /3.0/customers/extended body.
type extendedRequest struct {
	ref  customerRef
	req  *customerv1.UpdateCustomerExtendedRequest // CustomerId set once ref is resolved
	sent int                                       // how many fields were sent
}

// updateExtended is PATCH /3.0/customers/extended: only the fields sent
// change; the record is created when it does not exist yet. Exigo's model
// binds a missing property and a null one alike, so null also means "leave
// unchanged". Every problem with the body is reported at once, each naming
// its property.
func (h *Handler) updateExtended(w http.ResponseWriter, r *http.Request) {
	members, err := jsonbody.Read(r.Body)
	var dup *jsonbody.DuplicateError
	var bad *jsonbody.UTF8Error
	switch {
	case errors.As(err, &dup):
		h.fail(w, r, http.StatusBadRequest, dup.Name+" is given more than once.")
		return
	case errors.As(err, &bad) && bad.InName:
		h.fail(w, r, http.StatusBadRequest, "The property name "+strconv.Quote(bad.Name)+" is not valid UTF-8.")
		return
	case errors.As(err, &bad):
		h.fail(w, r, http.StatusBadRequest, bad.Name+" must be valid UTF-8.")
		return
	case err != nil || members == nil:
		h.fail(w, r, http.StatusBadRequest, msgBadBody)
		return
	}
	if f := h.applyExtended(r.Context(), members); f != nil {
		h.failWith(w, r, f)
		return
	}
	h.writeJSON(w, r, http.StatusOK, resultOnly{Result: newResult()})
}

// applyExtended is the UpdateCustomerExtended operation of both forms: the
// members are the request's properties (the SOAP form hands its elements
// over as members too), validated, resolved and written here.
func (h *Handler) applyExtended(ctx context.Context, members []jsonbody.Member) *failure {
	x, problems := parseExtended(members)
	if len(problems) > 0 {
		return fail(http.StatusBadRequest, problems...)
	}
	id, err := h.resolve(ctx, x.ref)
	if err != nil {
		return h.serviceFailure(ctx, x.ref, err)
	}
	x.req.CustomerId = id
	if x.sent == 0 {
		// Nothing to change, so nothing is written; the customer must still
		// be the tenant's, as it would be for a change.
		_, err = h.clients.Customer.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: id})
	} else {
		_, err = h.clients.Customer.UpdateCustomerExtended(ctx, x.req)
	}
	if err != nil {
		return h.serviceFailure(ctx, x.ref, err)
	}
	return nil
}

// parseExtended reads the members of the body; names are case-insensitive.
// Unknown properties are ignored, as .NET model binding does, except names
// of fields past field30, which would otherwise be lost without a word.
func parseExtended(members []jsonbody.Member) (extendedRequest, []string) {
	byName := make(map[string]jsonbody.Member, len(members))
	var problems, unknownFields []string
	for _, m := range members {
		byName[m.Lower()] = m
		if n, ok := strings.CutPrefix(m.Lower(), "field"); ok {
			if i, err := strconv.Atoi(n); err == nil && (i < 1 || i > extendedFieldCount) {
				unknownFields = append(unknownFields, fmt.Sprintf("%s is not a field of an extended record; they are field1 to field%d.", m.Name, extendedFieldCount))
			}
		}
	}
	get := func(name string) (jsonbody.Member, bool) {
		m, ok := byName[strings.ToLower(name)]
		return m, ok && !m.IsNull()
	}

	x := extendedRequest{req: &customerv1.UpdateCustomerExtendedRequest{
		Fields:     &customerv1.ExtendedFields{},
		UpdateMask: &fieldmaskpb.FieldMask{},
	}}
	idMember, hasID := get(propCustomerID)
	keyMember, hasKey := get(propCustomerKey)
	if hasID {
		id, problem := positiveInt(idMember, propCustomerID)
		if problem != "" {
			problems = append(problems, problem)
		}
		x.ref.id = id
	}
	if hasKey {
		key, problem := text(keyMember, propCustomerKey, 0)
		if problem == "" && key != "" {
			problem = keyProblem(key)
		}
		if problem != "" {
			problems = append(problems, problem)
		}
		// An empty key binds like an absent one.
		hasKey = key != ""
		x.ref.key = key
	}
	switch {
	case hasID && hasKey:
		problems = append(problems, errBothIDs)
	case !hasID && !hasKey:
		problems = append(problems, errNeitherID)
	}
	for _, p := range []struct {
		name string
		dst  *int32
	}{{propExtendedGroupID, &x.req.ExtendedGroupId}, {propCustomerExtendedID, &x.req.CustomerExtendedId}} {
		m, ok := get(p.name)
		if !ok {
			problems = append(problems, p.name+" is required.")
			continue
		}
		n, problem := positiveInt(m, p.name)
		if problem != "" {
			problems = append(problems, problem)
		}
		*p.dst = n
	}
	fields := x.req.Fields.ProtoReflect()
	for _, f := range extendedFields {
		m, ok := get(f.name)
		if !ok {
			continue
		}
		v, problem := text(m, f.name, f.maxLen)
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		fields.Set(f.fd, protoreflect.ValueOfString(v))
		x.req.UpdateMask.Paths = append(x.req.UpdateMask.Paths, f.name)
		x.sent++
	}
	return x, append(problems, unknownFields...)
}

// positiveInt reads an Int32 property sent as a number or a numeric string
// (both bind in Exigo's .NET model).
func positiveInt(m jsonbody.Member, name string) (int32, string) {
	s, ok := m.Scalar()
	if !ok {
		return 0, name + " must be a positive whole number."
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n <= 0 {
		return 0, name + " must be a positive whole number."
	}
	return int32(n), ""
}

// text reads a string property (jsonbody has refused any that is not
// UTF-8): no NUL, which PostgreSQL text cannot hold, and at most maxLen
// characters when maxLen > 0. The extended fields are free text, which
// may span lines: Exigo's clients keep their own data in them, and Abacus
// neither matches on them nor shows them in a column.
func text(m jsonbody.Member, name string, maxLen int) (string, string) {
	s, ok := m.String()
	switch {
	case !ok:
		return "", name + " must be a string."
	case strings.IndexByte(s, 0) >= 0:
		return "", name + " must not contain NUL characters."
	case maxLen > 0 && utf8.RuneCountInString(s) > maxLen:
		return "", fmt.Sprintf("%s must be at most %d characters.", name, maxLen)
	}
	return s, ""
}

// keyProblem applies the customer service's rule for keys (textrule.Key) to
// a customerKey that was sent, so that the refusal names the property and
// comes with every other problem of the request.
func keyProblem(key string) string {
	if rule := textrule.Key(key); rule != "" {
		return propCustomerKey + " " + rule + "."
	}
	return ""
}

// serviceFieldNames are the service's names for this method's properties.
var serviceFieldNames = map[string]string{
	"customer_id":          propCustomerID,
	"customer_key":         propCustomerKey,
	"extended_group_id":    propExtendedGroupID,
	"customer_extended_id": propCustomerExtendedID,
}

// invalidReason puts a refusal of the service in Exigo's terms. The gateway
// checks what it knows first; this covers rules only the service knows
// (such as the form of a customer key).
func invalidReason(e upstream.Error) string {
	if e.Field == "" {
		return e.Rule
	}
	field := strings.TrimPrefix(e.Field, "fields.")
	if name, ok := serviceFieldNames[field]; ok {
		field = name
	}
	return field + " " + strings.TrimSuffix(e.Rule, ".") + "."
}
