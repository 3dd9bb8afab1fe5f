// Package contract holds tests of the chorus.v1 API contract itself: every request message decodes
// from its JSON form and is validated by the protovalidate rules written in proto/, so a rule that is
// missing or wrong shows up here before it reaches the gateway.
package contract
