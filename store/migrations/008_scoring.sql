-- The year's 考核 and its trends.

-- Bonus items (加减分) a supervisor awarded a unit under a plan's scoring
-- rules: what, how many points, why, by whom and when (plan time, which a
-- score as of a day compares with). A revoked award stays, marked, and no
-- longer counts; both acts are in the audit log.
CREATE TABLE score_awards (
    id              bigserial PRIMARY KEY,
    plan_id         text NOT NULL REFERENCES plans (id),
    year            int NOT NULL,
    unit_code       text NOT NULL REFERENCES units (code),
    bonus_id        text NOT NULL,
    points          numeric(8, 2) NOT NULL CHECK (points <> 0),
    reason          text NOT NULL,
    at              timestamptz NOT NULL,
    awarded_by      bigint REFERENCES users (id),
    awarded_by_name text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    revoked_by_name text NOT NULL DEFAULT '',
    revoke_reason   text NOT NULL DEFAULT ''
);
CREATE INDEX score_awards_unit ON score_awards (plan_id, year, unit_code, at) WHERE revoked_at IS NULL;

-- The rollup counters of every unit as they stood on each day (plan time),
-- for the board's trend chart and the comparison with the year before. The
-- key leads with the unit and year: a unit's series of a year, of any plan,
-- is one index range.
CREATE TABLE rollup_snapshots (
    unit_code text NOT NULL,
    year      int NOT NULL,
    plan_id   text NOT NULL,
    day       date NOT NULL,
    total     int NOT NULL,
    completed int NOT NULL,
    cancelled int NOT NULL,
    submitted int NOT NULL,
    overdue   int NOT NULL,
    taken_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_code, year, plan_id, day)
);
CREATE INDEX rollup_snapshots_day ON rollup_snapshots (day);
