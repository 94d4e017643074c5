package devpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// ScratchAdminURL is the PostgreSQL server on which the tests and the
// benchmark create their throwaway databases: DUBAN_TEST_DATABASE_URL, else
// the local server.
func ScratchAdminURL() string {
	if u := os.Getenv("DUBAN_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return LocalAdminURL
}

// NewScratchDatabase creates an empty database with a random name on
// ScratchAdminURL and returns its URL and a function that drops it.
func NewScratchDatabase(ctx context.Context, prefix string) (string, func(), error) {
	adminURL := ScratchAdminURL()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to test postgres (%s): %w", adminURL, err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}
