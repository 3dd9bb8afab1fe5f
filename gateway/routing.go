package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// route is one path template of the REST API with the methods it serves.
type route struct {
	re      *regexp.Regexp
	verb    bool // the template ends in a custom verb (":pause")
	methods []string
}

// routeTable lists the REST routes from the served OpenAPI document (generated routes and the ones
// served beside them), so that a request with a method the path does not serve is answered 405 with
// an Allow header.
type routeTable []route

var templateVar = regexp.MustCompile(`\{[^}]+\}`)

func newRouteTable(doc []byte) (routeTable, error) {
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("gateway: reading the embedded OpenAPI document: %w", err)
	}
	var t routeTable
	for tmpl, ops := range d.Paths {
		parts := templateVar.Split(tmpl, -1)
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		r := route{re: regexp.MustCompile("^" + strings.Join(parts, "[^/]+") + "$"),
			verb: strings.Contains(tmpl[strings.LastIndex(tmpl, "/")+1:], ":")}
		for m := range ops {
			if m = strings.ToUpper(m); m != "PARAMETERS" {
				r.methods = append(r.methods, m)
			}
		}
		t = append(t, r)
	}
	return t, nil
}

// allowed returns the methods served on path (sorted), or nil when no route matches.
// A template with a custom verb wins over one whose last variable would swallow ":verb".
func (t routeTable) allowed(path string) []string {
	set := map[string]bool{}
	for _, verbOnly := range []bool{true, false} {
		for _, r := range t {
			if r.verb == verbOnly && r.re.MatchString(path) {
				for _, m := range r.methods {
					set[m] = true
				}
			}
		}
		if len(set) > 0 {
			break
		}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// routingError answers requests no REST route takes: 405 with Allow when the path exists with other
// methods, grpc-gateway's answer otherwise.
func (s *Server) routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if httpStatus == http.StatusMethodNotAllowed || httpStatus == http.StatusNotFound {
		if allowed := s.routes.allowed(r.URL.Path); len(allowed) > 0 && !slices.Contains(allowed, r.Method) {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			err := status.Errorf(codes.Unimplemented, "method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allowed, ", "))
			runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusMethodNotAllowed, Err: err})
			return
		}
	}
	runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
}

// sizeLimits are the limits on how large a request (or a part of it) may be: a REST request over one
// of them is answered 413 Content Too Large, not 429 (retrying the same request cannot succeed).
var sizeLimits = []string{"MaxMessageSize", "MaxResultSize", "MaxPayload", "InlineLimit", "MaxBatch"}

// restError is grpc-gateway's error answer, with 413 for RESOURCE_EXHAUSTED errors about a size limit.
func restError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	var hs *runtime.HTTPStatusError
	if st, ok := status.FromError(err); ok && !errors.As(err, &hs) && st.Code() == codes.ResourceExhausted && overSizeLimit(st) {
		err = &runtime.HTTPStatusError{HTTPStatus: http.StatusRequestEntityTooLarge, Err: err}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

func overSizeLimit(st *status.Status) bool {
	for _, d := range st.Details() {
		if qf, ok := d.(*errdetails.QuotaFailure); ok {
			for _, v := range qf.GetViolations() {
				for _, l := range sizeLimits {
					if v.GetSubject() == l || strings.HasPrefix(v.GetSubject(), l+"=") {
						return true
					}
				}
			}
		}
	}
	return false
}
