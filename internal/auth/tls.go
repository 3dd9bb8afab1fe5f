package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// TLSFiles are the files of a server's TLS configuration.
type TLSFiles struct {
	// CertFile and KeyFile are the server's PEM certificate chain and private key.
	CertFile, KeyFile string
	// ClientCAFile, when set, holds the PEM CA certificates that sign client certificates (mutual
	// TLS). A client that presents a certificate must present one signed by them.
	ClientCAFile string
	// RequireClientCert refuses connections without a client certificate (otherwise a client may
	// present none and authenticate with a bearer token instead).
	RequireClientCert bool
}

// Enabled reports whether TLS is configured.
func (f TLSFiles) Enabled() bool { return f.CertFile != "" || f.KeyFile != "" }

// ServerTLS returns a TLS configuration for a server (TLS 1.2 or later, ALPN h2 and http/1.1) whose
// certificate, key and client CAs are read again on the first handshake after their files change,
// so certificates rotate without a restart.
func ServerTLS(f TLSFiles, log *slog.Logger) (*tls.Config, error) {
	return serverTLS(f, log, time.Now)
}

func serverTLS(f TLSFiles, log *slog.Logger, now func() time.Time) (*tls.Config, error) {
	if f.CertFile == "" || f.KeyFile == "" {
		return nil, errors.New("auth: TLS needs both a certificate file and a key file (--tls-cert and --tls-key)")
	}
	if f.RequireClientCert && f.ClientCAFile == "" {
		return nil, errors.New("auth: requiring client certificates needs a client CA file (--tls-client-ca)")
	}
	cert, err := newFileValue("TLS certificate and key", []string{f.CertFile, f.KeyFile}, log, func(c [][]byte) (*tls.Certificate, error) {
		pair, err := tls.X509KeyPair(c[0], c[1])
		if err != nil {
			return nil, err
		}
		return &pair, nil
	})
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	cert.now = now
	var cas *fileValue[*x509.CertPool]
	if f.ClientCAFile != "" {
		if cas, err = newFileValue("TLS client CA", []string{f.ClientCAFile}, log, parseCAs); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		cas.now = now
	}
	base := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	clientAuth := tls.VerifyClientCertIfGiven
	if f.RequireClientCert {
		clientAuth = tls.RequireAndVerifyClientCert
	}
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		c := base.Clone()
		c.GetConfigForClient = nil
		c.Certificates = []tls.Certificate{*cert.get()}
		if cas != nil {
			c.ClientCAs = cas.get()
			c.ClientAuth = clientAuth
		}
		return c, nil
	}
	return base, nil
}

func parseCAs(c [][]byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c[0]) {
		return nil, errors.New("no PEM certificate in the file")
	}
	return pool, nil
}
