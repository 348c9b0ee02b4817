package blob_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/bindery/bindery/internal/blob"
)

// BenchmarkPut and BenchmarkRead measure each backend with a small
// object (a chapter, a cached image) and a large one (an edition).
// S3 runs against the test server of scripts/versitygw.sh, on the same
// machine: the figures are the client's and the gateway's costs, not a
// network's.
//
//	eval "$(scripts/versitygw.sh start)"
//	go test -run '^$' -bench . -count 5 ./internal/blob/
func BenchmarkPut(b *testing.B) {
	for _, be := range backends(b) {
		for _, size := range []int{64 << 10, 16 << 20} {
			data := bytes.Repeat([]byte("x"), size)
			b.Run(fmt.Sprintf("%s/%dKiB", be.name, size>>10), func(b *testing.B) {
				s := be.open(b)
				b.SetBytes(int64(size))
				for i := 0; b.Loop(); i++ {
					if _, err := s.Put(context.Background(), fmt.Sprintf("k%d", i%8), bytes.NewReader(data)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkRead(b *testing.B) {
	for _, be := range backends(b) {
		for _, size := range []int{64 << 10, 16 << 20} {
			b.Run(fmt.Sprintf("%s/%dKiB", be.name, size>>10), func(b *testing.B) {
				s := be.open(b)
				if _, err := s.Put(context.Background(), "k", bytes.NewReader(bytes.Repeat([]byte("x"), size))); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(size))
				for b.Loop() {
					f, _, err := s.Open(context.Background(), "k")
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, f); err != nil {
						b.Fatal(err)
					}
					_ = f.Close()
				}
			})
		}
	}
}

type backend struct {
	name string
	open func(testing.TB) blob.Store
}

func backends(b *testing.B) []backend {
	bs := []backend{{"local", func(tb testing.TB) blob.Store { return openLocal(tb, tb.TempDir()) }}}
	if os.Getenv("BINDERY_TEST_S3_ENDPOINT") != "" {
		cfg := s3Env(b)
		bs = append(bs, backend{"s3", func(tb testing.TB) blob.Store {
			c := cfg
			c.Prefix = "bench-" + randomHex(8) + "/"
			return openS3(tb, c)
		}})
	}
	return bs
}
