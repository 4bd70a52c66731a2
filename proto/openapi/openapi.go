// Package openapi embeds the OpenAPI v2 document generated from the service
// protos, so the gateway can serve it.
package openapi

import _ "embed"

// Document is the merged OpenAPI v2 (Swagger) JSON of the native /v1 API.
//
//go:embed abacus.swagger.json
var Document []byte
