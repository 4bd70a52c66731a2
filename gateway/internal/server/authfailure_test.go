package server

import (
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestAuthenticationUnavailable: when the customer service cannot check a
// credential, each API answers its own 503, with no Retry-After (the client
// is not being throttled) and no challenge (its credential was not refused).
func TestAuthenticationUnavailable(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"native read":    `{"code":14,"message":"authentication is temporarily unavailable","details":[]}`,
		"native posting": `{"code":14,"message":"authentication is temporarily unavailable","details":[]}`,
	}
	for _, rt := range outageRoutes {
		t.Run(rt.name, func(t *testing.T) {
			t.Parallel()
			fe := newFailingEnv(t, map[string]error{"Authenticate": status.Error(codes.Unavailable, "connection refused")})
			method := rt.method
			if method == "" {
				method = http.MethodGet
			}
			want, ok := bodies[rt.name]
			if !ok {
				want = unavailableBodies[rt.name]
			}
			w := fe.serve(method, rt.target, rt.header, strings.NewReader(rt.body))
			checkAnswer(t, w, http.StatusServiceUnavailable, want, map[string]string{"Retry-After": "", "WWW-Authenticate": ""})
			if fe.conns["customer"].lastRequest(rt.calls) != nil || fe.conns["ledger"].lastRequest(rt.calls) != nil ||
				fe.conns["history"].lastRequest(rt.calls) != nil {
				t.Errorf("%s was called without an authenticated tenant", rt.calls)
			}
		})
	}
}
