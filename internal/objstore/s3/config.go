// Package s3 is the object store of a cluster: objects live in an S3 bucket, on AWS or on any
// S3-compatible server (MinIO, Versity Gateway, Ceph RGW, ...). Data streams in both directions: Put
// sends large objects as a multipart upload whose memory use is bounded by PartSize × (Concurrency+1),
// and Get hands out the response body.
package s3

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Limits of S3 multipart uploads.
const (
	// MinPartSize is the smallest part S3 accepts (except for the last part).
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part S3 accepts.
	MaxPartSize = 5 << 30
	// MaxParts is the most parts one upload may have, so objects are at most PartSize × MaxParts.
	MaxParts = 10000
)

// Defaults of Config.
const (
	DefaultPartSize    = 8 << 20
	DefaultConcurrency = 4
	DefaultRegion      = "us-east-1"
)

// Config configures a Store. Anything not set here comes from the standard AWS chain (environment
// variables such as AWS_ACCESS_KEY_ID, AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_PROFILE; the shared config
// and credentials files; web identity; ECS and EC2 instance roles).
type Config struct {
	// Bucket holds the objects. Required; the bucket must exist (see Store.CheckBucket).
	Bucket string
	// Prefix is put in front of every key, so several deployments can share a bucket; a '/' is added
	// when it does not end with one. Default "" (keys at the bucket's root).
	Prefix string
	// Endpoint is the URL of an S3-compatible server, e.g. "http://127.0.0.1:7070". Default "": AWS
	// (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL from the environment).
	Endpoint string
	// Region of the bucket. Default: the AWS chain's region (AWS_REGION, the config file), else
	// "us-east-1" (what most S3-compatible servers expect).
	Region string
	// UsePathStyle addresses the bucket as http://endpoint/bucket/key instead of
	// http://bucket.endpoint/key. Most S3-compatible servers need it. Default false.
	UsePathStyle bool
	// PartSize is the size of each part of a multipart upload, in bytes, between MinPartSize (5 MiB)
	// and MaxPartSize (5 GiB). Objects up to PartSize go in one PutObject request. Objects may be at
	// most PartSize × 10,000 bytes. Default 8 MiB (objects up to ~78 GiB).
	PartSize int64
	// Concurrency is how many parts of one object upload at once. Each Put holds up to
	// PartSize × (Concurrency+1) bytes of memory. Default 4.
	Concurrency int
	// AccessKeyID and SecretAccessKey (and SessionToken, optional) are static credentials that replace
	// the AWS chain; meant for tests and S3-compatible servers. Default "": use the AWS chain.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Logger receives warnings (e.g. a multipart upload that could not be aborted). Default
	// slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Bucket == "" {
		return c, errors.New("s3 object store: Config.Bucket is empty; set it to the bucket that should hold the objects")
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if strings.HasPrefix(c.Prefix, "/") {
		return c, fmt.Errorf("s3 object store: Config.Prefix %q starts with '/'; write it without, e.g. %q", c.Prefix, strings.TrimLeft(c.Prefix, "/"))
	}
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.PartSize < MinPartSize || c.PartSize > MaxPartSize {
		return c, fmt.Errorf("s3 object store: Config.PartSize is %d bytes; S3 accepts parts from %d (5 MiB) to %d (5 GiB) bytes", c.PartSize, MinPartSize, MaxPartSize)
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Concurrency < 1 {
		return c, fmt.Errorf("s3 object store: Config.Concurrency is %d; it must be at least 1 (0 means the default, %d)", c.Concurrency, DefaultConcurrency)
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return c, errors.New("s3 object store: set both Config.AccessKeyID and Config.SecretAccessKey, or neither to use the AWS credential chain")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
