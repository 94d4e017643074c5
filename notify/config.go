package notify

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/duban-dev/duban"
	"github.com/duban-dev/duban/config"
)

// FromConfig builds a dispatcher from the configuration. Email is off while
// smtp.addr is empty, DingTalk 工作通知 while dingtalk_app.app_key is, WeCom
// 应用消息 while wecom_app.corp_id is, and SMS while sms.provider is. A configuration error is returned with the channels
// that are usable, so that one bad webhook does not silence the rest.
func FromConfig(st Store, cfg config.Notify, publicURL string) (*Dispatcher, error) {
	d := &Dispatcher{Store: st, PublicURL: publicURL, MaxAttempts: cfg.MaxAttempts, Webhooks: map[string]Channel{}}
	var errs []error
	defaults, err := ParseDefaults(cfg.DigestRoles, cfg.DigestHour, cfg.QuietHours)
	if err != nil {
		errs = append(errs, err)
	}
	d.Defaults = defaults
	if cfg.SMTP.Addr != "" {
		sc := SMTPConfig{Addr: cfg.SMTP.Addr, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password, From: cfg.SMTP.From,
			TLS: cfg.SMTP.TLS, HeloName: cfg.SMTP.HeloName, Timeout: cfg.SMTP.Timeout}
		if cfg.SMTP.CAFile != "" {
			pool, err := LoadCA(cfg.SMTP.CAFile)
			if err != nil {
				errs = append(errs, err)
			} else {
				sc.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			}
		}
		email, err := NewEmail(sc)
		if err != nil {
			errs = append(errs, err)
		} else {
			d.Email = email
		}
	}
	for _, w := range cfg.Webhooks {
		if _, dup := d.Webhooks[w.Name]; dup || w.Name == "" {
			errs = append(errs, fmt.Errorf("webhook name %q is empty or used twice", w.Name))
			continue
		}
		ch, err := NewWebhook(WebhookEndpoint{Name: w.Name, Kind: w.Kind, URL: w.URL, Secret: w.Secret})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d.Webhooks[w.Name] = ch
	}
	if c := cfg.DingTalkApp; c.AppKey != "" {
		ch, err := NewDingTalkApp(DingTalkAppConfig{AppKey: c.AppKey, AppSecret: c.AppSecret, AgentID: c.AgentID, Endpoint: c.Endpoint})
		if err != nil {
			errs = append(errs, err)
		} else {
			d.DingTalk = ch
		}
	}
	if c := cfg.WeComApp; c.CorpID != "" {
		ch, err := NewWeComApp(WeComAppConfig{CorpID: c.CorpID, CorpSecret: c.CorpSecret, AgentID: c.AgentID, Endpoint: c.Endpoint})
		if err != nil {
			errs = append(errs, err)
		} else {
			d.WeCom = ch
		}
	}
	if cfg.SMS.Provider != "" {
		ch, err := smsFromConfig(cfg.SMS)
		if err != nil {
			errs = append(errs, err)
		} else {
			d.SMS = ch
		}
	}
	if err := errors.Join(errs...); err != nil {
		return d, fmt.Errorf("notify configuration: %w", err)
	}
	return d, nil
}

func smsFromConfig(c config.SMS) (*SMS, error) {
	sc := SMSConfig{Provider: c.Provider, AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SDKAppID: c.SDKAppID,
		SignName: c.SignName, Region: c.Region, Endpoint: c.Endpoint, MaxParamChars: c.MaxParamChars}
	for i, t := range c.Templates {
		params, err := ParseSMSParams(t.Params)
		if err != nil {
			return nil, fmt.Errorf("sms templates[%d]: %w", i, err)
		}
		sc.Templates = append(sc.Templates, SMSTemplate{Kinds: t.Kinds, Code: t.Code, Params: params})
	}
	return NewSMS(sc)
}

// ParseDefaults reads the configured defaults: roles "approver,supervisor"
// (or "none"), an hour, and quiet hours "22-7" (or "").
func ParseDefaults(roles string, digestHour int, quiet string) (Defaults, error) {
	d := Defaults{DigestHour: digestHour}
	if !validHour(digestHour) {
		return StandardDefaults(), fmt.Errorf("digest_hour %d: want 0–23", digestHour)
	}
	if r := strings.TrimSpace(roles); r != "" && r != "none" {
		for _, s := range strings.Split(r, ",") {
			role := duban.Role(strings.TrimSpace(s))
			if !role.Valid() {
				return StandardDefaults(), fmt.Errorf("digest_roles: unknown role %q", s)
			}
			d.DigestRoles = append(d.DigestRoles, role)
		}
	}
	if q := strings.TrimSpace(quiet); q != "" && q != "none" {
		from, to, ok := strings.Cut(q, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(from))
		b, err2 := strconv.Atoi(strings.TrimSpace(to))
		if !ok || err1 != nil || err2 != nil || !validHour(a) || !validHour(b) {
			return d, fmt.Errorf("quiet_hours %q: want two hours such as 22-7", quiet)
		}
		d.QuietStart, d.QuietEnd = a, b
	}
	return d, nil
}
