package notify

import (
	"context"
	"sync"
	"time"
)

// tokenCache holds an app's access_token (DingTalk and WeCom both hand out
// tokens valid for 7200 s from a gettoken call that is itself rate
// limited): it is fetched once, shared by every send, and fetched again
// shortly before it expires, or at once when the service says it is no
// longer valid. Several worker processes each keep their own: both services
// return the same token to repeated gettoken calls within its lifetime, so
// one process fetching does not invalidate another's.
type tokenCache struct {
	// fetch asks the service for a token and its lifetime.
	fetch func(ctx context.Context) (token string, ttl time.Duration, err error)
	now   func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time // as the service said
	renewAt time.Time // a little before expires
}

// refreshMargin is how long before its expiry a token is replaced: 5
// minutes, or a quarter of a short lifetime.
func refreshMargin(ttl time.Duration) time.Duration {
	return min(5*time.Minute, ttl/4)
}

// Token returns a valid token, fetching one if there is none or the
// current one is due for renewal. While a renewal fails the current token
// is used until it really expires. Concurrent callers wait for one fetch.
func (c *tokenCache) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.token != "" && now.Before(c.renewAt) {
		return c.token, nil
	}
	tok, ttl, err := c.fetch(ctx)
	if err != nil {
		if c.token != "" && now.Before(c.expires) {
			return c.token, nil
		}
		return "", err
	}
	if ttl <= 0 {
		ttl = 7200 * time.Second
	}
	c.token, c.expires, c.renewAt = tok, now.Add(ttl), now.Add(ttl-refreshMargin(ttl))
	return tok, nil
}

// Invalidate forgets token if it is still the current one (the service
// refused it), so that the next Token fetches a new one. A token another
// caller has already replaced is left alone.
func (c *tokenCache) Invalidate(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token = ""
	}
}
