package store

import (
	"math"
	"testing"
)

func TestParsePayload(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		payload, tenant string
		upTo            int64
	}{
		{"2d7b3c1e-0000-4000-8000-000000000001:42", "2d7b3c1e-0000-4000-8000-000000000001", 42},
		{"2d7b3c1e-0000-4000-8000-000000000001", "2d7b3c1e-0000-4000-8000-000000000001", math.MaxInt64},
		{"2d7b3c1e-0000-4000-8000-000000000001:", "2d7b3c1e-0000-4000-8000-000000000001", math.MaxInt64},
		{"2d7b3c1e-0000-4000-8000-000000000001:x", "2d7b3c1e-0000-4000-8000-000000000001", math.MaxInt64},
	} {
		tenant, upTo := parsePayload(c.payload)
		if tenant != c.tenant || upTo != c.upTo {
			t.Errorf("parsePayload(%q) = %q, %d; want %q, %d", c.payload, tenant, upTo, c.tenant, c.upTo)
		}
	}
}
