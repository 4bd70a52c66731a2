package soapxml

import (
	"fmt"
	"net/http"
	"strings"
)

// ReadRequest starts every SOAP endpoint: a GET or HEAD with ?wsdl (in any
// case, with or without a value) asks for the WSDL, and wsdl is true; a
// POST's envelope is parsed. Anything else is answered with a soap:Client
// Fault, and env is nil and wsdl false.
func ReadRequest(w http.ResponseWriter, r *http.Request) (env *Envelope, wsdl bool) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if wantsWSDL(r.URL.RawQuery) {
			return nil, true
		}
		WriteFault(w, Client, "GET serves only the WSDL: "+r.URL.Path+"?WSDL.")
		return nil, false
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		WriteFault(w, Client, "The requested resource does not support http method '"+r.Method+"'.")
		return nil, false
	}
	env, err := Parse(r.Body)
	if err != nil {
		WriteFault(w, Client, err.Error())
		return nil, false
	}
	return env, false
}

func wantsWSDL(rawQuery string) bool {
	for part := range strings.SplitSeq(rawQuery, "&") {
		name, _, _ := strings.Cut(part, "=")
		if strings.EqualFold(name, "wsdl") {
			return true
		}
	}
	return false
}

// WriteWSDL answers a WSDL: template with its one %s replaced by the
// endpoint's address, the gateway's public URL (behind an ingress the
// request's host is not the one clients use), else the request's own host,
// followed by path.
func WriteWSDL(w http.ResponseWriter, r *http.Request, template, publicURL, path string) {
	base := strings.TrimSuffix(publicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	var addr strings.Builder
	Escape(&addr, base+path)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = fmt.Fprintf(w, template, addr.String())
}
