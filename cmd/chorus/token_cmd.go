package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chorus-hpc/chorus/internal/auth"
)

// The JWT settings of `chorus dev --auth`.
const (
	devAudience = "chorus-dev"
	devIssuer   = "chorus-dev"
	devTenant   = "dev"
)

func runToken(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "token", "")
	secretFile := fs.String("secret-file", "", "file with the HS256 secret the gateway checks (--jwt-secret-file); `chorus dev --auth` keeps it in <data-dir>/auth/jwt-secret")
	tenant := fs.String("tenant", devTenant, "tenant of the token")
	subject := fs.String("subject", "", "subject (who); default: the tenant's name")
	roles := fs.String("roles", "user", "comma-separated roles: admin, user, reader")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	audience := fs.String("audience", devAudience, "audience (aud): the gateway's --jwt-audience")
	issuer := fs.String("issuer", devIssuer, "issuer (iss): the gateway's --jwt-issuer")
	hash := fs.Bool("hash", false, "instead: read an API token on standard input and print its tokens-file line (SHA-256)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *hash {
		line, err := bufio.NewReader(env.stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("%w: --hash reads the token on standard input", errUsage)
		}
		fmt.Fprintf(env.stdout, "  - sha256: %s\n", auth.HashToken(strings.TrimSpace(line)))
		return nil
	}
	if *secretFile == "" {
		return fmt.Errorf("%w: --secret-file is required", errUsage)
	}
	secret, err := os.ReadFile(*secretFile)
	if err != nil {
		return err
	}
	if *subject == "" {
		*subject = *tenant
	}
	tok, err := mintToken(strings.TrimSpace(string(secret)), *tenant, *subject, strings.Split(*roles, ","), *audience, *issuer, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, tok)
	return nil
}

func mintToken(secret, tenant, subject string, roles []string, audience, issuer string, ttl time.Duration) (string, error) {
	now := time.Now()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": issuer, "aud": audience, "sub": subject, auth.DefaultTenantClaim: tenant, auth.DefaultRolesClaim: roles,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
	}).SignedString([]byte(secret))
}

// devSecret returns the path of the dev HS256 secret under dataDir, making it on first use.
func devSecret(dataDir string) (string, error) {
	dir := filepath.Join(dataDir, "auth")
	path := filepath.Join(dir, "jwt-secret")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
		return "", err
	}
	return path, nil
}
