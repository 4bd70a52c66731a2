package jsonbody

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// Write sends an encoded JSON answer with status. encodeErr is the error of
// encoding it: then the failure is logged (when log is set) and the client
// gets a plain 500, since no answer in the dialect's shape could be made.
func Write(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, body []byte, encodeErr error) {
	if encodeErr != nil {
		if log != nil {
			log.ErrorContext(r.Context(), "encode answer", "error", encodeErr)
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// WriteValue encodes v with encoding/json and sends it (see Write).
func WriteValue(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, v any) {
	body, err := json.Marshal(v)
	Write(w, r, log, status, body, err)
}
