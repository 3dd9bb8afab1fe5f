package gateway

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net"

	"github.com/chorus-hpc/chorus/internal/auth"
)

// securityEnabled reports whether callers must authenticate: some bearer credential or a client CA
// is configured. Without either the gateway is open (fine on loopback, as `chorus dev` runs it).
func (cfg Config) securityEnabled() bool {
	return cfg.Auth.Enabled() || cfg.TLS.ClientCAFile != ""
}

// registerSecurityFlags defines the TLS, authentication and tenant flags.
func (cfg *Config) registerSecurityFlags(fs *flag.FlagSet) {
	fs.StringVar(&cfg.TLS.CertFile, "tls-cert", cfg.TLS.CertFile, "PEM certificate chain of the gRPC and REST ports (TLS; re-read when it changes)")
	fs.StringVar(&cfg.TLS.KeyFile, "tls-key", cfg.TLS.KeyFile, "PEM private key of --tls-cert (re-read when it changes)")
	fs.StringVar(&cfg.TLS.ClientCAFile, "tls-client-ca", cfg.TLS.ClientCAFile, "PEM CA certificates of client certificates (mutual TLS: O=tenant, CN=subject, OU=roles); turns authentication on")
	fs.BoolVar(&cfg.TLS.RequireClientCert, "tls-require-client-cert", cfg.TLS.RequireClientCert, "refuse connections without a client certificate (default: a bearer token also works)")
	fs.StringVar(&cfg.Auth.JWTSecretFile, "jwt-secret-file", cfg.Auth.JWTSecretFile, "file with the HS256 secret of JWTs (at least 32 bytes); turns authentication on")
	fs.Func("jwt-public-key", "PEM public key (or certificate) file of RS256/ES256 JWTs; repeatable or comma-separated; turns authentication on", commaList(&cfg.Auth.JWTPublicKeyFiles))
	fs.StringVar(&cfg.Auth.JWTJWKSFile, "jwt-jwks-file", cfg.Auth.JWTJWKSFile, "JSON Web Key Set file with the public keys of RS256/ES256 JWTs; turns authentication on")
	fs.StringVar(&cfg.Auth.JWTIssuer, "jwt-issuer", cfg.Auth.JWTIssuer, "required JWT issuer (iss); empty: not checked")
	fs.StringVar(&cfg.Auth.JWTAudience, "jwt-audience", cfg.Auth.JWTAudience, "required JWT audience (aud); required with any JWT key")
	fs.StringVar(&cfg.Auth.TenantClaim, "jwt-tenant-claim", auth.DefaultTenantClaim, "JWT claim holding the tenant")
	fs.StringVar(&cfg.Auth.RolesClaim, "jwt-roles-claim", auth.DefaultRolesClaim, "JWT claim holding the roles (admin, user, reader)")
	fs.StringVar(&cfg.Auth.TokensFile, "api-tokens-file", cfg.Auth.TokensFile, "YAML file of static API tokens by SHA-256 (tokens: [{sha256, tenant, subject, roles}]); turns authentication on")
	fs.StringVar(&cfg.TenantsFile, "tenants-file", cfg.TenantsFile, "YAML file of per-tenant allowed partitions and quotas (max_sessions, max_queued_tasks)")
}

// security is what the gateway built from the security settings.
type security struct {
	enabled bool
	tls     *tls.Config // nil: plaintext
	authn   *auth.Authenticator
	tenants *auth.Tenants
	audit   *slog.Logger
}

func newSecurity(cfg Config) (*security, error) {
	sec := &security{enabled: cfg.securityEnabled(), audit: cfg.AuditLogger}
	if sec.audit == nil {
		sec.audit = cfg.Logger
	}
	var err error
	if cfg.TLS.Enabled() {
		if sec.tls, err = auth.ServerTLS(cfg.TLS, cfg.Logger); err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
	} else if cfg.TLS.ClientCAFile != "" {
		return nil, fmt.Errorf("gateway: --tls-client-ca needs TLS (--tls-cert and --tls-key)")
	}
	if cfg.Auth.Enabled() {
		a := cfg.Auth
		a.Logger = cfg.Logger
		if sec.authn, err = auth.NewAuthenticator(a); err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
	}
	if sec.tenants, err = auth.LoadTenants(cfg.TenantsFile, cfg.Logger); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	for _, addr := range []string{cfg.GRPCAddr, cfg.HTTPAddr} {
		if loopback(addr) {
			continue
		}
		if !sec.enabled {
			cfg.Logger.Warn("the gateway listens beyond loopback WITHOUT authentication: anyone who reaches it can read, cancel and purge every session; configure --jwt-*, --api-tokens-file or --tls-client-ca", "addr", addr)
		} else if sec.tls == nil {
			cfg.Logger.Warn("the gateway listens beyond loopback without TLS: bearer tokens travel in clear text unless a proxy in front terminates TLS; configure --tls-cert and --tls-key", "addr", addr)
		}
	}
	return sec, nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
