package providertest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
)

// appFault is a failure queued for the next send: the reply
// {"errcode": ErrCode, "errmsg": ErrMsg} with HTTP 200, or with HTTP
// Status and no JSON when Status is set.
type appFault struct {
	ErrCode int
	ErrMsg  string
	Status  int
}

// tokens issues and checks access tokens as both services do: a token is
// valid for ttl; asking again while it is valid returns the same token
// (DingTalk also extends its life, WeCom does not).
type tokens struct {
	ttl      time.Duration
	extend   bool
	current  string
	issued   map[string]time.Time // token → expiry
	requests int
}

func (t *tokens) issue(now time.Time) (string, time.Duration) {
	t.requests++
	if t.issued == nil {
		t.issued = map[string]time.Time{}
	}
	ttl := t.ttl
	if ttl <= 0 {
		ttl = 7200 * time.Second
	}
	if exp, ok := t.issued[t.current]; ok && now.Before(exp) {
		if t.extend {
			t.issued[t.current] = now.Add(ttl)
			return t.current, ttl
		}
		return t.current, exp.Sub(now)
	}
	t.current = randomHex(16)
	t.issued[t.current] = now.Add(ttl)
	return t.current, ttl
}

// check returns 0 for a valid token, 41001 for none, 42001 for an expired
// one and 40014 for one never issued or revoked.
func (t *tokens) check(tok string, now time.Time) int {
	exp, ok := t.issued[tok]
	switch {
	case tok == "":
		return 41001
	case !ok:
		return 40014
	case !now.Before(exp):
		return 42001
	}
	return 0
}

func (t *tokens) revoke() {
	t.issued = nil
	t.current = ""
}

// readJSON reads a POSTed JSON body into v; it reports false for another
// method or content type, or a body that is not JSON.
func readJSON(r *http.Request, v any) ([]byte, bool) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost || ct != "application/json" {
		return nil, false
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(raw, v) != nil {
		return raw, false
	}
	return raw, true
}

func errReply(code int, msg string) map[string]any {
	return map[string]any{"errcode": code, "errmsg": msg}
}

// workApp is what the DingTalk and WeCom fakes share: the messages and
// queued faults, and the access tokens.
type workApp struct {
	log[appFault]
	tok tokens
}

// FailNext makes the next send answer {"errcode": code, "errmsg": msg}.
func (a *workApp) FailNext(code int, msg string) { a.queue(appFault{ErrCode: code, ErrMsg: msg}) }

// FailNextHTTP makes the next send answer with an HTTP status and no JSON.
func (a *workApp) FailNextHTTP(status int) { a.queue(appFault{Status: status}) }

// RevokeTokens invalidates every token issued (as either service may,
// before their time): the next call with one gets 40014.
func (a *workApp) RevokeTokens() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tok.revoke()
}

// TokenCalls counts gettoken requests.
func (a *workApp) TokenCalls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tok.requests
}

// badToken answers a request whose access token is missing, unknown or
// expired, with the service's message for the code, and reports whether
// it did. Call with mu held.
func (a *workApp) badToken(w http.ResponseWriter, r *http.Request, now time.Time, messages map[int]string) bool {
	code := a.tok.check(r.URL.Query().Get("access_token"), now)
	if code != 0 {
		writeJSON(w, http.StatusOK, errReply(code, messages[code]))
	}
	return code != 0
}

// fault answers with the next queued failure, if any, and reports whether
// it did. Call with mu held.
func (a *workApp) fault(w http.ResponseWriter) bool {
	f, ok := a.nextFault()
	switch {
	case !ok:
	case f.Status != 0:
		w.WriteHeader(f.Status)
	default:
		writeJSON(w, http.StatusOK, errReply(f.ErrCode, f.ErrMsg))
	}
	return ok
}

// ---------------------------------------------------------------------------
// DingTalk

// DingTalk is DingTalk's server API for one internal app: GET
// /gettoken?appkey&appsecret, POST
// /topapi/message/corpconversation/asyncsend_v2?access_token and
// /topapi/message/corpconversation/getsendresult?access_token.
type DingTalk struct {
	workApp
	AppKey    string
	AppSecret string
	AgentID   int
	// Users are the userids of the directory; nil takes any userid.
	// Messages to others are accepted (the API is asynchronous) and show
	// up in the task's invalid_user_id_list, as on DingTalk.
	Users []string

	tasks []dingTask
}

type dingTask struct {
	invalid, forbidden, delivered []string
}

// NewDingTalk returns a fake for the app with these credentials; tokens
// live ttl (7200 s when 0).
func NewDingTalk(appKey, appSecret string, agentID int, ttl time.Duration) *DingTalk {
	return &DingTalk{AppKey: appKey, AppSecret: appSecret, AgentID: agentID, workApp: workApp{tok: tokens{ttl: ttl, extend: true}}}
}

func (d *DingTalk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	path := r.URL.Path
	if strings.HasSuffix(path, "/gettoken") {
		q := r.URL.Query()
		if r.Method != http.MethodGet || q.Get("appkey") != d.AppKey || q.Get("appsecret") != d.AppSecret {
			writeJSON(w, http.StatusOK, errReply(40089, "不合法的corpid或corpsecret"))
			return
		}
		tok, ttl := d.tok.issue(now)
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": int(ttl / time.Second)})
		return
	}
	send := strings.HasSuffix(path, "/topapi/message/corpconversation/asyncsend_v2")
	result := strings.HasSuffix(path, "/topapi/message/corpconversation/getsendresult")
	if !send && !result {
		writeJSON(w, http.StatusNotFound, errReply(404, "not found"))
		return
	}
	if send {
		d.requests++
	}
	if d.badToken(w, r, now, map[int]string{41001: "缺少参数access_token", 40014: "不合法的access_token", 42001: "access_token超时"}) {
		return
	}
	if result {
		d.result(w, r)
		return
	}
	if d.fault(w) {
		return
	}
	var req struct {
		AgentID    int    `json:"agent_id"`
		UseridList string `json:"userid_list"`
		ToAllUser  bool   `json:"to_all_user"`
		Msg        struct {
			MsgType string `json:"msgtype"`
			Text    struct {
				Content string `json:"content"`
			} `json:"text"`
			Markdown struct {
				Title string `json:"title"`
				Text  string `json:"text"`
			} `json:"markdown"`
		} `json:"msg"`
	}
	raw, ok := readJSON(r, &req)
	if !ok {
		writeJSON(w, http.StatusOK, errReply(40035, "不合法的参数：请求体应为 JSON"))
		return
	}
	if req.AgentID != d.AgentID {
		writeJSON(w, http.StatusOK, errReply(40035, "不合法的参数：agent_id"))
		return
	}
	users := strings.Split(req.UseridList, ",")
	if req.UseridList == "" || len(users) > 100 || req.ToAllUser {
		writeJSON(w, http.StatusOK, errReply(40035, "不合法的参数：userid_list"))
		return
	}
	m := Message{Provider: "dingtalk", AgentID: req.AgentID, MsgType: req.Msg.MsgType, Body: raw, At: now}
	switch req.Msg.MsgType {
	case "text":
		m.Text = req.Msg.Text.Content
	case "markdown":
		m.Title, m.Text = req.Msg.Markdown.Title, req.Msg.Markdown.Text
		if m.Title == "" {
			writeJSON(w, http.StatusOK, errReply(40035, "不合法的参数：markdown.title"))
			return
		}
	default:
		writeJSON(w, http.StatusOK, errReply(40035, "不合法的参数：msgtype"))
		return
	}
	if m.Text == "" || len(m.Text) > 5000 {
		writeJSON(w, http.StatusOK, errReply(40035, "不合法的参数：消息内容为空或超长"))
		return
	}
	var task dingTask
	for _, u := range users {
		switch {
		case d.Users != nil && !slices.Contains(d.Users, u):
			task.invalid = append(task.invalid, u)
		case d.sentToday(u, m.Text, now):
			// DingTalk delivers the same content to a person once a day.
			task.forbidden = append(task.forbidden, u)
		default:
			task.delivered = append(task.delivered, u)
			mu := m
			mu.To = u
			d.messages = append(d.messages, mu)
		}
	}
	d.tasks = append(d.tasks, task)
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "task_id": len(d.tasks), "request_id": randomHex(8)})
}

func (d *DingTalk) sentToday(user, text string, now time.Time) bool {
	for _, m := range d.messages {
		if m.To == user && m.Text == text && now.Sub(m.At) < 24*time.Hour {
			return true
		}
	}
	return false
}

func (d *DingTalk) result(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AgentID int `json:"agent_id"`
		TaskID  int `json:"task_id"`
	}
	if _, ok := readJSON(r, &req); !ok || req.AgentID != d.AgentID || req.TaskID < 1 || req.TaskID > len(d.tasks) {
		writeJSON(w, http.StatusOK, errReply(40035, "不合法的参数：agent_id 或 task_id"))
		return
	}
	t := d.tasks[req.TaskID-1]
	forbidden := []map[string]any{}
	for _, u := range t.forbidden {
		forbidden = append(forbidden, map[string]any{"userid": u, "code": "143106", "count": 1})
	}
	list := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "request_id": randomHex(8), "send_result": map[string]any{
		"invalid_user_id_list": list(t.invalid), "forbidden_list": forbidden, "failed_user_id_list": []string{},
		"read_user_id_list": []string{}, "unread_user_id_list": list(t.delivered), "invalid_dept_id_list": []int{},
	}})
}

// SendResult is what getsendresult reports for a task (1, 2, … in the
// order of sends): the userids not in the directory and those DingTalk
// refused (the same content twice a day).
func (d *DingTalk) SendResult(task int) (invalid, forbidden []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if task < 1 || task > len(d.tasks) {
		return nil, nil
	}
	return slices.Clone(d.tasks[task-1].invalid), slices.Clone(d.tasks[task-1].forbidden)
}

// ---------------------------------------------------------------------------
// WeCom

// WeCom is WeCom's server API for one self-built app: GET
// /cgi-bin/gettoken?corpid&corpsecret and POST /cgi-bin/message/send?access_token.
type WeCom struct {
	workApp
	CorpID     string
	CorpSecret string
	AgentID    int
	// Users are the UserIDs in the app's visible range; nil takes any.
	Users []string

	duplicates int
}

// NewWeCom returns a fake for the app with these credentials; tokens live
// ttl (7200 s when 0).
func NewWeCom(corpID, corpSecret string, agentID int, ttl time.Duration) *WeCom {
	return &WeCom{CorpID: corpID, CorpSecret: corpSecret, AgentID: agentID, workApp: workApp{tok: tokens{ttl: ttl}}}
}

// Duplicates counts messages dropped by the duplicate check.
func (c *WeCom) Duplicates() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.duplicates
}

func (c *WeCom) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	path := r.URL.Path
	if strings.HasSuffix(path, "/cgi-bin/gettoken") {
		q := r.URL.Query()
		switch {
		case r.Method != http.MethodGet || q.Get("corpid") != c.CorpID:
			writeJSON(w, http.StatusOK, errReply(40013, "invalid corpid"))
		case q.Get("corpsecret") != c.CorpSecret:
			writeJSON(w, http.StatusOK, errReply(40001, "invalid credential"))
		default:
			tok, ttl := c.tok.issue(now)
			writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": int(ttl / time.Second)})
		}
		return
	}
	if !strings.HasSuffix(path, "/cgi-bin/message/send") {
		writeJSON(w, http.StatusNotFound, errReply(404, "not found"))
		return
	}
	c.requests++
	if c.badToken(w, r, now, map[int]string{41001: "access_token missing", 40014: "invalid access_token", 42001: "access_token expired"}) || c.fault(w) {
		return
	}
	var req struct {
		ToUser  string `json:"touser"`
		MsgType string `json:"msgtype"`
		AgentID int    `json:"agentid"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
		Markdown struct {
			Content string `json:"content"`
		} `json:"markdown"`
		EnableDuplicateCheck   int `json:"enable_duplicate_check"`
		DuplicateCheckInterval int `json:"duplicate_check_interval"`
	}
	raw, ok := readJSON(r, &req)
	switch {
	case !ok:
		writeJSON(w, http.StatusOK, errReply(40035, "invalid parameter: body is not JSON"))
		return
	case req.AgentID != c.AgentID:
		writeJSON(w, http.StatusOK, errReply(40056, "invalid agentid"))
		return
	case req.ToUser == "" || req.ToUser == "@all":
		writeJSON(w, http.StatusOK, errReply(40031, "invalid userid list"))
		return
	}
	m := Message{Provider: "wecom", AgentID: req.AgentID, MsgType: req.MsgType, Body: raw, At: now}
	switch req.MsgType {
	case "text":
		m.Text = req.Text.Content
	case "markdown":
		m.Text = req.Markdown.Content
	default:
		writeJSON(w, http.StatusOK, errReply(40008, "invalid message type"))
		return
	}
	if m.Text == "" {
		writeJSON(w, http.StatusOK, errReply(44004, "empty content"))
		return
	}
	if len(m.Text) > 2048 {
		writeJSON(w, http.StatusOK, errReply(45002, "content size out of limit"))
		return
	}
	interval := time.Duration(req.DuplicateCheckInterval) * time.Second
	if interval <= 0 || interval > 4*time.Hour {
		interval = 1800 * time.Second
	}
	var invalid []string
	users := strings.Split(req.ToUser, "|")
	for _, u := range users {
		if c.Users != nil && !slices.ContainsFunc(c.Users, func(known string) bool { return strings.EqualFold(known, u) }) {
			invalid = append(invalid, strings.ToLower(u))
			continue
		}
		if req.EnableDuplicateCheck == 1 && c.sentWithin(u, m.Text, now, interval) {
			c.duplicates++
			continue
		}
		mu := m
		mu.To = u
		c.messages = append(c.messages, mu)
	}
	if len(invalid) == len(users) {
		writeJSON(w, http.StatusOK, errReply(81013, "user & party & tag all invalid"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "invaliduser": strings.Join(invalid, "|"),
		"invalidparty": "", "invalidtag": "", "unlicenseduser": "", "msgid": randomHex(12)})
}

func (c *WeCom) sentWithin(user, text string, now time.Time, d time.Duration) bool {
	for _, m := range c.messages {
		if m.To == user && m.Text == text && now.Sub(m.At) < d {
			return true
		}
	}
	return false
}
