package s3_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/objstore/objstoretest"
	"github.com/chorus-hpc/chorus/internal/objstore/s3"
	"github.com/chorus-hpc/chorus/internal/objstore/s3/s3test"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	objstoretest.Run(t, func(tb testing.TB) objstore.Store {
		bucket := srv.NewBucket(tb)
		cfg := srv.Config(bucket)
		cfg.Prefix = "chorus/test"
		st, err := s3.New(context.Background(), cfg)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { assertNoUploads(tb, srv, bucket) })
		return st
	})
}

// assertNoUploads fails when a multipart upload was left open in bucket.
func assertNoUploads(tb testing.TB, srv *s3test.Server, bucket string) {
	tb.Helper()
	out, err := srv.Client().ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		tb.Errorf("listing multipart uploads: %v", err)
		return
	}
	for _, u := range out.Uploads {
		tb.Errorf("multipart upload left open: key %q, id %q", aws.ToString(u.Key), aws.ToString(u.UploadId))
	}
}

func TestPrefix(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	a, err := s3.New(ctx, func() s3.Config { c := srv.Config(bucket); c.Prefix = "deploy-a"; return c }())
	if err != nil {
		t.Fatal(err)
	}
	b, err := s3.New(ctx, func() s3.Config { c := srv.Config(bucket); c.Prefix = "deploy-b/"; return c }())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Put(ctx, "k", strings.NewReader("from a"), 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Exists(ctx, "k"); err != nil || ok {
		t.Fatalf("store with another prefix sees the object: %v, %v", ok, err)
	}
	if _, err := srv.Client().HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("deploy-a/k")}); err != nil {
		t.Fatalf("object not at deploy-a/k in the bucket: %v", err)
	}
}

func TestCheckBucket(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ctx := context.Background()
	good, err := s3.New(ctx, srv.Config(srv.NewBucket(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := good.CheckBucket(ctx); err != nil {
		t.Fatalf("CheckBucket on an existing bucket: %v", err)
	}
	missing, err := s3.New(ctx, srv.Config("no-such-bucket"))
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.CheckBucket(ctx); err == nil || !strings.Contains(err.Error(), `bucket "no-such-bucket" does not exist`) {
		t.Fatalf("CheckBucket on a missing bucket: err = %v; want one saying the bucket does not exist", err)
	}
	// A missing bucket is a configuration error, not a missing object.
	if _, err := missing.Get(ctx, "k"); err == nil || errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Get in a missing bucket: err = %v; want an error that is not ErrNotFound", err)
	}
	cfg := srv.Config(srv.NewBucket(t))
	cfg.SecretAccessKey = "wrong"
	bad, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.CheckBucket(ctx); err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("CheckBucket with a wrong secret: err = %v; want one mentioning credentials", err)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  s3.Config
		want string
	}{
		{s3.Config{}, "Config.Bucket is empty"},
		{s3.Config{Bucket: "b", PartSize: 1 << 20}, "Config.PartSize"},
		{s3.Config{Bucket: "b", Concurrency: -1}, "Config.Concurrency"},
		{s3.Config{Bucket: "b", AccessKeyID: "x"}, "SecretAccessKey"},
		{s3.Config{Bucket: "b", Prefix: "/x"}, "Config.Prefix"},
	} {
		if _, err := s3.New(context.Background(), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) err = %v; want one containing %q", tc.cfg, err, tc.want)
		}
	}
}

func BenchmarkS3(b *testing.B) {
	srv := s3test.Start(b)
	objstoretest.Benchmark(b, func(tb testing.TB) objstore.Store {
		return srv.NewStore(tb, func(c *s3.Config) { c.PartSize, c.Concurrency = s3.DefaultPartSize, s3.DefaultConcurrency })
	})
}

// Objects above PartSize go up as multipart uploads (their ETag ends in -<parts>), smaller ones in
// one PutObject; a failed multipart upload is aborted.
func TestMultipart(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	st, err := s3.New(ctx, srv.Config(bucket))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		size  int64
		parts string
	}{{s3.MinPartSize, ""}, {s3.MinPartSize + 1, "-2"}, {3 * s3.MinPartSize, "-3"}, {objstoretest.LargeSize, "-3"}} {
		key := "obj"
		if _, _, err := st.Put(ctx, key, io.LimitReader(zeros{}, tc.size), 0); err != nil {
			t.Fatalf("Put %d bytes: %v", tc.size, err)
		}
		head, err := srv.Client().HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		etag := strings.Trim(aws.ToString(head.ETag), `"`)
		if got := etag[max(0, strings.LastIndexByte(etag, '-')):]; !strings.Contains(etag, "-") && tc.parts != "" || strings.Contains(etag, "-") && got != tc.parts {
			t.Errorf("%d bytes with 5 MiB parts: ETag %s; want the suffix %q", tc.size, etag, tc.parts)
		}
		if aws.ToInt64(head.ContentLength) != tc.size {
			t.Errorf("stored %d bytes; want %d", aws.ToInt64(head.ContentLength), tc.size)
		}
	}
	// The leftover check used by the conformance test does see open uploads.
	up, err := srv.Client().CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("open")})
	if err != nil {
		t.Fatal(err)
	}
	list, err := srv.Client().ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil || len(list.Uploads) != 1 {
		t.Fatalf("ListMultipartUploads with one open upload = %d uploads, %v", len(list.Uploads), err)
	}
	if _, err := srv.Client().AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("open"), UploadId: up.UploadId}); err != nil {
		t.Fatal(err)
	}
	// A failure in the third part leaves nothing.
	r := io.MultiReader(io.LimitReader(zeros{}, 2*s3.MinPartSize+10), iotest.ErrReader(errors.New("disk on fire")))
	if _, _, err := st.Put(ctx, "failed", r, 0); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Put with a failing reader: err = %v", err)
	}
	assertNoUploads(t, srv, bucket)
	if ok, err := st.Exists(ctx, "failed"); ok || err != nil {
		t.Fatalf("Exists after a failed Put = %v, %v", ok, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Not parallel: it measures the process's heap.
func TestStreaming(t *testing.T) {
	srv := s3test.Start(t)
	objstoretest.RunStreaming(t, srv.NewStore(t))
}
