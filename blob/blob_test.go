package blob_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duban-dev/duban/blob"
)

func TestFSStoresByContentHash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blob.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	content := "芙蓉区计生协改革方案（正式印发）"
	sum := sha256.Sum256([]byte(content))
	want := hex.EncodeToString(sum[:])

	info, err := s.Put(ctx, strings.NewReader(content), 1024)
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA256 != want || info.Size != int64(len(content)) {
		t.Fatalf("put = %+v, want hash %s size %d", info, want, len(content))
	}
	if _, err := os.Stat(filepath.Join(dir, want[:2], want[2:])); err != nil {
		t.Fatalf("file not under ab/cdef…: %v", err)
	}
	// The same content again is one file, and no temporary files remain.
	if _, err := s.Put(ctx, strings.NewReader(content), 1024); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".upload-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}

	r, got, err := s.Open(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != content || got.Size != int64(len(content)) {
		t.Fatalf("open = %q %+v", b, got)
	}
}

func TestFSRefusesOversizeAndUnknown(t *testing.T) {
	ctx := context.Background()
	s, err := blob.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, strings.NewReader(strings.Repeat("x", 11)), 10); !errors.Is(err, blob.ErrTooLarge) {
		t.Fatalf("11 bytes with a limit of 10: %v, want ErrTooLarge", err)
	}
	if _, err := s.Put(ctx, strings.NewReader(strings.Repeat("x", 10)), 10); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
	for _, h := range []string{strings.Repeat("0", 64), "../../etc/passwd", strings.Repeat("A", 64), ""} {
		if _, _, err := s.Open(ctx, h); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("open %q: %v, want ErrNotFound", h, err)
		}
	}
}
