-- What the HTTP API needs: sign-in sessions with rotating refresh tokens,
-- login lockout, evidence files, the hash-chained audit log, and the
-- notification fan-out for server-sent events.

-- A session is one sign-in: a family of refresh tokens. Access tokens carry
-- the session id, so revoking the session (logout, refresh-token reuse, a
-- disabled user) ends them too.
CREATE TABLE sessions (
    id             text PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL, -- absolute end, however often refreshed
    revoked_at     timestamptz,
    revoked_reason text NOT NULL DEFAULT '',
    client_ip      text NOT NULL DEFAULT '',
    user_agent     text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

-- Only the SHA-256 of a refresh token is stored. A token is good once:
-- presenting one whose used_at is set revokes its whole session.
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Consecutive failed sign-ins per username (existing or not, so a lockout
-- says nothing about which accounts exist).
CREATE TABLE login_attempts (
    username        text PRIMARY KEY,
    failures        int NOT NULL DEFAULT 0,
    last_failure_at timestamptz,
    locked_until    timestamptz
);

-- Evidence files uploaded for an instance; the bytes live in the blob
-- store under their SHA-256. A file is downloadable through the instances
-- it was uploaded to, never by hash alone. (No foreign key to instances:
-- `duban dev --reset` truncates instances.)
CREATE TABLE evidence (
    instance_id  text NOT NULL,
    sha256       text NOT NULL,
    name         text NOT NULL,
    size         bigint NOT NULL,
    content_type text NOT NULL,
    uploaded_by  bigint REFERENCES users (id),
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, sha256)
);

-- Extension requests waiting on a unit: the unit comes from the spec.
ALTER TABLE instances ADD COLUMN extension_unit text GENERATED ALWAYS AS (spec ->> 'extension_unit') STORED;
CREATE INDEX instances_extension_waiting ON instances (extension_unit, due_at, id) WHERE extension_pending;
CREATE INDEX instances_township_due ON instances (township, due_at, id);

-- The audit log: every decision and admin action. Rows are hash-chained:
-- hash = sha256(prev_hash || canonical content), see store/api_audit.go.
-- Appends serialize on the single audit_head row, which also records the
-- last id and hash so that a truncated tail is detected.
CREATE TABLE audit_log (
    id          bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_id    bigint,
    actor_name  text NOT NULL,
    actor_unit  text NOT NULL,
    action      text NOT NULL,
    unit_code   text NOT NULL,
    instance_id text NOT NULL DEFAULT '',
    detail      text NOT NULL, -- JSON, kept as the exact bytes that were hashed
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);
CREATE INDEX audit_unit ON audit_log (unit_code text_pattern_ops, id);
CREATE INDEX audit_instance ON audit_log (instance_id, id) WHERE instance_id <> '';
CREATE INDEX audit_actor ON audit_log (actor_id, id);
CREATE INDEX audit_at ON audit_log (at, id);

CREATE TABLE audit_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_id   bigint NOT NULL,
    hash      text NOT NULL
);
INSERT INTO audit_head (last_id, hash) VALUES (0, '');

-- New inbox rows are announced to API processes, which LISTEN once each and
-- push them to the user's open event streams.
CREATE FUNCTION inbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('duban_inbox', NEW.user_id::text || ':' || NEW.id::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER inbox_notify AFTER INSERT ON inbox FOR EACH ROW EXECUTE FUNCTION inbox_notify();
