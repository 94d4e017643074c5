package notify

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/duban-dev/duban/message"
)

// Default endpoints of the two services.
const (
	DingTalkEndpoint = "https://oapi.dingtalk.com"
	WeComEndpoint    = "https://qyapi.weixin.qq.com"
)

// DingTalkAppConfig is an organisation's own DingTalk app (企业内部应用),
// which sends 工作通知 as itself to people by their userid.
type DingTalkAppConfig struct {
	AppKey    string
	AppSecret string
	AgentID   int
	// Endpoint is DingTalkEndpoint unless a test or a proxy says otherwise.
	Endpoint string
	Timeout  time.Duration
	// Now is the clock of the token cache (time.Now by default).
	Now func() time.Time
}

// DingTalkApp sends DingTalk 工作通知: POST
// /topapi/message/corpconversation/asyncsend_v2 with the agent_id, the
// person's userid and a markdown message. DingTalk accepts the message
// and delivers it asynchronously: errcode 0 means accepted, as 250 does
// for SMTP.
type DingTalkApp struct {
	app     *workApp
	agentID int
}

// NewDingTalkApp checks the configuration and returns the channel.
func NewDingTalkApp(cfg DingTalkAppConfig) (*DingTalkApp, error) {
	if cfg.AppKey == "" || cfg.AppSecret == "" || cfg.AgentID <= 0 {
		return nil, errors.New("dingtalk_app: app_key, app_secret and agent_id are all needed")
	}
	args := url.Values{"appkey": {cfg.AppKey}, "appsecret": {cfg.AppSecret}}
	app, err := newWorkApp("钉钉工作通知", cmp.Or(cfg.Endpoint, DingTalkEndpoint), "/gettoken", args, cfg.Timeout, cfg.Now, dingTalkCode)
	if err != nil {
		return nil, err
	}
	app.hints = map[int]string{33012: "userid 无效", 40035: "请求参数不正确（请检查 agent_id）", 60011: "应用无权限向该用户发送",
		60020: "服务器 IP 不在应用的白名单中"}
	return &DingTalkApp{app: app, agentID: cfg.AgentID}, nil
}

// dingTalkCode classifies DingTalk's errcodes: 40014 (不合法的access_token),
// 41001 (缺少access_token) and 42001 (access_token超时) ask for a new token;
// -1 (系统繁忙) and the 9000x codes (调用频率超限, the service bans a caller
// for a second or a minute) pass with time.
func dingTalkCode(code int) codeClass {
	switch {
	case code == 0:
		return codeOK
	case code == 40014 || code == 41001 || code == 42001:
		return codeBadToken
	case code == -1 || (code >= 90001 && code <= 90099):
		return codeTemporary
	}
	return codePermanent
}

// Send sends one message to m.To.DingTalkUserID.
func (d *DingTalkApp) Send(ctx context.Context, m Message) error {
	if m.To.DingTalkUserID == "" {
		return Permanent("没有钉钉 userid")
	}
	type markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	}
	type msg struct {
		MsgType  string   `json:"msgtype"`
		Markdown markdown `json:"markdown"`
	}
	title := m.Title
	if m.Urgent {
		title = "【紧急】" + title
	}
	body := struct {
		AgentID    int    `json:"agent_id"`
		UseridList string `json:"userid_list"`
		Msg        msg    `json:"msg"`
	}{d.agentID, m.To.DingTalkUserID, msg{"markdown", markdown{title, message.RenderChat(mailOf(m), "", chatLimit)}}}
	_, err := d.app.call(ctx, "/topapi/message/corpconversation/asyncsend_v2", body)
	return err
}

// WeComAppConfig is a WeCom self-built app (自建应用), which sends 应用消息
// to people by their UserID.
type WeComAppConfig struct {
	CorpID     string
	CorpSecret string // the app's Secret
	AgentID    int
	Endpoint   string // WeComEndpoint unless a test or a proxy says otherwise
	Timeout    time.Duration
	Now        func() time.Time
}

// WeComApp sends WeCom 应用消息: POST /cgi-bin/message/send with the agentid,
// the person's UserID and a markdown message. It asks WeCom to drop a copy
// of the same content to the same person within half an hour
// (enable_duplicate_check), which folds the resend of a crash between
// acceptance and the sent mark.
type WeComApp struct {
	app     *workApp
	agentID int
}

// weComMarkdownLimit is WeCom's cap on an app message's markdown content.
const weComMarkdownLimit = 2048

// NewWeComApp checks the configuration and returns the channel.
func NewWeComApp(cfg WeComAppConfig) (*WeComApp, error) {
	if cfg.CorpID == "" || cfg.CorpSecret == "" || cfg.AgentID <= 0 {
		return nil, errors.New("wecom_app: corp_id, corp_secret and agent_id are all needed")
	}
	args := url.Values{"corpid": {cfg.CorpID}, "corpsecret": {cfg.CorpSecret}}
	app, err := newWorkApp("企业微信应用消息", cmp.Or(cfg.Endpoint, WeComEndpoint), "/cgi-bin/gettoken", args, cfg.Timeout, cfg.Now, weComCode)
	if err != nil {
		return nil, err
	}
	invalidUser := "UserID 不存在或不在应用可见范围内"
	app.hints = map[int]string{40003: invalidUser, 60111: invalidUser, 81013: invalidUser, 40056: "agentid 不正确",
		60020: "服务器 IP 不在企业可信 IP 中", 48002: "应用没有发送消息的接口权限"}
	return &WeComApp{app: app, agentID: cfg.AgentID}, nil
}

// weComCode classifies WeCom's errcodes: 40014 (invalid access_token),
// 41001 (access_token missing) and 42001 (access_token expired) ask for a
// new token; -1 (系统繁忙), 45009 (接口调用超过限制) and 45033 (接口并发调用超过限制)
// pass with time; invalid users (40003, 60111, 81013) and the rest do not.
func weComCode(code int) codeClass {
	switch code {
	case 0:
		return codeOK
	case 40014, 41001, 42001:
		return codeBadToken
	case -1, 45009, 45033:
		return codeTemporary
	}
	return codePermanent
}

// Send sends one message to m.To.WeComUserID.
func (w *WeComApp) Send(ctx context.Context, m Message) error {
	if m.To.WeComUserID == "" {
		return Permanent("没有企业微信 UserID")
	}
	type markdown struct {
		Content string `json:"content"`
	}
	body := struct {
		ToUser                 string   `json:"touser"`
		MsgType                string   `json:"msgtype"`
		AgentID                int      `json:"agentid"`
		Markdown               markdown `json:"markdown"`
		EnableDuplicateCheck   int      `json:"enable_duplicate_check"`
		DuplicateCheckInterval int      `json:"duplicate_check_interval"`
	}{m.To.WeComUserID, "markdown", w.agentID, markdown{message.RenderChat(mailOf(m), "", weComMarkdownLimit-48)}, 1, 1800}
	r, err := w.app.call(ctx, "/cgi-bin/message/send", body)
	if err != nil {
		return err
	}
	// With one recipient WeCom answers errcode 0 and names the UserID in
	// invaliduser when it is unknown or outside the app's visible range.
	if r.InvalidUser != "" {
		return Permanent("企业微信应用消息: UserID %s 不存在或不在应用可见范围内", r.InvalidUser)
	}
	if r.UnlicensedUser != "" {
		return Permanent("企业微信应用消息: UserID %s 没有接口许可", r.UnlicensedUser)
	}
	return nil
}
