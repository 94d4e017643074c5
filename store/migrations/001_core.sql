-- Units of the administrative hierarchy. Codes prefix the codes below them.
CREATE TABLE units (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    level       text NOT NULL,
    parent_code text REFERENCES units (code),
    synthetic   boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX units_parent ON units (parent_code);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    unit_code     text NOT NULL REFERENCES units (code),
    roles         text[] NOT NULL,
    email         text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_unit ON users (unit_code);

CREATE TABLE plans (
    id             text PRIMARY KEY,
    year           int NOT NULL,
    title          text NOT NULL,
    source         text NOT NULL,
    yaml           text NOT NULL,
    checksum       text NOT NULL,
    template_count int NOT NULL,
    imported_at    timestamptz NOT NULL DEFAULT now(),
    imported_by    text NOT NULL DEFAULT ''
);

CREATE TABLE templates (
    plan_id       text NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    id            text NOT NULL,
    section       text NOT NULL,
    section_title text NOT NULL,
    title         text NOT NULL,
    quote         text NOT NULL,
    kind          text NOT NULL,
    ord           int NOT NULL,
    spec          jsonb NOT NULL,
    PRIMARY KEY (plan_id, id)
);

CREATE TABLE launches (
    id         text PRIMARY KEY,
    plan_id    text NOT NULL REFERENCES plans (id),
    year       int NOT NULL,
    status     text NOT NULL,
    total      int NOT NULL DEFAULT 0,
    started    int NOT NULL DEFAULT 0,
    existing   int NOT NULL DEFAULT 0,
    failed     int NOT NULL DEFAULT 0,
    error      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The instance projection the API reads. Ancestor codes are columns so that
-- "everything under a city" is an index range, not a LIKE over the table.
CREATE TABLE instances (
    id                text PRIMARY KEY,
    plan_id           text NOT NULL,
    year              int NOT NULL,
    template_id       text NOT NULL,
    section           text NOT NULL,
    title             text NOT NULL,
    kind              text NOT NULL,
    period            text NOT NULL DEFAULT '',
    unit_code         text NOT NULL,
    unit_name         text NOT NULL,
    unit_level        text NOT NULL,
    city              text,
    county            text,
    township          text,
    status            text NOT NULL,
    due_at            timestamptz NOT NULL,
    overdue_since     timestamptz,
    current_step      int NOT NULL DEFAULT 0,
    step_count        int NOT NULL,
    approver_unit     text,
    step_due_at       timestamptz,
    progress          int NOT NULL DEFAULT 0,
    progress_base     int NOT NULL DEFAULT 0,
    escalation        int NOT NULL DEFAULT 0,
    extension_pending boolean NOT NULL DEFAULT false,
    seq               bigint NOT NULL,
    spec              jsonb NOT NULL,
    assigned_at       timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    completed_at      timestamptz
);
CREATE INDEX instances_unit_due ON instances (unit_code, due_at, id);
CREATE INDEX instances_city_due ON instances (city, due_at, id);
CREATE INDEX instances_county_due ON instances (county, due_at, id);
CREATE INDEX instances_plan_due ON instances (plan_id, year, due_at, id);
CREATE INDEX instances_waiting ON instances (approver_unit, step_due_at, id) WHERE status = 'submitted';
-- Overdue and open, per scope: the supervisor's first page is an index scan.
CREATE INDEX instances_overdue ON instances (overdue_since, id)
    WHERE overdue_since IS NOT NULL AND status IN ('assigned', 'in_progress', 'submitted');
CREATE INDEX instances_overdue_city ON instances (city, overdue_since, id)
    WHERE overdue_since IS NOT NULL AND status IN ('assigned', 'in_progress', 'submitted');
CREATE INDEX instances_overdue_county ON instances (county, overdue_since, id)
    WHERE overdue_since IS NOT NULL AND status IN ('assigned', 'in_progress', 'submitted');
CREATE INDEX instances_overdue_township ON instances (township, overdue_since, id)
    WHERE overdue_since IS NOT NULL AND status IN ('assigned', 'in_progress', 'submitted');

-- Every state change of an instance, idempotent on (instance, seq).
CREATE TABLE events (
    instance_id text NOT NULL,
    seq         bigint NOT NULL,
    at          timestamptz NOT NULL,
    kind        text NOT NULL,
    actor_id    bigint,
    actor_name  text NOT NULL DEFAULT '',
    actor_unit  text NOT NULL DEFAULT '',
    from_status text NOT NULL DEFAULT '',
    to_status   text NOT NULL DEFAULT '',
    step        int NOT NULL DEFAULT 0,
    reason      text NOT NULL DEFAULT '',
    note        text NOT NULL DEFAULT '',
    data        jsonb NOT NULL DEFAULT '{}',
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, seq)
);

-- Counters per unit for the subtree below it, kept up to date on each
-- transition, so rollups never scan instances.
CREATE TABLE rollups (
    plan_id     text NOT NULL,
    year        int NOT NULL,
    unit_code   text NOT NULL,
    parent_code text,
    total       int NOT NULL DEFAULT 0,
    completed   int NOT NULL DEFAULT 0,
    cancelled   int NOT NULL DEFAULT 0,
    submitted   int NOT NULL DEFAULT 0,
    overdue     int NOT NULL DEFAULT 0,
    PRIMARY KEY (plan_id, year, unit_code)
);
CREATE INDEX rollups_parent ON rollups (plan_id, year, parent_code);

-- The in-app notification inbox, one row per person per transition.
CREATE TABLE inbox (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    instance_id text NOT NULL,
    seq         bigint NOT NULL,
    kind        text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    urgent      boolean NOT NULL DEFAULT false,
    dedup_key   text NOT NULL UNIQUE,
    at          timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);
CREATE INDEX inbox_user ON inbox (user_id, id DESC);
CREATE INDEX inbox_unread ON inbox (user_id) WHERE read_at IS NULL;

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);
