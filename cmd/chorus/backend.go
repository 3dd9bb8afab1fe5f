package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/objstore/s3"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/telemetry"
)

// objstoreFlags choose and configure the object store of a gateway or agent: the flags fill in the
// configuration of each kind, and open uses the chosen one's.
type objstoreFlags struct {
	kind  string
	local local.Config
	s3    s3.Config
}

func (o *objstoreFlags) register(f *flags) {
	f.StringVar(&o.kind, "objstore", "local", "object store for large data: local (a folder) or s3")
	f.StringVar(&o.local.Dir, "objstore-dir", ".chorus/objects", "local object store: the folder (shared by the gateway and agents of one machine)")
	f.StringVar(&o.s3.Bucket, "s3-bucket", "", "s3 object store: the bucket (required with --objstore=s3)")
	f.StringVar(&o.s3.Prefix, "s3-prefix", "", "s3 object store: key prefix")
	f.StringVar(&o.s3.Endpoint, "s3-endpoint", "", "s3 object store: endpoint URL of an S3-compatible server (default: AWS)")
	f.StringVar(&o.s3.Region, "s3-region", "", "s3 object store: region (default: the AWS chain's)")
	f.BoolVar(&o.s3.UsePathStyle, "s3-path-style", false, "s3 object store: path-style addressing (most S3-compatible servers need it)")
}

func (o *objstoreFlags) open(ctx context.Context, log *slog.Logger) (objstore.Store, error) {
	switch o.kind {
	case "local":
		cfg := o.local
		cfg.Logger = log
		return local.New(cfg)
	case "s3":
		cfg := o.s3
		cfg.Logger = log
		return s3.New(ctx, cfg)
	default:
		return nil, fmt.Errorf("%w: --objstore must be local or s3, not %q", errUsage, o.kind)
	}
}

// valkeyFlags configure the connection to Valkey and the store's keys.
type valkeyFlags struct {
	addrs  string
	client valkey.ClientOption // Username and Password
	tls    bool
	caFile string
	store  valkeystore.Config // KeyPrefix
}

func (v *valkeyFlags) register(f *flags) {
	f.StringVar(&v.addrs, "valkey-addr", "127.0.0.1:6379", "Valkey address(es), comma-separated; a cluster is detected by itself")
	f.StringVar(&v.client.Username, "valkey-user", "", "Valkey ACL user (empty: the default user); see docs/security.md for the ACL agents and gateways need")
	f.StringVar(&v.client.Password, "valkey-password", "", "Valkey password (prefer the CHORUS_VALKEY_PASSWORD environment variable)")
	f.BoolVar(&v.tls, "valkey-tls", false, "connect to Valkey with TLS (e.g. ElastiCache with in-transit encryption)")
	f.StringVar(&v.caFile, "valkey-ca-file", "", "PEM CA certificates Valkey's TLS certificate is checked against (implies --valkey-tls; default: the system's CAs)")
	f.StringVar(&v.store.KeyPrefix, "key-prefix", "chorus:", "prefix of every Valkey key (several installations may share one Valkey)")
}

func (v *valkeyFlags) open(tel *telemetry.Telemetry, noFunctionLoad bool) (*valkeystore.Store, error) {
	var addrs []string
	for _, a := range strings.Split(v.addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: --valkey-addr is empty", errUsage)
	}
	opt := v.client
	opt.InitAddress = addrs
	if v.tls || v.caFile != "" {
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if v.caFile != "" {
			pem, err := os.ReadFile(v.caFile)
			if err != nil {
				return nil, fmt.Errorf("--valkey-ca-file: %w", err)
			}
			opt.TLSConfig.RootCAs = x509.NewCertPool()
			if !opt.TLSConfig.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--valkey-ca-file %s holds no PEM certificate", v.caFile)
			}
		}
	}
	cfg := v.store
	cfg.Logger, cfg.TracerProvider, cfg.NoFunctionLoad = tel.Logger, tel.TracerProvider, noFunctionLoad
	return valkeystore.Open(opt, cfg)
}

// logFlags configure logging.
type logFlags struct {
	format string
	level  string
}

func (l *logFlags) register(f *flags) {
	f.StringVar(&l.format, "log-format", "text", "log format: text or json")
	f.StringVar(&l.level, "log-level", "info", "lowest level logged: debug, info, warn or error")
}

func (l *logFlags) telemetry(ctx context.Context, env *cliEnv, service string) (*telemetry.Telemetry, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", errUsage, l.level)
	}
	return telemetry.New(ctx, telemetry.Config{ServiceName: service, Getenv: env.getenv, LogFormat: l.format, LogLevel: level, LogOutput: env.stderr})
}

// backendFlags are the flags of a process that serves on Valkey and an object store.
type backendFlags struct {
	valkey valkeyFlags
	objs   objstoreFlags
	log    logFlags
}

func (b *backendFlags) register(f *flags) {
	b.valkey.register(f)
	b.objs.register(f)
	b.log.register(f)
}

// backend is what a gateway or agent process runs on.
type backend struct {
	tel  *telemetry.Telemetry
	st   *valkeystore.Store
	objs objstore.Store
}

// open sets up telemetry for service, then connects to Valkey and opens the object store.
func (b *backendFlags) open(ctx context.Context, env *cliEnv, service string) (*backend, error) {
	tel, err := b.log.telemetry(ctx, env, service)
	if err != nil {
		return nil, err
	}
	// an agent leaves loading the scripts' function library to gateways (docs/security.md)
	st, err := b.valkey.open(tel, service == "chorus-agent")
	if err != nil {
		shutdownTelemetry(tel.Shutdown)
		return nil, err
	}
	objs, err := b.objs.open(ctx, tel.Logger)
	if err != nil {
		st.Close()
		shutdownTelemetry(tel.Shutdown)
		return nil, err
	}
	return &backend{tel: tel, st: st, objs: objs}, nil
}

func (b *backend) close() {
	b.st.Close()
	shutdownTelemetry(b.tel.Shutdown)
}
