package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/objstore/internal/stream"
)

// Store is an objstore.Store on an S3 bucket. It is safe for concurrent use.
type Store struct {
	cfg    Config
	client *awss3.Client
	parts  sync.Pool // *[]byte part buffers of capacity PartSize, reused across multipart uploads
}

var _ objstore.Store = (*Store)(nil)

// New makes a Store. It resolves the region and credentials source but does not contact S3; call
// CheckBucket to find out early whether the bucket is reachable.
func New(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 object store: loading the AWS configuration (environment, ~/.aws/config): %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = DefaultRegion
	}
	client := awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.UsePathStyle
		// Get cannot check S3's checksum of a multipart object (it is a checksum of checksums) and would
		// log that on every read; the callers check the object's SHA-256 with objstore.Verifier.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return &Store{cfg: cfg, client: client}, nil
}

// CheckBucket reports whether the bucket exists and the credentials may use it.
func (s *Store) CheckBucket(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(s.cfg.Bucket)}); err != nil {
		if httpStatus(err) == 404 {
			return fmt.Errorf("s3 object store: bucket %q does not exist at %s; create it or fix Config.Bucket/Endpoint", s.cfg.Bucket, s.endpoint())
		}
		return fmt.Errorf("s3 object store: cannot reach bucket %q at %s (check the endpoint, region and credentials): %w", s.cfg.Bucket, s.endpoint(), err)
	}
	return nil
}

func (s *Store) endpoint() string {
	if s.cfg.Endpoint != "" {
		return s.cfg.Endpoint
	}
	return "AWS"
}

// objectKey returns the S3 key of key after checking the key.
func (s *Store) objectKey(key string) (*string, error) {
	if err := objstore.ValidateKey(key); err != nil {
		return nil, err
	}
	return aws.String(s.cfg.Prefix + key), nil
}

// Put implements objstore.Store. An object up to PartSize goes in one PutObject; a larger one in a
// multipart upload that is aborted when anything fails, so no part is left behind. The size limit and
// the context are checked as the data streams.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, maxSize int64) (int64, string, error) {
	okey, err := s.objectKey(key)
	if err != nil {
		return 0, "", err
	}
	sr := stream.NewReader(ctx, r, key, maxSize)
	// Small objects take a small buffer; larger ones a part buffer from the pool.
	first, err := fill(sr, make([]byte, 0, smallObject), smallObject)
	if err == nil {
		first, err = fill(sr, append(s.partBuffer(), first...), int(s.cfg.PartSize))
	}
	var rest io.Reader = sr
	if err == nil { // a full part: is there more?
		var b [1]byte
		var n int
		n, err = io.ReadFull(sr, b[:])
		rest = io.MultiReader(bytes.NewReader(b[:n]), sr)
	}
	switch {
	case err == io.EOF:
		_, err = s.client.PutObject(ctx, &awss3.PutObjectInput{
			Bucket: aws.String(s.cfg.Bucket), Key: okey,
			Body: bytes.NewReader(first), ContentLength: aws.Int64(int64(len(first))),
		})
		if err != nil {
			return 0, "", s.opError("writing", key, err)
		}
	case err != nil:
		return 0, "", err
	default:
		if err := s.multipart(ctx, key, okey, rest, first); err != nil {
			return 0, "", err
		}
	}
	s.releasePart(first) // only after a success: see multipart
	return sr.Size(), sr.SHA256(), nil
}

// smallObject is the size up to which Put does not take a part buffer.
const smallObject = 64 << 10

// partBuffer returns an empty buffer of capacity PartSize, reused when possible.
func (s *Store) partBuffer() []byte {
	if b, ok := s.parts.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, s.cfg.PartSize)
}

// releasePart keeps b for another upload once nothing uses it any more.
func (s *Store) releasePart(b []byte) {
	if cap(b) == int(s.cfg.PartSize) {
		s.parts.Put(&b)
	}
}

// Get implements objstore.Store. The body streams from S3; reads fail once ctx is done.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	okey, err := s.objectKey(key)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: okey})
	if err != nil {
		return nil, s.opError("reading", key, err)
	}
	// net/http notices a cancelled context asynchronously; checking it on every read makes a
	// cancelled Get stop at once, as the local store does.
	return stream.ContextReader{Ctx: ctx, R: out.Body}, nil
}

// Exists implements objstore.Store.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	okey, err := s.objectKey(key)
	if err != nil {
		return false, err
	}
	_, err = s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: okey})
	if err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, s.opError("checking", key, err)
	}
	return true, nil
}

// deleteBatch is the most keys one DeleteObjects request takes.
const deleteBatch = 1000

// Delete implements objstore.Store, with one DeleteObjects request per 1,000 keys.
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	ids := make([]types.ObjectIdentifier, len(keys))
	for i, key := range keys {
		okey, err := s.objectKey(key)
		if err != nil {
			return err
		}
		ids[i] = types.ObjectIdentifier{Key: okey}
	}
	for start := 0; start < len(ids); start += deleteBatch {
		batch := ids[start:min(start+deleteBatch, len(ids))]
		out, err := s.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
			Bucket: aws.String(s.cfg.Bucket),
			Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("s3 object store: deleting %d objects from bucket %q: %w", len(batch), s.cfg.Bucket, err)
		}
		for _, e := range out.Errors {
			if aws.ToString(e.Code) == "NoSuchKey" {
				continue
			}
			return fmt.Errorf("s3 object store: deleting object %q from bucket %q: %s: %s",
				aws.ToString(e.Key), s.cfg.Bucket, aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	return nil
}

// opError wraps an S3 error about key, mapping "no such key" to objstore.ErrNotFound.
func (s *Store) opError(verb, key string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%s object %q: %w (bucket %q, S3 key %q)", verb, key, objstore.ErrNotFound, s.cfg.Bucket, s.cfg.Prefix+key)
	}
	return fmt.Errorf("s3 object store: %s object %q (bucket %q at %s): %w", verb, key, s.cfg.Bucket, s.endpoint(), err)
}

func isNotFound(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket" {
		return false // a configuration error, not a missing object
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	return errors.As(err, &nsk) || errors.As(err, &nf) || httpStatus(err) == 404
}

// httpStatus is the HTTP status of a failed S3 call, or 0.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
