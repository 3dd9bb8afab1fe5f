package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/chorus-hpc/chorus/internal/objstore"
)

// abortTimeout bounds the AbortMultipartUpload call made after a failure (which may be a cancelled
// context, so the abort runs on a context of its own).
const abortTimeout = time.Minute

// multipart uploads the stream as a multipart upload: first is the first part (full), the rest comes
// from r. Up to Concurrency parts upload while the next one is read. On any failure the upload is
// aborted, so S3 keeps neither an object nor parts.
func (s *Store) multipart(ctx context.Context, key string, okey *string, r io.Reader, first []byte) (err error) {
	var algo types.ChecksumAlgorithm
	if s.client.Options().RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired {
		algo = types.ChecksumAlgorithmCrc32 // checked by S3 per part; our SHA-256 covers the whole object
	}
	created, err := s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: aws.String(s.cfg.Bucket), Key: okey, ChecksumAlgorithm: algo,
	})
	if err != nil {
		return s.opError("starting the multipart upload of", key, err)
	}
	uploadID := created.UploadId
	defer func() {
		if err != nil {
			s.abort(context.WithoutCancel(ctx), key, okey, uploadID)
		}
	}()

	u := &uploader{s: s, key: key, okey: okey, uploadID: uploadID, algo: algo,
		free: make(chan []byte, s.cfg.Concurrency+1), sem: make(chan struct{}, s.cfg.Concurrency)}
	u.ctx, u.cancel = context.WithCancelCause(ctx)
	defer u.cancel(nil)
	allocated := 1 // first
	data := first
	for pn := int32(1); ; pn++ {
		u.start(pn, data)
		if u.ctx.Err() != nil {
			break // an upload failed or ctx is done: stop reading
		}
		next := u.buffer(&allocated)
		var rerr error
		next, rerr = fill(r, next, int(s.cfg.PartSize))
		if rerr != nil && rerr != io.EOF {
			u.free <- next
			u.cancel(rerr)
			break
		}
		if len(next) == 0 {
			u.free <- next
			break
		}
		if pn+1 > MaxParts {
			u.free <- next
			u.cancel(fmt.Errorf("%w: object %q is larger than %d parts of %d bytes, the most one S3 upload takes; raise the S3 store's PartSize",
				objstore.ErrTooLarge, key, MaxParts, s.cfg.PartSize))
			break
		}
		data = next
		if rerr == io.EOF {
			u.start(pn+1, data)
			break
		}
	}
	u.wg.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("writing object %q was cancelled: %w", key, context.Cause(ctx))
	}
	if u.ctx.Err() != nil {
		return context.Cause(u.ctx) // the read or upload error that stopped the upload
	}
	slices.SortFunc(u.parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	_, err = s.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.cfg.Bucket), Key: okey, UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
	})
	if err != nil {
		return s.opError("completing the multipart upload of", key, err)
	}
	// Every buffer is free now: keep them for the next upload (Put releases first). Only after a
	// success: after a failed request, the HTTP transport may still be reading its body.
	for range allocated {
		if b := <-u.free; !sameArray(b, first) {
			s.releasePart(b)
		}
	}
	return nil
}

// uploader runs the part uploads of one multipart upload.
type uploader struct {
	s        *Store
	key      string
	okey     *string
	uploadID *string
	algo     types.ChecksumAlgorithm
	ctx      context.Context // cancelled with the first failure as its cause
	cancel   context.CancelCauseFunc
	free     chan []byte   // buffers whose upload is over
	sem      chan struct{} // one token per part uploading
	wg       sync.WaitGroup
	mu       sync.Mutex
	parts    []types.CompletedPart
}

// buffer returns an empty buffer for the next part: a free one, a new one while fewer than
// Concurrency+1 exist, else the next one freed.
func (u *uploader) buffer(allocated *int) []byte {
	select {
	case b := <-u.free:
		return b[:0]
	default:
	}
	if *allocated < cap(u.free) {
		*allocated++
		return u.s.partBuffer()
	}
	return (<-u.free)[:0]
}

// start uploads data as part pn in the background once fewer than Concurrency parts are uploading.
// After a failure it only returns the buffer.
func (u *uploader) start(pn int32, data []byte) {
	u.sem <- struct{}{}
	if u.ctx.Err() != nil {
		u.free <- data
		<-u.sem
		return
	}
	u.wg.Go(func() {
		defer func() { <-u.sem }()
		defer func() { u.free <- data }()
		out, err := u.s.client.UploadPart(u.ctx, &awss3.UploadPartInput{
			Bucket: aws.String(u.s.cfg.Bucket), Key: u.okey, UploadId: u.uploadID,
			PartNumber: aws.Int32(pn), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
			ChecksumAlgorithm: u.algo,
		})
		if err != nil {
			if u.ctx.Err() == nil {
				u.cancel(u.s.opError(fmt.Sprintf("uploading part %d of", pn), u.key, err))
			}
			return
		}
		u.mu.Lock()
		u.parts = append(u.parts, types.CompletedPart{
			PartNumber: aws.Int32(pn), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32,
		})
		u.mu.Unlock()
	})
}

// sameArray reports whether two buffers (of non-zero capacity) share their memory.
func sameArray(a, b []byte) bool { return &a[:1][0] == &b[:1][0] }

// fill reads from r into buf until it holds size bytes or r ends (io.EOF) or fails. buf grows as data
// comes, so a small object does not cost a whole part of memory.
func fill(r io.Reader, buf []byte, size int) ([]byte, error) {
	for len(buf) < size {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(max(2*cap(buf), 64<<10), size))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// abort aborts a failed multipart upload so its parts do not linger (and cost) in the bucket.
func (s *Store) abort(ctx context.Context, key string, okey, uploadID *string) {
	ctx, cancel := context.WithTimeout(ctx, abortTimeout)
	defer cancel()
	_, err := s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
		Bucket: aws.String(s.cfg.Bucket), Key: okey, UploadId: uploadID,
	})
	if err != nil {
		s.cfg.Logger.Warn("s3 object store: could not abort a failed multipart upload; its parts stay in the bucket until a lifecycle rule (AbortIncompleteMultipartUpload) removes them",
			"bucket", s.cfg.Bucket, "key", key, "upload_id", aws.ToString(uploadID), "err", err)
	}
}
