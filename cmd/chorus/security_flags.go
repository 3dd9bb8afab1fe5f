package main

import (
	"fmt"

	"github.com/chorus-hpc/chorus/sdks/go/client"
)

// clientSecurity are the token and TLS flags of every command that talks to a gateway.
type clientSecurity struct {
	token      string
	caFile     string
	tls        bool
	clientCert string
	clientKey  string
}

func (c *clientSecurity) register(f *flags) {
	f.StringVar(&c.token, "token", "", "bearer token (JWT or API token) sent with every call (prefer CHORUS_TOKEN)")
	f.StringVar(&c.caFile, "ca-file", "", "connect with TLS, trusting the PEM CA certificates in this file")
	f.BoolVar(&c.tls, "tls", false, "connect with TLS, trusting the system's CAs (implied by --ca-file and --client-cert)")
	f.StringVar(&c.clientCert, "client-cert", "", "PEM client certificate for mutual TLS (with --client-key)")
	f.StringVar(&c.clientKey, "client-key", "", "PEM private key of --client-cert")
}

func (c *clientSecurity) dialOptions() ([]client.DialOption, error) {
	opts := []client.DialOption{client.WithToken(c.token)}
	if c.tls || c.caFile != "" || c.clientCert != "" {
		cfg, err := client.TLSConfig(c.caFile, c.clientCert, c.clientKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		opts = append(opts, client.WithTLS(cfg))
	}
	return opts, nil
}
