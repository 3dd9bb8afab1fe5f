package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/objstore/s3"
)

// objstoreFlags choose and configure the object store of a gateway or agent.
type objstoreFlags struct {
	kind       string
	dir        string
	s3Bucket   string
	s3Prefix   string
	s3Endpoint string
	s3Region   string
	s3Path     bool
}

func (o *objstoreFlags) register(f *flags) {
	f.StringVar(&o.kind, "objstore", "local", "object store for large data: local (a folder) or s3")
	f.StringVar(&o.dir, "objstore-dir", ".chorus/objects", "local object store: the folder (shared by the gateway and agents of one machine)")
	f.StringVar(&o.s3Bucket, "s3-bucket", "", "s3 object store: the bucket (required with --objstore=s3)")
	f.StringVar(&o.s3Prefix, "s3-prefix", "", "s3 object store: key prefix")
	f.StringVar(&o.s3Endpoint, "s3-endpoint", "", "s3 object store: endpoint URL of an S3-compatible server (default: AWS)")
	f.StringVar(&o.s3Region, "s3-region", "", "s3 object store: region (default: the AWS chain's)")
	f.BoolVar(&o.s3Path, "s3-path-style", false, "s3 object store: path-style addressing (most S3-compatible servers need it)")
}

func (o *objstoreFlags) open(ctx context.Context, log *slog.Logger) (objstore.Store, error) {
	switch o.kind {
	case "local":
		return local.New(local.Config{Dir: o.dir, Logger: log})
	case "s3":
		return s3.New(ctx, s3.Config{Bucket: o.s3Bucket, Prefix: o.s3Prefix, Endpoint: o.s3Endpoint, Region: o.s3Region, UsePathStyle: o.s3Path, Logger: log})
	default:
		return nil, fmt.Errorf("%w: --objstore must be local or s3, not %q", errUsage, o.kind)
	}
}
