// Package s3test runs a real S3-compatible server (Versity Gateway on a posix folder) on a free
// loopback port for tests, and hands out fresh buckets on it.
//
// The server binary is <module root>/bin/versitygw, installed by `make s3-server`, or the file named
// by $CHORUS_S3_SERVER. When the default binary is missing, Start skips the test, unless
// $CHORUS_REQUIRE_S3_SERVER is set (as `make test-objstore` does), in which case it fails; so does a
// $CHORUS_S3_SERVER that names no file.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/chorus-hpc/chorus/internal/objstore/s3"
	"github.com/chorus-hpc/chorus/internal/testutil/freeport"
	"github.com/chorus-hpc/chorus/internal/testutil/modroot"
	"github.com/chorus-hpc/chorus/internal/testutil/syncbuf"
)

// Environment variables read by Start.
const (
	EnvBinary  = "CHORUS_S3_SERVER"
	EnvRequire = "CHORUS_REQUIRE_S3_SERVER"
)

// startTimeout bounds how long the server may take to accept connections.
const startTimeout = time.Minute

// Server is a running Versity Gateway; Start stops it when the test ends.
type Server struct {
	// Endpoint is the server's URL, e.g. "http://127.0.0.1:41234".
	Endpoint string
	// AccessKey and SecretKey are the root user's credentials.
	AccessKey string
	SecretKey string
	// Dir is the folder the posix backend serves: one sub-folder per bucket.
	Dir string

	client *awss3.Client
}

// Binary returns the path of the server binary, or an error saying how to install it.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$%s names %q, which cannot be used: %w", EnvBinary, p, err)
		}
		return p, nil
	}
	root, err := modroot.Find()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("the S3 test server %s is not installed: run `make s3-server` in %s (or set $%s)", p, root, EnvBinary)
	}
	return p, nil
}

// Start runs a server on a free loopback port for the rest of tb (see the package doc for when it
// skips instead).
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv(EnvRequire) != "" || os.Getenv(EnvBinary) != "" {
			tb.Fatalf("cannot run the S3 tests: %v", err)
		}
		tb.Skipf("skipping the S3 tests: %v", err)
	}
	s := &Server{Dir: tb.TempDir(), AccessKey: "chorus-test-" + randomHex(4), SecretKey: randomHex(16)}
	var lastErr error
	for range 3 { // the free port may be taken between choosing and binding it
		if lastErr = s.run(tb, bin); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		tb.Fatalf("starting the S3 test server %s: %v", bin, lastErr)
	}
	s.client = awss3.New(awss3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
	return s
}

// run starts the server on a free port and waits until it accepts connections.
func (s *Server) run(tb testing.TB, bin string) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freeport.Get(tb)))
	var out syncbuf.Buffer
	cmd := exec.Command(bin, "--port", addr, "--access", s.AccessKey, "--secret", s.SecretKey, "--quiet",
		"posix", s.Dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("the server exited (%v) before accepting connections; its output:\n%s", err, out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("the server did not accept connections on %s within %v; its output:\n%s", addr, startTimeout, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Endpoint = "http://" + addr
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	return nil
}

// NewBucket creates a bucket with a fresh name and returns the name.
func (s *Server) NewBucket(tb testing.TB) string {
	tb.Helper()
	name := "chorus-test-" + randomHex(6)
	if _, err := s.client.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		tb.Fatalf("creating bucket %q on the S3 test server: %v", name, err)
	}
	return name
}

// Config returns a store configuration for bucket on this server (static keys, path-style
// addressing, the smallest part size S3 allows so that a few MiB take a multipart upload).
func (s *Server) Config(bucket string) s3.Config {
	return s3.Config{
		Bucket: bucket, Endpoint: s.Endpoint, Region: "us-east-1", UsePathStyle: true,
		AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey,
		PartSize: s3.MinPartSize, Concurrency: 2,
	}
}

// NewStore returns a store on a fresh bucket, configured by Config and then by each of opts.
func (s *Server) NewStore(tb testing.TB, opts ...func(*s3.Config)) *s3.Store {
	tb.Helper()
	cfg := s.Config(s.NewBucket(tb))
	for _, o := range opts {
		o(&cfg)
	}
	st, err := s3.New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("s3.New: %v", err)
	}
	if err := st.CheckBucket(context.Background()); err != nil {
		tb.Fatalf("CheckBucket: %v", err)
	}
	return st
}

// Client is an S3 client for the server's root user, to look behind a store's back in tests.
func (s *Server) Client() *awss3.Client { return s.client }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
