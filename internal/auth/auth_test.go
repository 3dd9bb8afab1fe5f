package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/auth/authtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const aud = "chorus-test"

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	authtest.WriteFile(t, p, []byte(text))
	return p
}

func TestJWTHS256(t *testing.T) {
	t.Parallel()
	secret := []byte(strings.Repeat("s3cret-", 6))
	dir := t.TempDir()
	a, err := NewAuthenticator(Config{JWTSecretFile: writeFile(t, dir, "secret", string(secret)+"\n"), JWTAudience: aud, JWTIssuer: "issuer", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	good := authtest.Claims{Tenant: "acme", Subject: "alice", Roles: []string{"user"}, Audience: aud, Issuer: "issuer"}
	id, err := a.Authenticate(authtest.HS256(t, secret, good))
	if err != nil {
		t.Fatal(err)
	}
	if id.Tenant != "acme" || id.Subject != "alice" || !id.CanWrite() || id.Admin() || id.Via != "jwt" {
		t.Fatalf("identity %+v", id)
	}
	bad := map[string]string{
		"bad signature":  authtest.HS256(t, []byte(strings.Repeat("other-", 8)), good),
		"expired":        authtest.HS256(t, secret, with(good, func(c *authtest.Claims) { c.Expires = time.Now().Add(-time.Hour) })),
		"not yet valid":  authtest.HS256(t, secret, with(good, func(c *authtest.Claims) { c.NotBefore = time.Now().Add(time.Hour) })),
		"wrong audience": authtest.HS256(t, secret, with(good, func(c *authtest.Claims) { c.Audience = "another-service" })),
		"wrong issuer":   authtest.HS256(t, secret, with(good, func(c *authtest.Claims) { c.Issuer = "someone-else" })),
		"no tenant":      authtest.HS256(t, secret, with(good, func(c *authtest.Claims) { c.Tenant = "" })),
		"unknown role":   authtest.HS256(t, secret, with(good, func(c *authtest.Claims) { c.Roles = []string{"root"} })),
		"no role":        authtest.HS256(t, secret, with(good, func(c *authtest.Claims) { c.Roles = nil })),
		"garbage":        "a.b.c",
		"empty":          "",
	}
	for name, tok := range bad {
		if _, err := a.Authenticate(tok); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: got %v, want ErrUnauthenticated", name, err)
		}
	}
}

// TestVerifiedJWTsExpire: a remembered token is refused once it expires, and is checked again after
// verifiedTTL (a secret rotated away stops accepting it).
func TestVerifiedJWTsExpire(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := []byte(strings.Repeat("a", 40))
	file := writeFile(t, dir, "secret", string(secret))
	a, err := NewAuthenticator(Config{JWTSecretFile: file, JWTAudience: aud, Leeway: time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a.now = func() time.Time { return now }
	a.secret.now = a.now
	short := authtest.HS256(t, secret, authtest.Claims{Tenant: "t", Subject: "s", Roles: []string{"user"}, Audience: aud, Expires: now.Add(10 * time.Second)})
	long := authtest.HS256(t, secret, authtest.Claims{Tenant: "t", Subject: "s", Roles: []string{"user"}, Audience: aud, Expires: now.Add(time.Hour)})
	for _, tok := range []string{short, long} {
		if _, err := a.Authenticate(tok); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(20 * time.Second)
	if _, err := a.Authenticate(short); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("an expired remembered token: %v", err)
	}
	authtest.WriteFile(t, file, []byte(strings.Repeat("b", 40))) // rotate the secret
	later := now.Add(time.Minute)
	if err := os.Chtimes(file, later, later); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(long); err != nil {
		t.Fatalf("within verifiedTTL the remembered token still works: %v", err)
	}
	now = now.Add(verifiedTTL + time.Second)
	if _, err := a.Authenticate(long); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a token of the rotated secret after verifiedTTL: %v", err)
	}
}

func with(c authtest.Claims, f func(*authtest.Claims)) authtest.Claims { f(&c); return c }

func TestJWTPublicKeysAndJWKS(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pemFile := writeFile(t, dir, "rsa.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	b64 := base64.RawURLEncoding
	ecPub, _ := ecKey.PublicKey.Bytes() // 0x04 || X || Y
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "EC", "crv": "P-256", "kid": "ec1", "use": "sig", "x": b64.EncodeToString(ecPub[1:33]), "y": b64.EncodeToString(ecPub[33:])},
	}})
	jwksFile := writeFile(t, dir, "jwks.json", string(jwks))
	a, err := NewAuthenticator(Config{JWTPublicKeyFiles: []string{pemFile}, JWTJWKSFile: jwksFile, JWTAudience: aud, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c := authtest.Claims{Tenant: "acme", Subject: "svc", Roles: []string{"reader"}, Audience: aud}
	for name, tok := range map[string]string{
		"RS256 PEM":         authtest.Sign(t, rsaKey, "", c),
		"ES256 JWKS kid":    authtest.Sign(t, ecKey, "ec1", c),
		"ES256 JWKS no kid": authtest.Sign(t, ecKey, "", c),
	} {
		id, err := a.Authenticate(tok)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if id.CanWrite() || !id.CanRead() {
			t.Errorf("%s: reader identity %+v", name, id)
		}
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := a.Authenticate(authtest.Sign(t, otherKey, "ec1", c)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("a token signed by an unknown key: %v", err)
	}
	// No HS256 secret: an HS256 token signed with the RSA public key bytes (algorithm confusion) fails.
	if _, err := a.Authenticate(authtest.HS256(t, der, c)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("HS256 token signed with the public key: %v", err)
	}
}

func TestAudienceRequiredWithJWTKeys(t *testing.T) {
	t.Parallel()
	_, err := NewAuthenticator(Config{JWTSecretFile: writeFile(t, t.TempDir(), "s", strings.Repeat("x", 40)), Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "audience") {
		t.Fatalf("got %v, want an error about the audience", err)
	}
}

func TestStaticTokensAreHashedAndReloaded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeFile(t, dir, "tokens.yaml", "tokens:\n  - sha256: "+HashToken("tok-one-0123456789abcdef")+"\n    tenant: acme\n    subject: ci\n    roles: [user]\n")
	a, err := NewAuthenticator(Config{TokensFile: file, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a.tokens.now = func() time.Time { return now }
	if id, err := a.Authenticate("tok-one-0123456789abcdef"); err != nil || id.Tenant != "acme" || id.Via != "token" {
		t.Fatalf("token one: %+v, %v", id, err)
	}
	if _, err := a.Authenticate("tok-two-0123456789abcdef"); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("unknown token: %v", err)
	}
	// Rotate: token two replaces token one.
	authtest.WriteFile(t, file, []byte("tokens:\n  - sha256: "+HashToken("tok-two-0123456789abcdef")+"\n    tenant: beta\n    subject: ci\n    roles: [reader]\n"))
	now = now.Add(2 * reloadCheckEvery)
	if id, err := a.Authenticate("tok-two-0123456789abcdef"); err != nil || id.Tenant != "beta" {
		t.Fatalf("token two after the rotation: %+v, %v", id, err)
	}
	if _, err := a.Authenticate("tok-one-0123456789abcdef"); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("token one after the rotation: %v", err)
	}
	// A broken file keeps the last good tokens.
	authtest.WriteFile(t, file, []byte("tokens: [ {sha256: nothex"))
	now = now.Add(2 * reloadCheckEvery)
	if _, err := a.Authenticate("tok-two-0123456789abcdef"); err != nil {
		t.Fatalf("token two while the file is broken: %v", err)
	}
}

func TestCertIdentity(t *testing.T) {
	t.Parallel()
	ok := &x509.Certificate{Subject: pkix.Name{CommonName: "bot", Organization: []string{"acme"}, OrganizationalUnit: []string{"user", "reader"}}}
	id, err := CertIdentity(ok)
	if err != nil || id.Tenant != "acme" || id.Subject != "bot" || !id.CanWrite() || id.Via != "certificate" {
		t.Fatalf("%+v %v", id, err)
	}
	for _, bad := range []pkix.Name{
		{CommonName: "bot", OrganizationalUnit: []string{"user"}},
		{CommonName: "bot", Organization: []string{"acme"}},
		{Organization: []string{"acme"}, OrganizationalUnit: []string{"user"}},
		{CommonName: "bot", Organization: []string{"a", "b"}, OrganizationalUnit: []string{"user"}},
	} {
		if _, err := CertIdentity(&x509.Certificate{Subject: bad}); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

// TestServerTLSReloadsCertificate rotates the server certificate on disk and checks that the next
// handshake presents the new one.
func TestServerTLSReloadsCertificate(t *testing.T) {
	t.Parallel()
	ca := authtest.NewCA(t, "rot")
	first := ca.Server(t, "first")
	second := ca.Server(t, "second")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	copyPair := func(p authtest.Pair) {
		authtest.WriteFile(t, certFile, p.CertPEM)
		authtest.WriteFile(t, keyFile, p.KeyPEM)
	}
	copyPair(first)
	var mu sync.Mutex
	now := time.Now()
	cfg, err := serverTLS(TLSFiles{CertFile: certFile, KeyFile: keyFile}, quiet, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	if err != nil {
		t.Fatal(err)
	}
	lis, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	serial := func() string {
		c, err := tls.Dial("tcp", lis.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	want1 := mustLeaf(t, first).SerialNumber.String()
	if got := serial(); got != want1 {
		t.Fatalf("first handshake: serial %s, want %s", got, want1)
	}
	copyPair(second)
	bump := func(p string) { // a later modification time, as a real rotation has
		later := time.Now().Add(time.Minute)
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
	}
	bump(certFile)
	bump(keyFile)
	mu.Lock()
	now = now.Add(2 * reloadCheckEvery)
	mu.Unlock()
	if got, want := serial(), mustLeaf(t, second).SerialNumber.String(); got != want {
		t.Fatalf("after rotation: serial %s, want %s", got, want)
	}
}

func mustLeaf(t *testing.T, p authtest.Pair) *x509.Certificate {
	blk, _ := pem.Decode(p.CertPEM)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTenantsFile(t *testing.T) {
	t.Parallel()
	file := writeFile(t, t.TempDir(), "tenants.yaml", "default:\n  max_sessions: 5\ntenants:\n  acme:\n    partitions: [go]\n    max_queued_tasks: 10\n")
	ts, err := LoadTenants(file, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if a := ts.Get("acme"); !a.AllowsPartition("go") || a.AllowsPartition("python") || a.MaxQueuedTasks != 10 {
		t.Fatalf("acme: %+v", a)
	}
	if o := ts.Get("other"); !o.AllowsPartition("python") || o.MaxSessions != 5 {
		t.Fatalf("default: %+v", o)
	}
	if _, err := LoadTenants(writeFile(t, t.TempDir(), "bad.yaml", "tenants:\n  acme:\n    max_session: 1\n"), quiet); err == nil {
		t.Fatal("a misspelt field was accepted")
	}
}

// BenchmarkAuthenticate is the cost of checking one bearer credential, per kind.
func BenchmarkAuthenticate(b *testing.B) {
	dir := b.TempDir()
	secret := []byte(strings.Repeat("k", 40))
	secretFile := filepath.Join(dir, "secret")
	authtest.WriteFile(b, secretFile, secret)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var pems []byte
	for _, k := range []any{&rsaKey.PublicKey, &ecKey.PublicKey} {
		der, _ := x509.MarshalPKIXPublicKey(k)
		pems = append(pems, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})...)
	}
	keyFile := filepath.Join(dir, "keys.pem")
	authtest.WriteFile(b, keyFile, pems)
	token := "static-api-token-0123456789abcdef0123456789"
	tokensFile := filepath.Join(dir, "tokens.yaml")
	authtest.WriteFile(b, tokensFile, []byte("tokens:\n  - {sha256: "+HashToken(token)+", tenant: acme, subject: ci, roles: [user]}\n"))
	a, err := NewAuthenticator(Config{JWTSecretFile: secretFile, JWTPublicKeyFiles: []string{keyFile}, JWTAudience: aud, TokensFile: tokensFile, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	c := authtest.Claims{Tenant: "acme", Subject: "alice", Roles: []string{"user"}, Audience: aud}
	for name, tok := range map[string]string{
		"HS256": authtest.HS256(b, secret, c),
		"RS256": authtest.Sign(b, rsaKey, "", c),
		"ES256": authtest.Sign(b, ecKey, "", c),
		"token": token,
	} {
		b.Run(name+"/checked", func(b *testing.B) { // every call checks the signature
			for range b.N {
				a.mu.Lock()
				clear(a.verified)
				a.mu.Unlock()
				if _, err := a.Authenticate(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/repeated", func(b *testing.B) { // the same token again: remembered for a minute
			for range b.N {
				if _, err := a.Authenticate(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
