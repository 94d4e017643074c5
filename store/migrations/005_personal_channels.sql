-- Personal channels: DingTalk 工作通知 and WeCom 应用消息 to a person's id in
-- those directories, and SMS to their mobile number (notification_prefs.mobile,
-- which DingTalk group messages already @-mention). Like email and webhooks,
-- each channel has an address and an optional list of event kinds.

ALTER TABLE notification_prefs
    ADD COLUMN dingtalk_userid text NOT NULL DEFAULT '', -- '' : no DingTalk 工作通知
    ADD COLUMN dingtalk_kinds  text[],                   -- NULL: every event kind
    ADD COLUMN wecom_userid    text NOT NULL DEFAULT '', -- '' : no WeCom 应用消息
    ADD COLUMN wecom_kinds     text[],
    ADD COLUMN sms             boolean NOT NULL DEFAULT false, -- SMS to mobile
    ADD COLUMN sms_kinds       text[];

-- An SMS is a template filled with values ("facts": task, due, …), kept
-- with the delivery from the moment the notice was written, so that a retry
-- or a message held by quiet hours says what the notice said.
ALTER TABLE deliveries
    ADD COLUMN facts jsonb;

COMMENT ON COLUMN deliveries.channel IS 'email | webhook | dingtalk | wecom | sms';
COMMENT ON COLUMN deliveries.target IS 'address, webhook endpoint name, DingTalk/WeCom user id, or mobile number';
