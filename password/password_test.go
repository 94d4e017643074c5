package password_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/duban-dev/duban/password"
)

func TestHashAndCheck(t *testing.T) {
	h, err := password.Hash("正确的密码 correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id with the expected parameters", h)
	}
	if err := password.Check(h, "正确的密码 correct horse"); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if err := password.Check(h, "正确的密码 correct hors"); !errors.Is(err, password.ErrMismatch) {
		t.Fatalf("wrong password: got %v, want ErrMismatch", err)
	}
	other, _ := password.Hash("正确的密码 correct horse")
	if other == h {
		t.Fatal("two hashes of one password share a salt")
	}
	for _, bad := range []string{"", "$bcrypt$x", "$argon2id$v=18$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=x$AAAA$AAAA"} {
		if err := password.Check(bad, "x"); err == nil || errors.Is(err, password.ErrMismatch) {
			t.Errorf("malformed hash %q: got %v, want a format error", bad, err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	h, _ := password.Hash("correct horse battery staple")
	for b.Loop() {
		_ = password.Check(h, "correct horse battery staple")
	}
}

func TestGeneratedPasswords(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw := password.Generate()
		if len(pw) != 12 || strings.ContainsAny(pw, "0O1lI") || seen[pw] {
			t.Fatalf("generated %q (seen before: %v)", pw, seen[pw])
		}
		seen[pw] = true
	}
	pw := password.Generate()
	h, err := password.HashGenerated(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if err := password.Check(h, pw); err != nil {
		t.Fatalf("generated password refused: %v", err)
	}
	if err := password.Check(h, pw+"x"); !errors.Is(err, password.ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
}

func BenchmarkHashGenerated(b *testing.B) {
	pw := password.Generate()
	for b.Loop() {
		_, _ = password.HashGenerated(pw)
	}
}
