package blob

import (
	"errors"
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
