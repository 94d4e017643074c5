// Package blob stores evidence files by the SHA-256 of their content. The
// API talks to the Store interface; FS keeps files on a local (or mounted)
// filesystem under DataDir/blobs/ab/cdef…, the default.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// ErrNotFound is returned for a hash that is not stored.
var ErrNotFound = errors.New("blob not found")

// ErrTooLarge is returned by Put when the content exceeds the limit.
var ErrTooLarge = errors.New("blob too large")

// Info describes a stored blob.
type Info struct {
	SHA256 string
	Size   int64
}

// Store keeps immutable content addressed by its SHA-256.
type Store interface {
	// Put stores what r yields, at most max bytes (ErrTooLarge beyond),
	// and returns its hash and size. Storing the same content twice is
	// harmless.
	Put(ctx context.Context, r io.Reader, max int64) (Info, error)
	// Open returns the content of a hash (ErrNotFound if absent).
	Open(ctx context.Context, sha256 string) (io.ReadSeekCloser, Info, error)
}

var hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidHash reports whether s is a lowercase hex SHA-256.
func ValidHash(s string) bool { return hashRE.MatchString(s) }

// FS is a Store on a directory.
type FS struct {
	Dir string
}

// NewFS returns a Store rooted at dir, creating it.
func NewFS(dir string) (*FS, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	return &FS{Dir: dir}, nil
}

func (s *FS) path(hash string) string { return filepath.Join(s.Dir, hash[:2], hash[2:]) }

// Put writes to a temporary file while hashing, then renames it into place,
// so a reader never sees a partial file.
func (s *FS) Put(ctx context.Context, r io.Reader, max int64) (Info, error) {
	tmp, err := os.CreateTemp(s.Dir, ".upload-*")
	if err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	if n > max {
		return Info{}, ErrTooLarge
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	info := Info{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}
	dst := s.path(info.SHA256)
	if _, err := os.Stat(dst); err == nil {
		return info, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return Info{}, fmt.Errorf("store blob: %w", err)
	}
	return info, nil
}

// Open opens a stored blob.
func (s *FS) Open(_ context.Context, hash string) (io.ReadSeekCloser, Info, error) {
	if !ValidHash(hash) {
		return nil, Info{}, ErrNotFound
	}
	f, err := os.Open(s.path(hash))
	if errors.Is(err, os.ErrNotExist) {
		return nil, Info{}, ErrNotFound
	}
	if err != nil {
		return nil, Info{}, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, err
	}
	return f, Info{SHA256: hash, Size: st.Size()}, nil
}
