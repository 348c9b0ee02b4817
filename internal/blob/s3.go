package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// smallObjectBytes is how much Put reads ahead: an object that ends
// within it goes up in one PUT request rather than the three of a
// multipart upload (initiate, part, complete). Most book sources and
// cached images are that small.
const smallObjectBytes = 1 << 20

// cleanupTimeout bounds the removal of a temporary object after its
// upload's context ended.
const cleanupTimeout = 30 * time.Second

// S3 stores objects in a bucket of an S3-compatible server, through
// github.com/minio/minio-go/v7 (the client the issue names; it speaks
// Signature V4 to AWS, MinIO, versitygw, Ceph, Garage and the others).
//
// Uploads stream: an object of unknown length goes up as a multipart
// upload of PartSize parts, one part buffered at a time, so an upload
// holds at most PartSize + 1 MiB of memory (9 MiB by default) whatever
// the object's size. An upload cut short aborts its multipart upload, so
// no object (and, barring a crash, no part) is left; S3 makes an object
// visible only when its upload completes, which is what makes Put atomic.
//
// Errors never contain the secret key or a presigned URL: the client
// signs with an Authorization header (no credential in any URL we make),
// and every error from the client is rebuilt from its text with the
// secret and any X-Amz-Signature or X-Amz-Credential value redacted
// (defence in depth: a future client version or a proxy's error page must
// not leak them either).
//
// An S3 is safe for concurrent use; it holds no resources to close.
type S3 struct {
	client   *minio.Client
	bucket   string
	prefix   string
	partSize int64
	secret   string // for redaction only
}

// NewS3 validates cfg, connects, and checks that the bucket exists (so a
// misconfiguration stops the server at start rather than at the first
// upload). The bucket is never created: its lifecycle rules, versioning
// and access policy are the operator's.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, secure, err := cfg.endpoint()
	if err != nil {
		return nil, err
	}
	client, err := minio.New(host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, string(cfg.SecretKey), ""),
		Secure: secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client: %s", redact(err.Error(), string(cfg.SecretKey)))
	}
	s := &S3{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix, partSize: cfg.PartSize, secret: string(cfg.SecretKey)}
	if s.partSize == 0 {
		s.partSize = DefaultPartSize
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, s.fail(ctx, "check bucket", "", err)
	}
	if !ok {
		return nil, fmt.Errorf("S3 bucket %q does not exist (%s); create it first", cfg.Bucket, EnvS3Bucket)
	}
	return s, nil
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	return s.put(ctx, key, r)
}

// put uploads r to key (unchecked: PutContent's temporary keys are not
// valid keys on purpose).
func (s *S3) put(ctx context.Context, key string, r io.Reader) (Info, error) {
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	src := &sourceReader{r: ctxReader{ctx, r}}
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: uint64(s.partSize)} // #nosec G115 -- partSize ≥ 5 MiB (Validate)
	head := make([]byte, smallObjectBytes)
	n, err := io.ReadFull(src, head)
	var up minio.UploadInfo
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		up, err = s.client.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(head[:n]), int64(n), opts)
	case err != nil:
		return Info{}, fmt.Errorf("blob put %q: %w", key, err)
	default:
		up, err = s.client.PutObject(ctx, s.bucket, s.prefix+key, io.MultiReader(bytes.NewReader(head), src), -1, opts)
	}
	if err != nil {
		if src.err != nil {
			// The caller's reader failed (or ctx ended): return its error
			// as it is, so that the caller can tell a too-large body
			// (http.MaxBytesError) from a storage failure.
			return Info{}, fmt.Errorf("blob put %q: %w", key, src.err)
		}
		return Info{}, s.fail(ctx, "put", key, err)
	}
	info := Info{Key: key, Size: up.Size, Modified: up.LastModified, ETag: up.ETag}
	if info.Modified.IsZero() {
		// A PUT's answer carries no Last-Modified: ask, for Info's sake.
		st, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
		if err != nil {
			return Info{}, s.fail(ctx, "put", key, err)
		}
		info.Modified = st.LastModified
	}
	return info, nil
}

// sourceReader remembers the first error of the caller's reader other
// than EOF.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// PutContent implements Store. It hashes while uploading to a temporary
// key, then copies that object server-side to its content key and
// removes it. This, rather than spooling to a local temporary file to
// learn the hash first, keeps a node's disk out of the upload path (a node
// of a cluster may have little of it) and reads the source once; the
// price is a server-side copy, which moves no bytes through the node.
// A crash between upload and removal leaves a ".tmp/" object, invisible
// to keys and List, for the bucket's lifecycle rule to expire.
func (s *S3) PutContent(ctx context.Context, prefix string, r io.Reader) (Info, error) {
	if err := CheckPrefix(prefix); err != nil {
		return Info{}, err
	}
	tmp := tmpDir + "/" + tempName()
	h := sha256.New()
	up, err := s.put(ctx, tmp, io.TeeReader(r, h))
	defer func() {
		// Also when ctx ended: the temporary object must not outlive us.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		_ = s.client.RemoveObject(cctx, s.bucket, s.prefix+tmp, minio.RemoveObjectOptions{})
	}()
	if err != nil {
		return Info{}, err
	}
	key := prefix + hex.EncodeToString(h.Sum(nil))
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	// ComposeObject is a single CopyObject up to 5 GiB and a multipart
	// copy above; MatchETag makes sure the bytes copied are the ones
	// just hashed.
	cp, err := s.client.ComposeObject(ctx,
		minio.CopyDestOptions{Bucket: s.bucket, Object: s.prefix + key},
		minio.CopySrcOptions{Bucket: s.bucket, Object: s.prefix + tmp, MatchETag: up.ETag})
	if err != nil {
		return Info{}, s.fail(ctx, "put", key, err)
	}
	info := Info{Key: key, Size: up.Size, Modified: cp.LastModified, ETag: cp.ETag}
	if info.Modified.IsZero() {
		info.Modified = up.Modified
	}
	return info, nil
}

// Open implements Store. The Object is a *minio.Object: reads after a
// Seek ask the server for the range from there on, each pinned to the
// ETag seen at Open (If-Match), so an object overwritten meanwhile fails
// the read instead of mixing versions.
func (s *S3) Open(ctx context.Context, key string) (Object, Info, error) {
	if err := CheckKey(key); err != nil {
		return nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s.fail(ctx, "open", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		return nil, Info{}, s.fail(ctx, "open", key, err)
	}
	return &s3Object{obj, s, key, ctx}, s.info(key, st), nil
}

// s3Object rebuilds the errors of a *minio.Object's reads like every
// other error of the backend (EOF passes through).
type s3Object struct {
	*minio.Object
	s   *S3
	key string
	ctx context.Context
}

func (o *s3Object) Read(p []byte) (int, error) {
	n, err := o.Object.Read(p)
	if err != nil && err != io.EOF {
		err = o.s.fail(o.ctx, "read", o.key, err)
	}
	return n, err
}

func (o *s3Object) Seek(offset int64, whence int) (int64, error) {
	n, err := o.Object.Seek(offset, whence)
	if err != nil {
		err = o.s.fail(o.ctx, "seek", o.key, err)
	}
	return n, err
}

func (s *S3) info(key string, st minio.ObjectInfo) Info {
	return Info{Key: key, Size: st.Size, Modified: st.LastModified, ETag: st.ETag}
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	st, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s.fail(ctx, "stat", key, err)
	}
	return s.info(key, st), nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil {
		if err = s.fail(ctx, "delete", key, err); bindery.ErrorCode(err) != bindery.ENOTFOUND {
			return err
		}
	}
	return nil
}

// List implements Store. Keys in the bucket that no key can name (the
// ".tmp/" objects, anything written by other tools) are skipped.
func (s *S3) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		if err := CheckPrefix(prefix); err != nil {
			yield(Info{}, err)
			return
		}
		// Cancelling stops the client's listing goroutine when the
		// consumer breaks out early.
		lctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for o := range s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
			if o.Err != nil {
				yield(Info{}, s.fail(ctx, "list", prefix, o.Err))
				return
			}
			key, ok := strings.CutPrefix(o.Key, s.prefix)
			if !ok || CheckKey(key) != nil {
				continue
			}
			if !yield(s.info(key, o), nil) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield(Info{}, err)
		}
	}
}

// fail turns an error of the client into ours: ctx's error when ctx
// ended; ENOTFOUND for a missing key; EINSUFFICIENT for a full store;
// otherwise an internal error with the server's code and the client's
// text, redacted. The client's error is not wrapped, so no caller can
// reach its unredacted text through errors.Unwrap.
func (s *S3) fail(ctx context.Context, op, key string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("blob %s %q: %w", op, key, cerr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("blob %s %q: %w", op, key, err)
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey" || resp.Code == "NotFound" || (resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket"):
		return notFound(key)
	case resp.Code == "XMinioStorageFull" || resp.Code == "QuotaExceeded" || resp.StatusCode == http.StatusInsufficientStorage:
		return fmt.Errorf("blob %s %q: %w", op, key, bindery.Errorf(bindery.EINSUFFICIENT, "%s", bindery.MessageNoSpace))
	}
	return &s3Error{op: op, key: key, code: resp.Code, text: redact(err.Error(), s.secret)}
}

// s3Error is an internal error of the S3 backend (bindery code
// EINTERNAL).
type s3Error struct {
	op, key, code, text string
}

func (e *s3Error) Error() string {
	if e.code != "" {
		return fmt.Sprintf("blob s3 %s %q: %s: %s", e.op, e.key, e.code, e.text)
	}
	return fmt.Sprintf("blob s3 %s %q: %s", e.op, e.key, e.text)
}

// signedParam matches the query parameters of a presigned URL that carry
// or derive from credentials.
var signedParam = regexp.MustCompile(`(?i)(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s"']*`)

// redact removes secret and presigned-URL credentials from text.
func redact(text, secret string) string {
	if secret != "" {
		text = strings.ReplaceAll(text, secret, "[redacted]")
	}
	return signedParam.ReplaceAllString(text, "${1}[redacted]")
}
