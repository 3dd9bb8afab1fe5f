// Package auth authenticates Chorus's callers and describes who they are: an Identity is a tenant, a
// subject and roles, taken from a JWT (HS256, RS256 or ES256; issuer, audience, expiry and not-before
// checked), a static API token (kept only as its SHA-256) or a verified client certificate. It also
// builds the gateway's TLS configuration from certificate files that are picked up again when they
// change, and reads the per-tenant settings (allowed partitions, quotas).
package auth

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/chorus-hpc/chorus/internal/validate"
)

// Role is what a caller may do.
type Role string

// The roles. An admin reaches every tenant's sessions and every partition; a user creates, submits,
// reads, cancels and purges its own tenant's sessions; a reader only reads them.
const (
	RoleAdmin  Role = "admin"
	RoleUser   Role = "user"
	RoleReader Role = "reader"
)

// Identity is an authenticated caller.
type Identity struct {
	Tenant  string
	Subject string
	Roles   []Role
	// Via says how the caller proved who it is: "jwt", "token" or "certificate".
	Via string
}

// Has reports whether the identity holds role r.
func (id Identity) Has(r Role) bool { return slices.Contains(id.Roles, r) }

// Admin reports whether the identity is an admin.
func (id Identity) Admin() bool { return id.Has(RoleAdmin) }

// CanWrite reports whether the identity may change its tenant's sessions (admin or user).
func (id Identity) CanWrite() bool { return id.Has(RoleAdmin) || id.Has(RoleUser) }

// CanRead reports whether the identity may read its tenant's sessions (any known role).
func (id Identity) CanRead() bool { return id.CanWrite() || id.Has(RoleReader) }

// ErrUnauthenticated wraps every reason a credential is refused.
var ErrUnauthenticated = errors.New("unauthenticated")

func unauthenticated(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnauthenticated, fmt.Sprintf(format, args...))
}

// parseRoles accepts known roles only, so a typo in a token or file is an error, not a silent
// downgrade or upgrade.
func parseRoles(names []string) ([]Role, error) {
	var roles []Role
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		switch r := Role(n); r {
		case RoleAdmin, RoleUser, RoleReader:
			if !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		default:
			return nil, fmt.Errorf("unknown role %q (want admin, user or reader)", n)
		}
	}
	if len(roles) == 0 {
		return nil, errors.New("no role (want admin, user or reader)")
	}
	return roles, nil
}

// checkIdentity refuses an identity with no tenant or subject.
func checkIdentity(id Identity) (Identity, error) {
	if id.Tenant == "" {
		return id, errors.New("no tenant")
	}
	if id.Subject == "" {
		return id, errors.New("no subject")
	}
	if !validTenant(id.Tenant) {
		return id, fmt.Errorf("tenant %q is not a valid name (letters, digits, '.', '_', '-'; at most 128)", id.Tenant)
	}
	return id, nil
}

// validTenant reports whether t is a tenant name: 1-128 letters, digits, '.', '_' or '-'.
func validTenant(t string) bool { return validate.Token(t, 128) }

// CertIdentity maps a verified client certificate to an identity: the subject's Organization (O) is
// the tenant, its CommonName (CN) the subject and its OrganizationalUnit (OU) values the roles, e.g.
// "CN=ci-bot,OU=user,O=acme". A certificate without them is refused.
func CertIdentity(cert *x509.Certificate) (Identity, error) {
	subj := cert.Subject
	if len(subj.Organization) != 1 {
		return Identity{}, unauthenticated("client certificate %q must name exactly one tenant as its Organization (O), has %d", subj.String(), len(subj.Organization))
	}
	roles, err := parseRoles(subj.OrganizationalUnit)
	if err != nil {
		return Identity{}, unauthenticated("client certificate %q: roles are its OrganizationalUnit (OU) values: %v", subj.String(), err)
	}
	id, err := checkIdentity(Identity{Tenant: subj.Organization[0], Subject: subj.CommonName, Roles: roles, Via: "certificate"})
	if err != nil {
		return Identity{}, unauthenticated("client certificate %q: %v", subj.String(), err)
	}
	return id, nil
}
