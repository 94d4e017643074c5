-- Notification delivery beyond the inbox: people's preferences, and the
-- outbox of deliveries (one row per person, notice and external channel),
-- written in the same transaction as the transition and its inbox rows.

-- A missing row, or a NULL column, means the deployment's default.
CREATE TABLE notification_prefs (
    user_id       bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email         text,              -- NULL: the account's email; '': no email
    email_kinds   text[],            -- NULL: every event kind; '{}': none
    webhook       text NOT NULL DEFAULT '', -- name of a configured endpoint
    webhook_kinds text[],
    mobile        text NOT NULL DEFAULT '', -- @-mentioned in DingTalk groups
    digest        boolean,           -- NULL: on for approvers and supervisors
    digest_hour   smallint CHECK (digest_hour BETWEEN 0 AND 23),
    quiet_start   smallint CHECK (quiet_start BETWEEN 0 AND 23),
    quiet_end     smallint CHECK (quiet_end BETWEEN 0 AND 23),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Status: pending → sent | retrying | held | digest | failed | skipped;
-- retrying → sent | failed; held → sent | …; digest → digested (inside the
-- digest row digest_id, itself a delivery of kind 'digest').
CREATE TABLE deliveries (
    id          bigserial PRIMARY KEY,
    dedup_key   text NOT NULL UNIQUE,  -- instance#seq#user#channel, or digest#user#channel#slot
    user_id     bigint NOT NULL REFERENCES users (id),
    channel     text NOT NULL,         -- email | webhook
    target      text NOT NULL,         -- address, or webhook endpoint name
    instance_id text,                  -- NULL for a digest
    seq         bigint,
    kind        text NOT NULL,         -- event kind, or 'digest'
    urgent      boolean NOT NULL DEFAULT false,
    title       text NOT NULL,
    body        text NOT NULL,
    event_at    timestamptz NOT NULL,  -- plan time of the event
    status      text NOT NULL DEFAULT 'pending',
    not_before  timestamptz NOT NULL DEFAULT now(),
    digest_id   bigint REFERENCES deliveries (id),
    attempts    int NOT NULL DEFAULT 0,
    last_error  text NOT NULL DEFAULT '',
    lease_until timestamptz,           -- an attempt holds the row until then
    fallback    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX deliveries_transition ON deliveries (instance_id, seq);
CREATE INDEX deliveries_open ON deliveries (status, not_before)
    WHERE status IN ('pending', 'retrying', 'held', 'digest');
CREATE INDEX deliveries_digest_items ON deliveries (digest_id) WHERE digest_id IS NOT NULL;
CREATE INDEX deliveries_user ON deliveries (user_id, id DESC);
CREATE INDEX deliveries_failed ON deliveries (id) WHERE status = 'failed';
