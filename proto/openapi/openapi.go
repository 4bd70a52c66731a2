// Package openapi embeds the OpenAPI v2 document of the native /v1 API,
// generated from the service protos, so the gateway can serve it.
package openapi

import _ "embed"

// generated is protoc-gen-openapiv2's output, as `make generate` writes it.
//
//go:embed abacus.swagger.json
var generated []byte

// Document is the merged OpenAPI v2 (Swagger) JSON of the native /v1 API as
// the gateway serves it: the generated document with the enum values
// renamed to the short names the native API reads and writes (see
// ShortName), so that it describes what is on the wire.
var Document = func() []byte {
	doc, err := wireDocument(generated)
	if err != nil {
		// The generated file is checked in and tested; a build whose file
		// does not parse cannot serve its API.
		panic(err)
	}
	return doc
}()
