package store

import (
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err says the database could not be reached
// or went away mid-request (the server restarting, shutting down, not yet
// accepting connections), rather than refusing the request: a fault the
// caller may retry, which the API answers 503 with Retry-After.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// Class 08 connection exception; 57P01 admin shutdown, 57P02 crash
		// shutdown, 57P03 cannot connect now (starting up or recovering).
		return len(pg.Code) == 5 && (pg.Code[:2] == "08" || pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03")
	}
	var connect *pgconn.ConnectError
	var op *net.OpError
	return errors.As(err, &connect) || errors.As(err, &op) || pgconn.SafeToRetry(err) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)
}
