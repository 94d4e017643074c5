package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// decision is one request of a chain and what became of it.
type decision struct {
	step int // 0 is the submission
	key  string
	// ok: the client got a 2xx for it. settled: the client got no 2xx, but
	// an answer that says the task is past it (409 on a finished task
	// after an earlier attempt may have gone through).
	ok, settled bool
	attempts    int
	at          time.Time // when the decisive answer came
}

// client drives the API processes, alternating between them, and retries
// a fault (503, 504, a connection refused or cut) with the same
// Idempotency-Key.
type client struct {
	apis     []string // base URLs
	password string
	http     *http.Client

	mu      sync.Mutex
	tokens  map[string]string
	signing map[string]*sync.Mutex // one sign-in per user at a time
	next    atomic.Int64

	retries     atomic.Int64 // requests sent again after a fault
	byCause     sync.Map     // cause → *atomic.Int64
	lastSuccess atomic.Int64 // unix nanoseconds of the latest 2xx decision
}

// succeededAfter reports whether a decision succeeded after t.
func (c *client) succeededAfter(t time.Time) bool { return c.lastSuccess.Load() > t.UnixNano() }

func newClient(apis []string, password string) *client {
	return &client{apis: apis, password: password, tokens: map[string]string{}, signing: map[string]*sync.Mutex{},
		http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}}
}

// answer is a response, or the transport error in its place.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// fault says whether the answer is one to retry, and names its cause.
func (a answer) fault() (string, bool) {
	switch {
	case a.err != nil:
		return "connection", true
	case a.status == 503:
		return "503", true
	case a.status == 504:
		return "504", true
	case a.status == 500:
		// An internal error is a finding, counted apart; the request is
		// still safe to repeat with its key.
		return "500", true
	}
	return "", false
}

func (c *client) count(cause string) {
	v, _ := c.byCause.LoadOrStore(cause, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// send makes one request on the next API in turn.
func (c *client) send(ctx context.Context, method, path, token, key string, body any) answer {
	base := c.apis[int(c.next.Add(1))%len(c.apis)]
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, r)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{status: res.StatusCode, err: err}
	}
	return answer{status: res.StatusCode, header: res.Header, body: b}
}

// retrying sends until the answer is not a fault, or the limit passes.
// The first attempt counts as none of the retries. reached says whether
// an attempt before the last may have reached the stack (any fault but a
// connection refused).
func (c *client) retrying(ctx context.Context, limit time.Duration, attempt func() answer) (a answer, n int, reached bool) {
	deadline := time.Now().Add(limit)
	for {
		n++
		a = attempt()
		cause, retry := a.fault()
		if !retry || time.Now().After(deadline) || ctx.Err() != nil {
			return a, n, reached
		}
		if !errors.Is(a.err, syscall.ECONNREFUSED) {
			reached = true
		}
		c.count(cause)
		c.retries.Add(1)
		wait := 200 * time.Millisecond
		if n > 5 {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			return a, n, reached
		case <-time.After(wait):
		}
	}
}

// token signs a user in once (retrying faults) and returns the token.
// One sign-in per user at a time, as one person's browser would: sign-ins
// of one account in flight count against its lockout allowance.
func (c *client) token(ctx context.Context, username string) (string, error) {
	c.mu.Lock()
	tok, ok := c.tokens[username]
	if !ok && c.signing[username] == nil {
		c.signing[username] = new(sync.Mutex)
	}
	signing := c.signing[username]
	c.mu.Unlock()
	if ok {
		return tok, nil
	}
	signing.Lock()
	defer signing.Unlock()
	c.mu.Lock()
	tok, ok = c.tokens[username]
	c.mu.Unlock()
	if ok {
		return tok, nil
	}
	a, _, _ := c.retrying(ctx, 5*time.Minute, func() answer {
		for {
			a := c.send(ctx, "POST", "/api/v1/auth/login", "", "", map[string]string{"username": username, "password": c.password})
			// The per-account sign-in rate: wait as told.
			if a.status != 429 || !bytes.Contains(a.body, []byte(`"too_many_requests"`)) || ctx.Err() != nil {
				return a
			}
			c.count("429")
			wait, _ := strconv.Atoi(a.header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
		}
	})
	if a.status != 200 {
		return "", fmt.Errorf("sign in %s: %d %s %v", username, a.status, a.body, a.err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("sign in %s: no token in %s", username, a.body)
	}
	c.mu.Lock()
	c.tokens[username] = out.AccessToken
	c.mu.Unlock()
	return out.AccessToken, nil
}

func (c *client) forget(username string) {
	c.mu.Lock()
	delete(c.tokens, username)
	c.mu.Unlock()
}

func taskPath(id string, rest string) string {
	return "/api/v1/tasks/" + url.PathEscape(id) + "/" + rest
}

// errLost says a request got no answer that settles it.
var errLost = errors.New("no decisive answer")

// decide sends one decision of a chain as its actor until it is settled:
// a 2xx, or a 409 that the task's state shows is past this decision.
func (c *client) decide(ctx context.Context, ch *chain, d *decision, actor string, limit time.Duration) error {
	path, body := taskPath(ch.id, "submit"), any(map[string]any{"note": "演练提交"})
	if d.step > 0 {
		path, body = taskPath(ch.id, "decision"), map[string]any{"step": d.step, "approve": true}
	}
	reached := false
	for relogin := 0; relogin < 3; relogin++ {
		tok, err := c.token(ctx, actor)
		if err != nil {
			return err
		}
		a, n, r := c.retrying(ctx, limit, func() answer { return c.send(ctx, "POST", path, tok, d.key, body) })
		d.attempts += n
		reached = reached || r
		switch {
		case a.status >= 200 && a.status < 300:
			d.ok, d.at = true, time.Now()
			for {
				last := c.lastSuccess.Load()
				if last >= d.at.UnixNano() || c.lastSuccess.CompareAndSwap(last, d.at.UnixNano()) {
					break
				}
			}
			return nil
		case a.status == 401:
			c.forget(actor)
			continue
		case a.status == 409 && reached:
			// A finished workflow forgets its Update ids: the last step,
			// decided by an attempt whose answer was lost, answers 409 to
			// its repeat. The checks find whether it was recorded.
			d.settled, d.at = true, time.Now()
			return nil
		}
		cause, _ := a.fault()
		return fmt.Errorf("%s step %d as %s: %d %s %v (%s) after %d attempts: %w", ch.id, d.step, actor, a.status, a.body, a.err, cause, d.attempts, errLost)
	}
	return fmt.Errorf("%s step %d as %s: signed out again and again", ch.id, d.step, actor)
}
