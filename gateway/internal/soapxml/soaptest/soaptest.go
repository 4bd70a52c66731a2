// Package soaptest holds what the SOAP dialects' tests share.
package soaptest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/abacus-ledger/abacus/gateway/internal/soapxml"
)

// FuzzEndpoint fuzzes a SOAP endpoint: it posts each input (starting from
// seeds) to path on h and fails unless the answer is a whole envelope — a
// 200 without a Fault, or a 500 Fault with a code and a message.
func FuzzEndpoint(f *testing.F, h http.Handler, path string, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		env, err := soapxml.Parse(w.Body)
		if err != nil {
			t.Fatalf("answer %d is not an envelope: %v", w.Code, err)
		}
		switch w.Code {
		case http.StatusOK:
			if env.Body.Local == "Fault" {
				t.Fatal("a Fault with 200")
			}
		case http.StatusInternalServerError:
			if env.Body.Local != "Fault" || env.Body.Child("", "faultcode").Text == "" || env.Body.Child("", "faultstring").Text == "" {
				t.Fatalf("500 without a whole Fault: %+v", env.Body)
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}
