package blob

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/minio/minio-go/v7"
)

// TestS3FailRedacts: an error of the client that quotes the secret key
// or a presigned URL (as a proxy's error page or a future client version
// might) comes out without them, and ENOTFOUND is recognised.
func TestS3FailRedacts(t *testing.T) {
	const secret = "s3cr3t-value-for-test"
	s := &S3{secret: secret}
	ctx := t.Context()
	raw := errors.New(`Get "https://s3.example.com/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1&X-Amz-Signature=abcdef0123&X-Amz-Security-Token=tok": key ` + secret)
	err := s.fail(ctx, "open", "k", raw)
	for _, leak := range []string{secret, "abcdef0123", "AKID%2F2026", "tok\""} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("the error holds %q: %v", leak, err)
		}
	}
	if errors.Unwrap(err) != nil {
		t.Errorf("the client's error is reachable by Unwrap")
	}
	if bindery.ErrorCode(err) != bindery.EINTERNAL {
		t.Errorf("code = %q", bindery.ErrorCode(err))
	}
	nf := s.fail(ctx, "open", "k", minio.ErrorResponse{Code: "NoSuchKey", StatusCode: 404, Message: secret})
	if bindery.ErrorCode(nf) != bindery.ENOTFOUND || strings.Contains(nf.Error(), secret) {
		t.Errorf("NoSuchKey = %v", nf)
	}
	full := s.fail(ctx, "put", "k", minio.ErrorResponse{Code: "XMinioStorageFull", StatusCode: 507})
	if bindery.ErrorCode(full) != bindery.EINSUFFICIENT {
		t.Errorf("storage full = %v", full)
	}
}

// TestS3CancelLeavesNoParts: a multipart upload cut short is aborted, so
// no parts stay behind in the bucket (invisible, but paid for), even
// though the abort runs after the upload's context ended.
func TestS3CancelLeavesNoParts(t *testing.T) {
	cfg := S3Config{
		Endpoint:  os.Getenv("BINDERY_TEST_S3_ENDPOINT"),
		Bucket:    os.Getenv("BINDERY_TEST_S3_BUCKET"),
		AccessKey: os.Getenv("BINDERY_TEST_S3_ACCESS_KEY"),
		SecretKey: Secret(os.Getenv("BINDERY_TEST_S3_SECRET_KEY")),
		Region:    "us-east-1",
		Prefix:    "parts-" + tempName()[:16] + "/",
	}
	if cfg.Endpoint == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no test S3 server (BINDERY_TEST_S3_ENDPOINT unset; scripts/versitygw.sh start)")
		}
		t.Skip("no test S3 server (BINDERY_TEST_S3_ENDPOINT unset; scripts/versitygw.sh start)")
	}
	s, err := NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, content := range []bool{false, true} {
		ctx, cancel := context.WithCancel(t.Context())
		n := 0
		r := io.LimitReader(zeros{cancel: cancel, after: 20 << 20, n: &n}, 64<<20)
		if content {
			_, err = s.PutContent(ctx, "c/", r)
		} else {
			_, err = s.Put(ctx, "k", r)
		}
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled upload = %v", err)
		}
	}
	for u := range s.client.ListIncompleteUploads(t.Context(), cfg.Bucket, cfg.Prefix, true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		t.Errorf("an incomplete upload was left: %q", u.Key)
	}
	// The control: the listing does see an incomplete upload.
	core := minio.Core{Client: s.client}
	id, err := core.NewMultipartUpload(t.Context(), cfg.Bucket, cfg.Prefix+"control", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = core.AbortMultipartUpload(t.Context(), cfg.Bucket, cfg.Prefix+"control", id) }()
	seen := false
	for u := range s.client.ListIncompleteUploads(t.Context(), cfg.Bucket, cfg.Prefix, true) {
		seen = seen || u.Key == cfg.Prefix+"control"
	}
	if !seen {
		t.Fatal("the listing of incomplete uploads does not see one: the check above proves nothing")
	}
}

// zeros yields zero bytes and calls cancel once after bytes have been
// read.
type zeros struct {
	cancel context.CancelFunc
	after  int
	n      *int
}

func (z zeros) Read(p []byte) (int, error) {
	if z.n == nil {
		panic("zeros needs n")
	}
	clear(p)
	*z.n += len(p)
	if *z.n >= z.after {
		z.cancel()
	}
	return len(p), nil
}
