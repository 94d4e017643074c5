package notify

import (
	"net/http"
	"time"
)

// newHTTPClient is the client of the HTTP channels: a timeout, and no
// redirects (an API endpoint that redirects is misconfigured; following it
// would post the message, and its credentials, somewhere nobody chose).
func newHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// httpStatusError classifies an HTTP status: nil for 2xx; temporary for
// 408, 429 and 5xx, which pass with time; permanent for the rest.
func httpStatusError(who string, status int, snippet []byte) error {
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		return Temporary("%s: HTTP %d %s", who, status, short(snippet))
	case status >= 400:
		return Permanent("%s: HTTP %d %s", who, status, short(snippet))
	case status >= 300:
		return Permanent("%s: HTTP %d（不跟随重定向）", who, status)
	}
	return nil
}
