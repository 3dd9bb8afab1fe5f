package gateway

import _ "embed"

// openAPIDocument is the OpenAPI (Swagger 2.0) document generated from proto/ by `make gen`, served at
// /openapi.json.
//
//go:embed openapi/chorus.swagger.json
var openAPIDocument []byte
