-- The everyday 督办 actions: urges, the 承办人 a unit names, steps signed by
-- several units (会签/或签) or handed to one approver, chains changed by
-- hand-overs and added signers; comments on a task; approvers' delegations.

ALTER TABLE instances
    ADD COLUMN urge_count    int NOT NULL DEFAULT 0,
    ADD COLUMN last_urged_at timestamptz,
    ADD COLUMN assignee_id   bigint,
    ADD COLUMN assignee_name text NOT NULL DEFAULT '',
    -- The units whose approvers the step waiting waits on, and the one
    -- approver it was handed to (0: any approver of those units).
    ADD COLUMN waiting_units text[],
    ADD COLUMN waiting_user  bigint NOT NULL DEFAULT 0,
    -- The signatures the step waiting has, and the chain once it changed.
    ADD COLUMN signed        jsonb,
    ADD COLUMN chain         jsonb;

UPDATE instances SET waiting_units = ARRAY[approver_unit]
    WHERE status = 'submitted' AND approver_unit IS NOT NULL;
CREATE INDEX instances_waiting_units ON instances USING gin (waiting_units) WHERE status = 'submitted';

-- Discussion of a task (讨论). Deleted comments keep their row (the audit
-- log refers to it); the body is emptied.
CREATE TABLE comments (
    id          bigserial PRIMARY KEY,
    instance_id text NOT NULL,
    author_id   bigint NOT NULL REFERENCES users (id),
    body        text NOT NULL,
    mentions    bigint[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX comments_instance ON comments (instance_id, id);

-- 委托: an approver away lets a delegate decide their steps for a range of
-- days (inclusive, Asia/Shanghai).
CREATE TABLE delegations (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    delegate_id bigint NOT NULL REFERENCES users (id),
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    reason      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK (ends_on >= starts_on),
    CHECK (user_id <> delegate_id)
);
CREATE INDEX delegations_delegate ON delegations (delegate_id) WHERE revoked_at IS NULL;
CREATE INDEX delegations_user ON delegations (user_id) WHERE revoked_at IS NULL;
