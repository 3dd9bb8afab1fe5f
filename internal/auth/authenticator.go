package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"gopkg.in/yaml.v3"
)

// Defaults of Config.
const (
	DefaultTenantClaim = "tenant"
	DefaultRolesClaim  = "roles"
	DefaultLeeway      = 30 * time.Second
)

// Config says which credentials an Authenticator accepts. Every file is read at start (an error then
// is a configuration error) and read again when it changes, so keys and tokens rotate without a
// restart.
type Config struct {
	// JWTSecretFile holds the shared secret of HS256 tokens (its bytes, surrounding white space
	// trimmed; at least 32 bytes).
	JWTSecretFile string
	// JWTPublicKeyFiles are PEM public keys (or certificates) of RS256 (RSA) and ES256 (P-256) tokens.
	JWTPublicKeyFiles []string
	// JWKSFile is a JSON Web Key Set (RFC 7517) with the RSA and P-256 public keys of RS256 and ES256
	// tokens; a token naming a key id (kid) is checked with that key only.
	JWTJWKSFile string
	// JWTIssuer, when set, must equal a token's "iss".
	JWTIssuer string
	// JWTAudience must be among a token's "aud"; required when any JWT key is configured, so a token
	// made for another service is refused here.
	JWTAudience string
	// TenantClaim and RolesClaim name the claims holding the tenant (a string) and the roles (an array
	// of strings or one space-separated string). Defaults "tenant" and "roles".
	TenantClaim string
	RolesClaim  string
	// Leeway is the clock skew allowed on exp and nbf. Default 30s.
	Leeway time.Duration
	// TokensFile lists static API tokens by their SHA-256 (see TokensFile's format in docs/security.md).
	TokensFile string
	// Logger receives reload messages. Default slog.Default().
	Logger *slog.Logger
}

// Enabled reports whether any kind of bearer credential is configured.
func (c Config) Enabled() bool {
	return c.jwtEnabled() || c.TokensFile != ""
}

func (c Config) jwtEnabled() bool {
	return c.JWTSecretFile != "" || len(c.JWTPublicKeyFiles) > 0 || c.JWTJWKSFile != ""
}

// Authenticator checks bearer credentials. Safe for concurrent use.
type Authenticator struct {
	cfg     Config
	secret  *fileValue[[]byte]
	pemKeys *fileValue[[]any]
	jwks    *fileValue[map[string]any] // kid → key ("" kids are numbered)
	tokens  *fileValue[map[[32]byte]Identity]
	parser  *jwt.Parser

	// verified remembers JWTs whose signature and claims were checked, for at most verifiedTTL and
	// never past their expiry, so a client that sends the same token on every call pays for one
	// signature check a minute rather than one per call (ES256 and RS256 cost tens of microseconds).
	mu       sync.RWMutex
	verified map[string]verifiedJWT
	now      func() time.Time
}

type verifiedJWT struct {
	id    Identity
	until time.Time
}

// verifiedTTL bounds how long a checked JWT is trusted without checking it again: a key removed from
// the configuration stops accepting its tokens within this time.
const verifiedTTL = time.Minute

const verifiedMax = 10_000

// NewAuthenticator reads the configured files and returns an Authenticator, or an error naming what
// is wrong with the configuration.
func NewAuthenticator(cfg Config) (*Authenticator, error) {
	if cfg.TenantClaim == "" {
		cfg.TenantClaim = DefaultTenantClaim
	}
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = DefaultRolesClaim
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Authenticator{cfg: cfg, verified: map[string]verifiedJWT{}, now: time.Now}
	var err error
	var methods []string
	if cfg.jwtEnabled() && cfg.JWTAudience == "" {
		return nil, errors.New("auth: a JWT audience is required when JWT keys are configured (--jwt-audience), so tokens made for another service are refused")
	}
	if cfg.JWTSecretFile != "" {
		if a.secret, err = newFileValue("JWT HS256 secret", []string{cfg.JWTSecretFile}, cfg.Logger, parseSecret); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		methods = append(methods, "HS256")
	}
	if len(cfg.JWTPublicKeyFiles) > 0 {
		if a.pemKeys, err = newFileValue("JWT public keys", cfg.JWTPublicKeyFiles, cfg.Logger, parsePEMKeys); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	if cfg.JWTJWKSFile != "" {
		if a.jwks, err = newFileValue("JWKS", []string{cfg.JWTJWKSFile}, cfg.Logger, parseJWKS); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	if a.pemKeys != nil || a.jwks != nil {
		methods = append(methods, "RS256", "ES256")
	}
	if cfg.TokensFile != "" {
		if a.tokens, err = newFileValue("API tokens file", []string{cfg.TokensFile}, cfg.Logger, parseTokens); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(cfg.Leeway),
		jwt.WithAudience(cfg.JWTAudience), jwt.WithTimeFunc(func() time.Time { return a.now() })}
	if cfg.JWTIssuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.JWTIssuer))
	}
	a.parser = jwt.NewParser(opts...)
	return a, nil
}

// Authenticate returns the identity of a bearer credential: a JWT (three dot-separated parts) or a
// static API token. Every refusal wraps ErrUnauthenticated and says why.
func (a *Authenticator) Authenticate(bearer string) (Identity, error) {
	if bearer == "" {
		return Identity{}, unauthenticated("no credential")
	}
	if strings.Count(bearer, ".") == 2 && a.cfg.jwtEnabled() {
		return a.authenticateJWT(bearer)
	}
	if a.tokens != nil {
		if id, ok := a.tokens.get()[sha256.Sum256([]byte(bearer))]; ok {
			return id, nil
		}
		return Identity{}, unauthenticated("unknown API token")
	}
	return Identity{}, unauthenticated("the bearer credential is not a JWT and no API tokens are configured")
}

func (a *Authenticator) authenticateJWT(raw string) (Identity, error) {
	now := a.now()
	a.mu.RLock()
	v, ok := a.verified[raw]
	a.mu.RUnlock()
	if ok && now.Before(v.until) {
		return v.id, nil
	}
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(raw, claims, a.key); err != nil {
		return Identity{}, unauthenticated("invalid JWT: %v", err)
	}
	id, err := a.identityOf(claims)
	if err != nil {
		return id, err
	}
	until := now.Add(verifiedTTL)
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil && exp.Before(until) {
		until = exp.Time
	}
	a.mu.Lock()
	if len(a.verified) >= verifiedMax {
		clear(a.verified)
	}
	a.verified[raw] = verifiedJWT{id: id, until: until}
	a.mu.Unlock()
	return id, nil
}

func (a *Authenticator) identityOf(claims jwt.MapClaims) (Identity, error) {
	sub, _ := claims["sub"].(string)
	tenant, _ := claims[a.cfg.TenantClaim].(string)
	var names []string
	switch v := claims[a.cfg.RolesClaim].(type) {
	case string:
		names = strings.Fields(v)
	case []any:
		for _, r := range v {
			s, ok := r.(string)
			if !ok {
				return Identity{}, unauthenticated("JWT claim %q must hold strings", a.cfg.RolesClaim)
			}
			names = append(names, s)
		}
	}
	roles, err := parseRoles(names)
	if err != nil {
		return Identity{}, unauthenticated("JWT claim %q: %v", a.cfg.RolesClaim, err)
	}
	id, err := checkIdentity(Identity{Tenant: tenant, Subject: sub, Roles: roles, Via: "jwt"})
	if err != nil {
		return Identity{}, unauthenticated("JWT (claims %q and \"sub\"): %v", a.cfg.TenantClaim, err)
	}
	return id, nil
}

// key finds the verification key of a token: the HS256 secret, or the public keys for RS256/ES256
// (the JWKS key named by "kid" when there is one). jwt checks that the key's type fits the algorithm,
// so an RSA public key is never used as an HMAC secret.
func (a *Authenticator) key(t *jwt.Token) (any, error) {
	switch t.Method.Alg() {
	case "HS256":
		if a.secret == nil {
			return nil, errors.New("HS256 tokens are not accepted (no secret configured)")
		}
		return a.secret.get(), nil
	case "RS256", "ES256":
		if kid, _ := t.Header["kid"].(string); kid != "" && a.jwks != nil {
			if k, ok := a.jwks.get()[kid]; ok {
				return k, nil
			}
		}
		var set jwt.VerificationKeySet
		if a.pemKeys != nil {
			for _, k := range a.pemKeys.get() {
				set.Keys = append(set.Keys, k)
			}
		}
		if a.jwks != nil {
			for _, k := range a.jwks.get() {
				set.Keys = append(set.Keys, k)
			}
		}
		if len(set.Keys) == 0 {
			return nil, errors.New("no public key configured")
		}
		return set, nil
	}
	return nil, fmt.Errorf("algorithm %s is not accepted", t.Method.Alg())
}

func parseSecret(c [][]byte) ([]byte, error) {
	s := bytes.TrimSpace(c[0])
	if len(s) < 32 {
		return nil, fmt.Errorf("the HS256 secret is %d bytes; use at least 32 random bytes", len(s))
	}
	return s, nil
}

func parsePEMKeys(c [][]byte) ([]any, error) {
	var keys []any
	for i, b := range c {
		n := 0
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			var k any
			var err error
			switch blk.Type {
			case "PUBLIC KEY":
				k, err = x509.ParsePKIXPublicKey(blk.Bytes)
			case "RSA PUBLIC KEY":
				k, err = x509.ParsePKCS1PublicKey(blk.Bytes)
			case "CERTIFICATE":
				var cert *x509.Certificate
				if cert, err = x509.ParseCertificate(blk.Bytes); err == nil {
					k = cert.PublicKey
				}
			default:
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("file %d: %s block: %w", i+1, blk.Type, err)
			}
			switch k.(type) {
			case *rsa.PublicKey, *ecdsa.PublicKey:
			default:
				return nil, fmt.Errorf("file %d: a %T key is neither RSA nor ECDSA", i+1, k)
			}
			keys = append(keys, k)
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("file %d holds no PEM public key or certificate", i+1)
		}
	}
	return keys, nil
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

func parseJWKS(c [][]byte) (map[string]any, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(c[0], &set); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	keys := map[string]any{}
	b64 := base64.RawURLEncoding
	for i, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var key any
		switch k.Kty {
		case "RSA":
			n, err1 := b64.DecodeString(k.N)
			e, err2 := b64.DecodeString(k.E)
			if err := errors.Join(err1, err2); err != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
				return nil, fmt.Errorf("key %d (%q): bad RSA n or e", i, k.Kid)
			}
			key = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		case "EC":
			if k.Crv != "P-256" {
				return nil, fmt.Errorf("key %d (%q): curve %q is not supported (want P-256 for ES256)", i, k.Kid, k.Crv)
			}
			x, err1 := b64.DecodeString(k.X)
			y, err2 := b64.DecodeString(k.Y)
			if err := errors.Join(err1, err2); err != nil || len(x) != 32 || len(y) != 32 {
				return nil, fmt.Errorf("key %d (%q): bad EC x or y", i, k.Kid)
			}
			pk, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
			if err != nil {
				return nil, fmt.Errorf("key %d (%q): %w", i, k.Kid, err)
			}
			key = pk
		default:
			continue // other key types (oct, OKP) are not used for RS256/ES256
		}
		kid := k.Kid
		if kid == "" {
			kid = fmt.Sprintf("#%d", i)
		}
		keys[kid] = key
	}
	if len(keys) == 0 {
		return nil, errors.New("the key set holds no RSA or P-256 signing key")
	}
	return keys, nil
}

// tokensFile is the format of Config.TokensFile.
type tokensFile struct {
	Tokens []struct {
		SHA256  string   `yaml:"sha256"`
		Tenant  string   `yaml:"tenant"`
		Subject string   `yaml:"subject"`
		Roles   []string `yaml:"roles"`
	} `yaml:"tokens"`
}

func parseTokens(c [][]byte) (map[[32]byte]Identity, error) {
	var f tokensFile
	dec := yaml.NewDecoder(bytes.NewReader(c[0]))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a tokens file (tokens: [{sha256, tenant, subject, roles}]): %w", err)
	}
	out := make(map[[32]byte]Identity, len(f.Tokens))
	for i, t := range f.Tokens {
		h, err := hex.DecodeString(t.SHA256)
		if err != nil || len(h) != 32 {
			return nil, fmt.Errorf("tokens[%d].sha256 must be 64 hex digits (the SHA-256 of the token)", i)
		}
		roles, err := parseRoles(t.Roles)
		if err != nil {
			return nil, fmt.Errorf("tokens[%d].roles: %w", i, err)
		}
		id, err := checkIdentity(Identity{Tenant: t.Tenant, Subject: t.Subject, Roles: roles, Via: "token"})
		if err != nil {
			return nil, fmt.Errorf("tokens[%d]: %w", i, err)
		}
		out[[32]byte(h)] = id
	}
	return out, nil
}

// HashToken returns the hex SHA-256 of a static API token, as a tokens file lists it.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
