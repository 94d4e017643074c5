// Package password hashes and checks passwords with argon2id, in the PHC
// string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Parameters of new hashes: OWASP's argon2id recommendation (19 MiB, 2 passes).
const (
	memoryKiB = 19 * 1024
	passes    = 2
	threads   = 1
	saltLen   = 16
	keyLen    = 32
)

// MinLength is the shortest password accepted.
const MinLength = 8

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("password does not match")

// Hash returns the PHC string of a new argon2id hash of pw.
func Hash(pw string) (string, error) { return hashWith(pw, memoryKiB, passes) }

func hashWith(pw string, memory, passes uint32) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, passes, memory, threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, passes, threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Check compares pw with a PHC string in constant time.
func Check(encoded, pw string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("unsupported password hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("unsupported argon2 version")
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return fmt.Errorf("bad argon2 parameters: %w", err)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return err
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil {
		return err
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// generatedAlphabet leaves out characters easily misread on paper or
// screen (0/O, 1/l/I) and anything hard to type on a phone.
const generatedAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// Generate returns a random initial password of 12 characters (about 70
// bits), for an administrator to hand over once; its user must change it.
func Generate() string {
	const n = len(generatedAlphabet)
	out := make([]byte, 0, 12)
	buf := make([]byte, 32)
	for len(out) < cap(out) {
		if _, err := rand.Read(buf); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		for _, c := range buf {
			// Bytes past the last whole multiple of n would bias the draw.
			if int(c) < 256-256%n && len(out) < cap(out) {
				out = append(out, generatedAlphabet[int(c)%n])
			}
		}
	}
	return string(out)
}

// Light parameters for generated passwords (see HashGenerated).
const (
	generatedMemoryKiB = 1024
	generatedPasses    = 1
)

// HashGenerated hashes a password Generate made, with light argon2id
// parameters (1 MiB, 1 pass: under a millisecond, against about 100 ms):
// the secret is 12 characters drawn at random from 56 (about 70 bits), so
// guessing it stays out of reach whatever the hash costs, while an import
// of thousands of accounts hashes in seconds. The user replaces it at
// first sign-in, and their own password gets Hash's full parameters.
// Check reads the parameters from the hash, so both verify alike.
func HashGenerated(pw string) (string, error) {
	return hashWith(pw, generatedMemoryKiB, generatedPasses)
}
