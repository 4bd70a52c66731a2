package openapi

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"

	customerv1 "github.com/abacus-ledger/abacus/proto/gen/go/abacus/customer/v1"
)

func TestShortName(t *testing.T) {
	t.Parallel()
	status := customerv1.CustomerStatus(0).Descriptor().Values()
	var got []string
	for i := range status.Len() {
		got = append(got, ShortName(status.Get(i)))
	}
	if want := []string{"UNSPECIFIED", "ACTIVE", "INACTIVE", "QUOTE"}; !slices.Equal(got, want) {
		t.Errorf("CustomerStatus short names = %v, want %v", got, want)
	}
	kind := customerv1.CredentialKind_CREDENTIAL_KIND_IGSEND_SANDBOX.Descriptor().Values().ByNumber(3)
	if got := ShortName(kind); got != "IGSEND_SANDBOX" {
		t.Errorf("CREDENTIAL_KIND_IGSEND_SANDBOX = %q", got)
	}
	// Google's enums keep their names.
	null := structpb.NullValue_NULL_VALUE.Descriptor().Values().ByNumber(0)
	if got := ShortName(null); got != "NULL_VALUE" {
		t.Errorf("google.protobuf.NullValue's value = %q, want NULL_VALUE", got)
	}
	for name, want := range map[protoreflect.Name]string{"CustomerStatus": "CUSTOMER_STATUS_", "Kind": "KIND_", "HTTPCode": "HTTPCODE_"} {
		if got := enumPrefix(name); got != want {
			t.Errorf("enumPrefix(%s) = %q, want %q", name, got, want)
		}
	}
}

// Within every Abacus enum the short names are distinct, so a short name
// read back names one value.
func TestShortNamesDistinct(t *testing.T) {
	t.Parallel()
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(f.Package()), "abacus.") {
			return true
		}
		for i := range f.Enums().Len() {
			e := f.Enums().Get(i)
			seen := map[string]bool{}
			for j := range e.Values().Len() {
				short := ShortName(e.Values().Get(j))
				if seen[short] {
					t.Errorf("%s: short name %s twice", e.FullName(), short)
				}
				seen[short] = true
			}
		}
		return true
	})
}

// The document served describes the wire: enum lists and defaults carry
// short names, and nothing else differs from the generated document.
func TestDocumentShortNames(t *testing.T) {
	t.Parallel()
	var doc, gen map[string]any
	if err := json.Unmarshal(Document, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(generated, &gen); err != nil {
		t.Fatal(err)
	}
	status := customerv1.CustomerStatus(0).Descriptor().Values()
	short := []any{"UNSPECIFIED", "ACTIVE", "INACTIVE", "QUOTE"}
	def := doc["definitions"].(map[string]any)["v1CustomerStatus"].(map[string]any)
	if !reflect.DeepEqual(def["enum"], short) || def["default"] != "UNSPECIFIED" {
		t.Errorf("v1CustomerStatus = %v", def)
	}
	var filter map[string]any
	for _, p := range doc["paths"].(map[string]any)["/v1/customers"].(map[string]any)["get"].(map[string]any)["parameters"].([]any) {
		if p.(map[string]any)["name"] == "status" {
			filter = p.(map[string]any)
		}
	}
	if filter == nil || !reflect.DeepEqual(filter["enum"], short) || filter["default"] != "UNSPECIFIED" {
		t.Errorf("GET /v1/customers status parameter = %v", filter)
	}
	if strings.Contains(string(Document), `"CUSTOMER_STATUS_`) {
		t.Error("the document still names a value by its proto name")
	}
	// Renamed back, the document is the generated one (CustomerStatus is
	// the only enum the native API has).
	long := map[string]string{}
	for i := range status.Len() {
		long[ShortName(status.Get(i))] = string(status.Get(i).Name())
	}
	var back func(v any) any
	back = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "enum" || k == "default" {
					if s, ok := x.(string); ok && long[s] != "" {
						v[k] = long[s]
						continue
					}
					if l, ok := x.([]any); ok {
						for i, e := range l {
							if s, ok := e.(string); ok && long[s] != "" {
								l[i] = long[s]
							}
						}
						continue
					}
				}
				v[k] = back(x)
			}
		case []any:
			for i, x := range v {
				v[i] = back(x)
			}
		}
		return v
	}
	if !reflect.DeepEqual(back(doc), gen) {
		t.Error("the document differs from the generated one in more than enum names")
	}
}
