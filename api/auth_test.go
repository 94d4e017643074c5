package api_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/store"
)

// newUser adds a user for one test.
func newUser(t *testing.T, f *fixture, name, unit string, roles ...duban.Role) store.User {
	t.Helper()
	hash, err := password.Hash(pw)
	require.NoError(t, err)
	u, err := f.stack.DB.CreateUser(context.Background(), store.User{Username: name, DisplayName: name, UnitCode: unit, Roles: roles, PasswordHash: hash})
	require.NoError(t, err)
	return u
}

func login(t *testing.T, f *fixture, username, password string) response {
	t.Helper()
	return f.do(t, "", "POST", "/api/v1/auth/login", jsonBody(map[string]string{"username": username, "password": password}))
}

func TestLoginIssuesTokensAndMe(t *testing.T) {
	f := getFixture(t)
	newUser(t, f, "login-ok", "430102", duban.RoleOfficial, duban.RoleApprover)
	start := time.Now()
	res := login(t, f, "login-ok", pw)
	took := time.Since(start)
	require.Equal(t, 200, res.status, "%s", res.body)
	t.Logf("login with argon2id took %s", took)
	m := res.json(t)
	require.Equal(t, "Bearer", m["token_type"])
	require.EqualValues(t, 600, m["expires_in"])
	require.True(t, strings.HasPrefix(m["refresh_token"].(string), "drt_"))
	user := m["user"].(map[string]any)
	require.Equal(t, "芙蓉区", user["unit"].(map[string]any)["name"])
	require.Len(t, user["unit_path"], 3)
	require.Contains(t, user["permissions"], "approvals")

	// The access token is a JWT with our issuer and audience and a short life.
	tok := m["access_token"].(string)
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(tok, claims)
	require.NoError(t, err)
	require.Equal(t, "duban", claims["iss"])
	require.Equal(t, []any{"duban-api"}, claims["aud"])
	exp, _ := claims.GetExpirationTime()
	require.WithinDuration(t, time.Now().Add(10*time.Minute), exp.Time, 5*time.Second)

	me := f.do(t, tok, "GET", "/api/v1/me", nil)
	require.Equal(t, 200, me.status)
	require.Equal(t, "login-ok", me.json(t)["username"])
	roles := me.json(t)["roles"].([]any)
	require.Equal(t, "承办人", roles[0].(map[string]any)["label"])
}

func TestLoginRefusesWrongPasswordUnknownUserAndDisabled(t *testing.T) {
	f := getFixture(t)
	u := newUser(t, f, "login-bad", "430102", duban.RoleOfficial)
	wrong := login(t, f, "login-bad", "not the password").problem(t, 401, "unauthorized")
	unknown := login(t, f, "no-such-user", "not the password").problem(t, 401, "unauthorized")
	// Same answer whether or not the account exists.
	require.Equal(t, wrong["detail"], unknown["detail"])
	require.Equal(t, "用户名或密码错误", wrong["detail"])

	login(t, f, "", "").problem(t, 422, "invalid")

	// A disabled account answers the right password as it answers a wrong
	// one: the answer tells nothing about the password.
	// (Two accounts, so both answers are a first failure.)
	u2 := newUser(t, f, "login-bad2", "430102", duban.RoleOfficial)
	for _, id := range []int64{u.ID, u2.ID} {
		_, err := f.stack.DB.UpdateUserAs(context.Background(), id, store.UserChange{Disabled: ptr(true), Unlock: true}, duban.System)
		require.NoError(t, err)
	}
	right := login(t, f, "login-bad", pw)
	wrongToo := login(t, f, "login-bad2", "still not the password")
	require.Equal(t, right.problem(t, 401, "unauthorized")["detail"], wrongToo.problem(t, 401, "unauthorized")["detail"])
	require.NotContains(t, string(right.body), "停用")
}

func ptr[T any](v T) *T { return &v }

func TestLockoutAfterFiveFailures(t *testing.T) {
	f := getFixture(t)
	u := newUser(t, f, "lockout", "430102", duban.RoleOfficial)
	for i := 1; i <= 4; i++ {
		login(t, f, "lockout", "wrong").problem(t, 401, "unauthorized")
	}
	p := login(t, f, "lockout", "wrong").problem(t, 429, "account_locked")
	require.Contains(t, p["detail"], "账号已锁定")
	// Locked: even the right password is refused, with Retry-After.
	res := login(t, f, "lockout", pw)
	res.problem(t, 429, "account_locked")
	retry, err := strconv.Atoi(res.header.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 15*60, retry, 5)

	// An unknown username locks the same way: no hint which accounts exist.
	for i := 0; i < 5; i++ {
		login(t, f, "ghost-user", "wrong")
	}
	login(t, f, "ghost-user", "wrong").problem(t, 429, "account_locked")

	// An admin unlocks.
	admin := f.token(t, "hunan-admin")
	r := f.do(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), jsonBody(map[string]any{"unlock": true}))
	require.Equal(t, 200, r.status, "%s", r.body)
	require.Equal(t, 200, login(t, f, "lockout", pw).status)
}

func TestLoginRateLimitPerAddressAndAccount(t *testing.T) {
	f := getFixture(t)
	newUser(t, f, "ratelimited", "430102", duban.RoleOfficial)
	deps := f.deps
	deps.Limits = api.Limits{LoginPerIPPerMinute: 4, LoginPerAccountPerMinute: 2}
	app := newApp(t, deps)
	post := func(user, ip string) response {
		return doApp(t, app, "", "POST", "/api/v1/auth/login", jsonBody(map[string]string{"username": user, "password": "x"}))
	}
	// Per account: the third try within the minute is refused before the password is checked.
	post("ratelimited", "")
	post("ratelimited", "")
	res := post("ratelimited", "")
	p := res.problem(t, 429, "too_many_requests")
	require.Contains(t, p["detail"], "此账号")
	require.NotEmpty(t, res.header.Get("Retry-After"))
	// Per address: three attempts in all from one client, whatever the account.
	post("someone-else", "")
	p = post("another", "").problem(t, 429, "too_many_requests")
	require.Contains(t, p["detail"], "登录尝试过于频繁")
}

func TestRefreshRotatesAndReuseRevokesTheFamily(t *testing.T) {
	f := getFixture(t)
	newUser(t, f, "refresher", "430102", duban.RoleOfficial)
	first := login(t, f, "refresher", pw).json(t)
	r1 := first["refresh_token"].(string)
	a1 := first["access_token"].(string)

	res := f.do(t, "", "POST", "/api/v1/auth/refresh", jsonBody(map[string]string{"refresh_token": r1}))
	require.Equal(t, 200, res.status, "%s", res.body)
	second := res.json(t)
	r2, a2 := second["refresh_token"].(string), second["access_token"].(string)
	require.NotEqual(t, r1, r2)
	require.Equal(t, 200, f.do(t, a2, "GET", "/api/v1/me", nil).status)

	// The first token again: someone holds a copy. The whole family dies,
	// the newest refresh token and every access token of the session too.
	p := f.do(t, "", "POST", "/api/v1/auth/refresh", jsonBody(map[string]string{"refresh_token": r1})).problem(t, 401, "unauthorized")
	require.Contains(t, p["detail"], "已被使用")
	f.do(t, "", "POST", "/api/v1/auth/refresh", jsonBody(map[string]string{"refresh_token": r2})).problem(t, 401, "unauthorized")
	f.do(t, a2, "GET", "/api/v1/me", nil).problem(t, 401, "unauthorized")
	f.do(t, a1, "GET", "/api/v1/me", nil).problem(t, 401, "unauthorized")

	// Another sign-in of the same user is untouched.
	other := login(t, f, "refresher", pw).json(t)
	require.Equal(t, 200, f.do(t, other["access_token"].(string), "GET", "/api/v1/me", nil).status)
}

func TestRefreshRaceHasOneWinner(t *testing.T) {
	f := getFixture(t)
	newUser(t, f, "refresh-race", "430102", duban.RoleOfficial)
	r := login(t, f, "refresh-race", pw).json(t)["refresh_token"].(string)
	codes := make(chan int, 2)
	for range 2 {
		go func() {
			codes <- f.do(t, "", "POST", "/api/v1/auth/refresh", jsonBody(map[string]string{"refresh_token": r})).status
		}()
	}
	got := []int{<-codes, <-codes}
	require.ElementsMatch(t, []int{200, 401}, got)
}

func TestLogoutRevokesSession(t *testing.T) {
	f := getFixture(t)
	newUser(t, f, "logout", "430102", duban.RoleOfficial)
	m := login(t, f, "logout", pw).json(t)
	access, refresh := m["access_token"].(string), m["refresh_token"].(string)
	res := f.do(t, access, "POST", "/api/v1/auth/logout", nil)
	require.Equal(t, 204, res.status, "%s", res.body)
	f.do(t, access, "GET", "/api/v1/me", nil).problem(t, 401, "unauthorized")
	f.do(t, "", "POST", "/api/v1/auth/refresh", jsonBody(map[string]string{"refresh_token": refresh})).problem(t, 401, "unauthorized")
	f.do(t, "", "POST", "/api/v1/auth/logout", nil).problem(t, 401, "unauthorized")
}

func TestPasswordChange(t *testing.T) {
	f := getFixture(t)
	newUser(t, f, "pwchange", "430102", duban.RoleOfficial)
	tok := login(t, f, "pwchange", pw).json(t)["access_token"].(string)
	p := f.do(t, tok, "POST", "/api/v1/me/password", jsonBody(map[string]string{"current_password": "wrong", "new_password": "a new long password"})).problem(t, 422, "invalid")
	require.Equal(t, "current_password", p["errors"].([]any)[0].(map[string]any)["field"])
	f.do(t, tok, "POST", "/api/v1/me/password", jsonBody(map[string]string{"current_password": pw, "new_password": "short"})).problem(t, 422, "invalid")
	require.Equal(t, 204, f.do(t, tok, "POST", "/api/v1/me/password", jsonBody(map[string]string{"current_password": pw, "new_password": "a new long password"})).status)
	// Every session ends; the new password works, the old one not.
	f.do(t, tok, "GET", "/api/v1/me", nil).problem(t, 401, "unauthorized")
	login(t, f, "pwchange", pw).problem(t, 401, "unauthorized")
	require.Equal(t, 200, login(t, f, "pwchange", "a new long password").status)
	require.Equal(t, 1, countRows(t, f.stack.DB, `SELECT count(*) FROM audit_log WHERE action = 'user.password' AND detail::jsonb->>'username' = 'pwchange'`))
}

// badTokens are forged or broken access tokens; each must get 401.
func badTokens(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	u := f.user("furong-official")
	// A live session, so only the token itself is at fault.
	good := f.token(t, "furong-official")
	c := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(good, c)
	require.NoError(t, err)
	sid := c["sid"].(string)
	now := time.Now()
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": "duban", "aud": []string{"duban-api"}, "sub": strconv.FormatInt(u.ID, 10), "sid": sid,
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	}
	sign := func(m jwt.MapClaims, key []byte) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, m).SignedString(key)
		require.NoError(t, err)
		return s
	}
	with := func(k string, v any) jwt.MapClaims {
		m := base()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	// Sanity: a correctly made token works, so the failures below are the cases'.
	require.Equal(t, 200, f.do(t, sign(base(), jwtKey), "GET", "/api/v1/me", nil).status)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, base()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	rs, err := jwt.NewWithClaims(jwt.SigningMethodRS256, base()).SignedString(rsaKey)
	require.NoError(t, err)
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, base()).SignedString(jwtKey)
	require.NoError(t, err)
	good2 := sign(base(), jwtKey)
	parts := strings.Split(good2, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(mustDecode(parts[1]), `"sub":"`+strconv.FormatInt(u.ID, 10)+`"`, `"sub":"`+strconv.FormatInt(u.ID, 10)+`0"`, 1))) + "." + parts[2]
	return map[string]string{
		"wrong signature":       sign(base(), []byte("another-key-of-sufficient-length-0123456789")),
		"alg none":              none,
		"alg none, no sig":      parts[0][:0] + base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
		"HMAC with public key":  sign(base(), pubPEM),
		"RS256 (not accepted)":  rs,
		"HS512 (not accepted)":  hs512,
		"tampered payload":      tampered,
		"expired":               sign(with("exp", now.Add(-2*time.Minute).Unix()), jwtKey),
		"not yet valid":         sign(with("nbf", now.Add(5*time.Minute).Unix()), jwtKey),
		"issued in the future":  sign(with("iat", now.Add(5*time.Minute).Unix()), jwtKey),
		"wrong issuer":          sign(with("iss", "someone-else"), jwtKey),
		"wrong audience":        sign(with("aud", []string{"duban-stream"}), jwtKey),
		"no audience":           sign(with("aud", nil), jwtKey),
		"missing expiry":        sign(with("exp", nil), jwtKey),
		"no session":            sign(with("sid", nil), jwtKey),
		"unknown session":       sign(with("sid", "nope"), jwtKey),
		"another user's sub":    sign(with("sub", strconv.FormatInt(f.user("hunan-admin").ID, 10)), jwtKey),
		"sub not a number":      sign(with("sub", "admin"), jwtKey),
		"garbage":               "not-a-jwt",
		"three dots":            "...",
		"8 KiB of dots":         strings.Repeat(".", 8<<10),
		"long but well-formed":  strings.Repeat("a", 3000) + "." + strings.Repeat("b", 3000) + "." + strings.Repeat("c", 3000),
		"unicode":               "令牌.令牌.令牌",
		"empty bearer":          " ",
		"header only":           parts[0],
		"signature stripped":    parts[0] + "." + parts[1] + ".",
		"base64 padding tricks": parts[0] + "=." + parts[1] + "." + parts[2],
	}
}

func mustDecode(s string) string {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestBadTokensAreRefused(t *testing.T) {
	f := getFixture(t)
	for name, tok := range badTokens(t, f) {
		t.Run(name, func(t *testing.T) {
			res := f.do(t, tok, "GET", "/api/v1/me", nil)
			p := res.problem(t, 401, "unauthorized")
			require.NotContains(t, fmt.Sprint(p["detail"]), "token is", "no parser internals leak")
			require.Contains(t, res.header.Get("WWW-Authenticate"), "Bearer")
		})
	}
	// A megabyte of dots: as a refresh token it is refused unread; as a
	// header it exceeds the server's header limit and never reaches the
	// parser (431, a problem document too).
	dots := strings.Repeat(".", 1_000_000)
	f.do(t, "", "POST", "/api/v1/auth/refresh", jsonBody(map[string]string{"refresh_token": dots})).problem(t, 401, "unauthorized")
	// Over a real connection: the server answers 431 (or, having said so,
	// resets a client still sending), and stays up.
	base := f.listen(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	go func() {
		_, _ = io.WriteString(conn, "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+dots+"\r\n\r\n")
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	status, err := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if err == nil {
		require.True(t, strings.HasPrefix(status, "HTTP/1.1 431"), status)
	} else {
		require.NotErrorIs(t, err, os.ErrDeadlineExceeded, "the server neither answered nor closed")
	}
	res, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	f.do(t, "", "GET", "/api/v1/notifications/stream?ticket="+dots[:10000], nil).problem(t, 401, "unauthorized")
}

// TestBadTokensKeepMemoryFlat sends every bad token 75 times (over 2,000
// requests) and measures what the requests left behind: the heap still in
// use, after GC, by objects allocated while a request was served. That
// stays within a few tens of KiB however many requests run; it may grow by
// less than 128 KiB, so keeping as little as 64 bytes per request fails the
// test. The process's whole heap, which the embedded Temporal
// server shares and moves by a couple of MiB on its own, may grow by less
// than 8 MiB (keeping the 1 MB refresh body of each round would pass that).
func TestBadTokensKeepMemoryFlat(t *testing.T) {
	f := getFixture(t)
	toks := badTokens(t, f)
	dots := strings.Repeat(".", 1_000_000)
	round := func() {
		for _, tok := range toks {
			if r := f.do(t, tok, "GET", "/api/v1/me", nil); r.status != 401 {
				t.Fatalf("status %d", r.status)
			}
		}
		if r := f.do(t, "", "POST", "/api/v1/auth/refresh", jsonBody(map[string]string{"refresh_token": dots})); r.status != 401 {
			t.Fatalf("refresh status %d", r.status)
		}
	}
	for range 50 { // warm pools and caches
		round()
	}
	// Record every allocation from here on, with its stack.
	rate := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = rate }()
	for range 5 {
		round()
	}
	beforeRequests, beforeHeap := requestHeap(t)
	n := 0
	for range 75 {
		round()
		n += len(toks) + 1
	}
	afterRequests, afterHeap := requestHeap(t)
	t.Logf("%d bad tokens: heap kept by requests %d KiB → %d KiB; whole heap %d KiB → %d KiB",
		n, beforeRequests>>10, afterRequests>>10, beforeHeap>>10, afterHeap>>10)
	require.GreaterOrEqual(t, n, 2000)
	require.Less(t, afterRequests-beforeRequests, int64(128<<10), "refused requests keep memory")
	require.Less(t, afterHeap-beforeHeap, int64(8<<20))
}

// requestHeap returns, as of a fresh GC, the heap in use by objects that
// were allocated while a request was served (a stack through the api
// package, fiber or fasthttp), and the whole heap in use. It needs
// runtime.MemProfileRate = 1 to see every allocation.
func requestHeap(t *testing.T) (requests, whole int64) {
	t.Helper()
	// The profile shows the heap as of the last completed GC cycle but
	// one; three cycles settle it.
	for range 3 {
		runtime.GC()
	}
	var recs []runtime.MemProfileRecord
	for {
		n, _ := runtime.MemProfile(nil, false)
		recs = make([]runtime.MemProfileRecord, n+256)
		n, ok := runtime.MemProfile(recs, false)
		if ok {
			recs = recs[:n]
			break
		}
	}
	served := func(stack []uintptr) bool {
		frames := runtime.CallersFrames(stack)
		for {
			fr, more := frames.Next()
			for _, pkg := range []string{"github.com/duban-dev/duban/api.", "github.com/gofiber/fiber/v2.", "github.com/valyala/fasthttp."} {
				if strings.HasPrefix(fr.Function, pkg) {
					return true
				}
			}
			if !more {
				return false
			}
		}
	}
	for _, r := range recs {
		if served(r.Stack()) {
			requests += r.InUseBytes()
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return requests, int64(m.HeapAlloc)
}
