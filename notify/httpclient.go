package notify

import (
	"net/http"
	"net/url"
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

// httpURL parses the address of an HTTP channel: an http or https URL
// with a host and, when noQuery is set, no query string (the caller adds
// its own). It reports false for anything else.
func httpURL(s string, noQuery bool) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (noQuery && u.RawQuery != "") {
		return nil, false
	}
	return u, true
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
