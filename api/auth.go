package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/api/input"
	"github.com/duban-dev/duban/password"
	"github.com/duban-dev/duban/store"
)

const (
	tokenIssuer    = "duban"
	audienceAPI    = "duban-api"
	audienceStream = "duban-stream" // event-stream tickets: good for nothing else
	// maxTokenLen bounds what is handed to the JWT parser; ours are ~300 bytes.
	maxTokenLen = 2048
	// refreshPrefix marks Duban refresh tokens, so a leaked one is recognisable.
	refreshPrefix = "drt_"
)

// claims are an access token's: the user (sub) and the session (sid).
type claims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// tokens signs and verifies access tokens.
type tokens struct {
	key    []byte
	now    func() time.Time
	leeway time.Duration
}

func (t *tokens) issue(userID int64, sessionID, audience string, ttl time.Duration) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(ttl)
	jti := make([]byte, 12)
	_, _ = rand.Read(jti)
	c := claims{SessionID: sessionID, RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    tokenIssuer,
		Subject:   strconv.FormatInt(userID, 10),
		Audience:  jwt.ClaimStrings{audience},
		ExpiresAt: jwt.NewNumericDate(exp),
		NotBefore: jwt.NewNumericDate(now),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        base64.RawURLEncoding.EncodeToString(jti),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	return s, exp, err
}

// parse verifies a token: HS256 only (no "none", no key confusion), our
// issuer and the expected audience, an expiry (required), not-before and
// issued-at, all with a small leeway for clock skew.
func (t *tokens) parse(token, audience string) (*claims, int64, error) {
	if token == "" || len(token) > maxTokenLen || strings.Count(token, ".") != 2 {
		return nil, 0, errors.New("malformed token")
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(t.leeway),
		jwt.WithTimeFunc(t.now),
		jwt.WithStrictDecoding(),
	)
	var c claims
	if _, err := p.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil }); err != nil {
		return nil, 0, err
	}
	uid, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || uid <= 0 || c.SessionID == "" {
		return nil, 0, errors.New("token without user or session")
	}
	return &c, uid, nil
}

// principal is the signed-in caller: the verified token and the user row
// as it is now (roles and unit changes apply at once).
type principal struct {
	User      store.User
	SessionID string
}

func (p *principal) has(roles ...duban.Role) bool {
	for _, r := range roles {
		for _, h := range p.User.Roles {
			if h == r {
				return true
			}
		}
	}
	return false
}

func (p *principal) actor() duban.Actor { return p.User.Actor() }
func (p *principal) unit() string       { return p.User.UnitCode }

type localKey int

const (
	localPrincipal localKey = iota
	localRequestID
)

// caller returns the principal authenticate stored; a route without
// authenticate gets unauthorized rather than a panic.
func caller(c *fiber.Ctx) (*principal, error) {
	p, ok := c.Locals(localPrincipal).(*principal)
	if !ok || p == nil {
		return nil, apiError(duban.EUNAUTHORIZED, "请先登录")
	}
	return p, nil
}

func unauthorized(c *fiber.Ctx, msg string) error {
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="duban", error="invalid_token"`)
	return apiError(duban.EUNAUTHORIZED, "%s", msg)
}

// bearer extracts the token of an Authorization: Bearer header.
func bearer(c *fiber.Ctx) string {
	h := c.Get(fiber.HeaderAuthorization)
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return ""
	}
	return strings.TrimSpace(h[7:])
}

// authenticate admits requests with a valid access token of a live session.
func (s *server) authenticate(c *fiber.Ctx) error {
	tok := bearer(c)
	if tok == "" {
		return unauthorized(c, "请先登录")
	}
	p, err := s.principalOf(c, tok, audienceAPI)
	if err != nil {
		return err
	}
	c.Locals(localPrincipal, p)
	if p.User.MustChangePassword && !passwordChangeAllows(c) {
		return passwordChangeRequired()
	}
	return c.Next()
}

// passwordChangeAllows lists what answers a user whose password an
// administrator set: who they are, the password change, and signing out
// (refresh needs no access token).
func passwordChangeAllows(c *fiber.Ctx) bool {
	switch c.Method() + " " + strings.TrimSuffix(c.Path(), "/") {
	case "GET /api/v1/me", "POST /api/v1/me/password", "POST /api/v1/auth/logout":
		return true
	}
	return false
}

func passwordChangeRequired() error {
	return apiError(codePasswordChange, "您的密码由管理员设置，请先修改密码后再使用系统")
}

func (s *server) principalOf(c *fiber.Ctx, tok, audience string) (*principal, error) {
	cl, uid, err := s.tokens.parse(tok, audience)
	if err != nil {
		s.metrics.authFailures.WithLabelValues("token").Inc()
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, unauthorized(c, "登录已过期，请刷新或重新登录")
		}
		return nil, unauthorized(c, "登录凭证无效，请重新登录")
	}
	u, err := s.DB.SessionUser(c.UserContext(), uid, cl.SessionID, s.now())
	if err != nil {
		if duban.ErrorCode(err) == duban.EUNAUTHORIZED {
			s.metrics.authFailures.WithLabelValues("session").Inc()
			return nil, unauthorized(c, duban.ErrorMessage(err))
		}
		return nil, err
	}
	return &principal{User: u, SessionID: cl.SessionID}, nil
}

// requireRole admits callers holding any of the roles.
func requireRole(roles ...duban.Role) fiber.Handler {
	labels := make([]string, len(roles))
	for i, r := range roles {
		labels[i] = r.Label()
	}
	msg := "此操作需要" + strings.Join(labels, "或") + "角色"
	return func(c *fiber.Ctx) error {
		p, err := caller(c)
		if err != nil {
			return err
		}
		if !p.has(roles...) {
			return apiError(duban.EFORBIDDEN, "%s", msg)
		}
		return c.Next()
	}
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (r *loginRequest) validate() error {
	var errs []input.FieldError
	if strings.TrimSpace(r.Username) == "" {
		errs = append(errs, input.FieldError{Field: "username", Message: "请输入用户名"})
	} else if len(r.Username) > 64 {
		errs = append(errs, input.FieldError{Field: "username", Message: "用户名过长"})
	}
	if r.Password == "" {
		errs = append(errs, input.FieldError{Field: "password", Message: "请输入密码"})
	} else if len(r.Password) > 256 {
		errs = append(errs, input.FieldError{Field: "password", Message: "密码过长"})
	}
	if len(errs) > 0 {
		return input.Invalid("请填写用户名和密码", errs...)
	}
	return nil
}

// tokenResponse is what login and refresh return.
type tokenResponse struct {
	AccessToken      string    `json:"access_token"`
	TokenType        string    `json:"token_type"`
	ExpiresIn        int       `json:"expires_in"`
	ExpiresAt        time.Time `json:"expires_at"`
	RefreshToken     string    `json:"refresh_token"`
	RefreshExpiresIn int       `json:"refresh_expires_in"`
	User             meView    `json:"user"`
}

// login checks a password and opens a session. Attempts are limited per
// client address and per username in this process, and consecutive
// failures lock the username (in the database, so every replica agrees).
func (s *server) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	now := s.now()
	username := strings.TrimSpace(req.Username)
	if wait, ok := s.ipLimit.allow(strings.Clone(c.IP()), now); !ok {
		s.metrics.logins.WithLabelValues("rate_limited").Inc()
		retryAfter(c, wait.Seconds())
		return apiError(duban.ETOOMANY, "登录尝试过于频繁，请 %d 秒后再试", int(wait.Seconds()+1))
	}
	if wait, ok := s.accLimit.allow(strings.ToLower(username), now); !ok {
		s.metrics.logins.WithLabelValues("rate_limited").Inc()
		retryAfter(c, wait.Seconds())
		return apiError(duban.ETOOMANY, "此账号登录尝试过于频繁，请 %d 秒后再试", int(wait.Seconds()+1))
	}
	// The lockout test and the reservation of this check are one step, so
	// a burst of attempts cannot check more passwords than the lock allows.
	lock, allowed, err := s.DB.BeginLogin(ctx, username, now, s.lim.LockoutFailures, s.lim.LockoutFor)
	if err != nil {
		return err
	}
	if !allowed && lock.LockedUntil == nil {
		// Other sign-ins of this account are being checked and hold its
		// allowance: they lock it only if they fail. Try again shortly.
		s.metrics.logins.WithLabelValues("busy").Inc()
		retryAfter(c, 1)
		return apiError(duban.ETOOMANY, "该账号正有多次登录在进行中，请稍后再试")
	}
	if !allowed {
		s.metrics.logins.WithLabelValues("locked").Inc()
		return s.locked(c, *lock.LockedUntil)
	}
	u, err := s.DB.UserByUsername(ctx, username)
	found := err == nil
	if err != nil && duban.ErrorCode(err) != duban.ENOTFOUND {
		return err
	}
	hash := u.PasswordHash
	if !found {
		hash = s.dummy // the same work whether or not the user exists
	}
	err = s.checkPassword(c, hash, req.Password)
	if err != nil && !errors.Is(err, password.ErrMismatch) && found {
		s.log.Error("password check", "user", u.ID, "err", err)
	}
	// A disabled account answers a right password as it answers a wrong
	// one: the answer says nothing about the password.
	if err != nil || !found || u.Disabled {
		lock, lerr := s.DB.FinishLogin(ctx, username, now, s.lim.LockoutFailures, s.lim.LockoutFor)
		if lerr != nil {
			return lerr
		}
		if lock.Locked(now) {
			s.metrics.logins.WithLabelValues("locked").Inc()
			return s.locked(c, *lock.LockedUntil)
		}
		outcome := "failed"
		if found && u.Disabled {
			outcome = "disabled"
		}
		s.metrics.logins.WithLabelValues(outcome).Inc()
		left := s.lim.LockoutFailures - lock.Failures
		if left <= 2 {
			return unauthorized(c, fmt.Sprintf("用户名或密码错误（再错 %d 次账号将被锁定 %d 分钟）", left, int(s.lim.LockoutFor.Minutes())))
		}
		return unauthorized(c, "用户名或密码错误")
	}
	if err := s.DB.ClearLoginFailures(ctx, username); err != nil {
		return err
	}
	sessionID := randomID(16)
	refresh, refreshHash := newRefreshToken()
	if err := s.DB.CreateSession(ctx, store.NewSession{ID: sessionID, UserID: u.ID, TokenHash: refreshHash, ClientIP: c.IP(),
		UserAgent: c.Get(fiber.HeaderUserAgent), Now: now, RefreshTTL: s.lim.RefreshTTL, SessionTTL: s.lim.SessionTTL}); err != nil {
		return err
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	return s.issueTokens(c, u, sessionID, refresh)
}

func (s *server) locked(c *fiber.Ctx, until time.Time) error {
	retryAfter(c, until.Sub(s.now()).Seconds())
	return apiError(codeAccountLocked, "账号已锁定：连续 %d 次密码错误，请于 %s 后再试，或联系管理员解锁",
		s.lim.LockoutFailures, until.In(duban.Shanghai).Format("15:04"))
}

// checkPassword runs argon2id with bounded concurrency: each hash takes
// 19 MiB, so a burst of logins cannot exhaust memory.
func (s *server) checkPassword(c *fiber.Ctx, hash, pw string) error {
	select {
	case s.hashSem <- struct{}{}:
	case <-c.UserContext().Done():
		return c.UserContext().Err()
	}
	defer func() { <-s.hashSem }()
	start := time.Now()
	err := password.Check(hash, pw)
	s.metrics.hashSeconds.Observe(time.Since(start).Seconds())
	return err
}

func (s *server) issueTokens(c *fiber.Ctx, u store.User, sessionID, refresh string) error {
	access, exp, err := s.tokens.issue(u.ID, sessionID, audienceAPI, s.lim.AccessTTL)
	if err != nil {
		return err
	}
	me, err := s.meOf(c, u)
	if err != nil {
		return err
	}
	return c.JSON(tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.lim.AccessTTL.Seconds()), ExpiresAt: exp,
		RefreshToken: refresh, RefreshExpiresIn: int(s.lim.RefreshTTL.Seconds()), User: me})
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (r *refreshRequest) validate() error {
	if r.RefreshToken == "" {
		return input.Invalid("缺少刷新令牌", input.FieldError{Field: "refresh_token", Message: "必填"})
	}
	return nil
}

// refresh spends a refresh token for a new pair. A token presented a second
// time revokes its session, and with it every access token of the session.
func (s *server) refresh(c *fiber.Ctx) error {
	var req refreshRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	now := s.now()
	if wait, ok := s.ipLimit.allow("refresh:"+c.IP(), now); !ok { // the concatenation copies
		retryAfter(c, wait.Seconds())
		return apiError(duban.ETOOMANY, "请求过于频繁，请 %d 秒后再试", int(wait.Seconds()+1))
	}
	tok := req.RefreshToken
	if len(tok) > 100 || !strings.HasPrefix(tok, refreshPrefix) || !utf8.ValidString(tok) {
		s.metrics.authFailures.WithLabelValues("refresh").Inc()
		return unauthorized(c, "刷新令牌无效，请重新登录")
	}
	next, nextHash := newRefreshToken()
	rot, err := s.DB.RotateRefreshToken(c.UserContext(), hashToken(tok), nextHash, now, s.lim.RefreshTTL)
	if err != nil {
		return err
	}
	switch rot.Outcome {
	case store.RefreshRotated:
	case store.RefreshReused:
		s.metrics.authFailures.WithLabelValues("refresh_reused").Inc()
		s.log.Warn("refresh token reused; session revoked", "session", rot.SessionID, "user", rot.UserID, "ip", c.IP())
		return unauthorized(c, "刷新令牌已被使用过，为安全起见本次登录已失效，请重新登录")
	case store.RefreshExpired:
		return unauthorized(c, "登录已过期，请重新登录")
	default:
		s.metrics.authFailures.WithLabelValues("refresh").Inc()
		return unauthorized(c, "刷新令牌无效，请重新登录")
	}
	u, err := s.DB.SessionUser(c.UserContext(), rot.UserID, rot.SessionID, now)
	if err != nil {
		if duban.ErrorCode(err) == duban.EUNAUTHORIZED {
			return unauthorized(c, duban.ErrorMessage(err))
		}
		return err
	}
	return s.issueTokens(c, u, rot.SessionID, next)
}

// logout ends the caller's session: its refresh token and every access
// token issued under it stop working at once.
func (s *server) logout(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	if err := s.DB.RevokeSession(c.UserContext(), p.SessionID, "logout", s.now()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func newRefreshToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := refreshPrefix + base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok)
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// dummyHash is checked against when a username does not exist, so that
// the answer takes as long as for a wrong password.
func dummyHash() (string, error) { return password.Hash(randomID(12)) }

type passwordChange struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

func (r *passwordChange) validate() error {
	var errs []input.FieldError
	if r.Current == "" {
		errs = append(errs, input.FieldError{Field: "current_password", Message: "请输入当前密码"})
	}
	if r.New != "" && r.New == r.Current {
		errs = append(errs, input.FieldError{Field: "new_password", Message: "新密码不能与当前密码相同"})
	} else if utf8.RuneCountInString(r.New) < password.MinLength {
		errs = append(errs, input.FieldError{Field: "new_password", Message: fmt.Sprintf("新密码至少 %d 个字符", password.MinLength)})
	} else if len(r.New) > 256 {
		errs = append(errs, input.FieldError{Field: "new_password", Message: "新密码过长"})
	}
	if len(errs) > 0 {
		return input.Invalid("密码修改信息有误", errs...)
	}
	return nil
}

// changePassword sets a new password after checking the current one, and
// clears a password change an administrator required. Every session of
// the user ends, this one included: sign in again with the new password.
func (s *server) changePassword(c *fiber.Ctx) error {
	p, err := caller(c)
	if err != nil {
		return err
	}
	var req passwordChange
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.checkPassword(c, p.User.PasswordHash, req.Current); err != nil {
		if errors.Is(err, password.ErrMismatch) {
			return input.Invalid("当前密码不正确", input.FieldError{Field: "current_password", Message: "当前密码不正确"})
		}
		return err
	}
	hash, err := password.Hash(req.New)
	if err != nil {
		return err
	}
	chosen := false
	if _, err := s.DB.UpdateUserAs(c.UserContext(), p.User.ID, store.UserChange{PasswordHash: &hash, MustChangePassword: &chosen}, p.actor()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
