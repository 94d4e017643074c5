package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"

	"github.com/duban-dev/duban/api"
	"github.com/duban-dev/duban/config"
	"github.com/duban-dev/duban/notify"
)

// NewDispatcher builds the notification dispatcher from the configuration.
// Email is off while smtp.addr is empty, DingTalk 工作通知 while
// dingtalk_app.app_key is, WeCom 应用消息 while wecom_app.corp_id is, and SMS
// while sms.provider is. A configuration error is returned with the channels
// that are usable, so that one bad webhook does not silence the rest.
func NewDispatcher(st notify.Store, cfg config.Notify, publicURL string) (*notify.Dispatcher, error) {
	d := &notify.Dispatcher{Store: st, PublicURL: publicURL, MaxAttempts: cfg.MaxAttempts, Webhooks: map[string]notify.Channel{}}
	var errs []error
	defaults, err := notify.ParseDefaults(cfg.DigestRoles, cfg.DigestHour, cfg.QuietHours)
	if err != nil {
		errs = append(errs, err)
	}
	d.Defaults = defaults
	if cfg.SMTP.Addr != "" {
		sc := notify.SMTPConfig{Addr: cfg.SMTP.Addr, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password, From: cfg.SMTP.From,
			TLS: cfg.SMTP.TLS, HeloName: cfg.SMTP.HeloName, Timeout: cfg.SMTP.Timeout}
		if cfg.SMTP.CAFile != "" {
			pool, err := notify.LoadCA(cfg.SMTP.CAFile)
			if err != nil {
				errs = append(errs, err)
			} else {
				sc.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			}
		}
		email, err := notify.NewEmail(sc)
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
		ch, err := notify.NewWebhook(notify.WebhookEndpoint{Name: w.Name, Kind: w.Kind, URL: w.URL, Secret: w.Secret})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d.Webhooks[w.Name] = ch
	}
	if c := cfg.DingTalkApp; c.AppKey != "" {
		ch, err := notify.NewDingTalkApp(notify.DingTalkAppConfig{AppKey: c.AppKey, AppSecret: c.AppSecret, AgentID: c.AgentID, Endpoint: c.Endpoint})
		if err != nil {
			errs = append(errs, err)
		} else {
			d.DingTalk = ch
		}
	}
	if c := cfg.WeComApp; c.CorpID != "" {
		ch, err := notify.NewWeComApp(notify.WeComAppConfig{CorpID: c.CorpID, CorpSecret: c.CorpSecret, AgentID: c.AgentID, Endpoint: c.Endpoint})
		if err != nil {
			errs = append(errs, err)
		} else {
			d.WeCom = ch
		}
	}
	if cfg.SMS.Provider != "" {
		ch, err := newSMS(cfg.SMS)
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

func newSMS(c config.SMS) (*notify.SMS, error) {
	sc := notify.SMSConfig{Provider: c.Provider, AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SDKAppID: c.SDKAppID,
		SignName: c.SignName, Region: c.Region, Endpoint: c.Endpoint, MaxParamChars: c.MaxParamChars}
	for i, t := range c.Templates {
		params, err := notify.ParseSMSParams(t.Params)
		if err != nil {
			return nil, fmt.Errorf("sms templates[%d]: %w", i, err)
		}
		sc.Templates = append(sc.Templates, notify.SMSTemplate{Kinds: t.Kinds, Code: t.Code, Params: params})
	}
	return notify.NewSMS(sc)
}

// notifySetup tells the API what the notification configuration offers
// people: the channels a dispatcher built from it can send on, and the
// defaults.
func notifySetup(cfg config.Notify, publicURL string) api.NotifySetup {
	d, _ := NewDispatcher(nil, cfg, publicURL)
	n := api.NotifySetup{Email: d.Email != nil, DingTalk: d.DingTalk != nil, WeCom: d.WeCom != nil, SMS: d.SMS != nil,
		DigestRoles: d.Defaults.DigestRoles, DigestHour: d.Defaults.DigestHour, QuietStart: d.Defaults.QuietStart, QuietEnd: d.Defaults.QuietEnd}
	for name := range d.Webhooks {
		n.Webhooks = append(n.Webhooks, name)
	}
	slices.Sort(n.Webhooks)
	return n
}
