package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc"
)

// WithToken sends "authorization: Bearer <token>" with every call: a JWT or an API token of the
// gateway (see docs/security.md). An empty token sends nothing. Use it with WithTLS beyond loopback:
// without TLS the token travels in clear text.
func WithToken(token string) DialOption {
	if token == "" {
		return func(*options) {}
	}
	return WithDialOptions(grpc.WithPerRPCCredentials(bearer(token)))
}

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false so that `chorus dev --auth` works on loopback without TLS.
func (b bearer) RequireTransportSecurity() bool { return false }

// TLSConfig returns a client TLS configuration that trusts the PEM CA certificates in caFile (the
// system's CAs when empty) and presents the client certificate certFile/keyFile when both are set
// (mutual TLS). Pass it to WithTLS.
func TLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("chorus client: reading the CA file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("chorus client: %s holds no PEM certificate", caFile)
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("chorus client: a client certificate needs both its certificate file and its key file")
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("chorus client: loading the client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// FromEnv returns the dial options the environment asks for: CHORUS_TOKEN (a bearer token),
// CHORUS_CA_FILE (TLS trusting that CA), CHORUS_TLS=1 (TLS trusting the system's CAs) and
// CHORUS_CLIENT_CERT / CHORUS_CLIENT_KEY (mutual TLS).
func FromEnv() ([]DialOption, error) {
	var opts []DialOption
	if t := os.Getenv("CHORUS_TOKEN"); t != "" {
		opts = append(opts, WithToken(t))
	}
	ca, cert, key := os.Getenv("CHORUS_CA_FILE"), os.Getenv("CHORUS_CLIENT_CERT"), os.Getenv("CHORUS_CLIENT_KEY")
	if ca != "" || cert != "" || os.Getenv("CHORUS_TLS") == "1" {
		c, err := TLSConfig(ca, cert, key)
		if err != nil {
			return nil, err
		}
		opts = append(opts, WithTLS(c))
	}
	return opts, nil
}
