-- Plan changes mid-year (计划变更): a 文号 that moves a template's deadline,
-- changes its reminders or evidence note, or withdraws it, carried to every
-- open instance by a workflow; and the plan's versions.

CREATE TABLE plan_changes (
    id            bigserial PRIMARY KEY,
    plan_id       text NOT NULL REFERENCES plans (id),
    year          int NOT NULL,
    template_id   text NOT NULL,
    doc_no        text NOT NULL,
    reason        text NOT NULL,
    units         text[] NOT NULL DEFAULT '{}',
    new_due       timestamptz,
    reminders     jsonb,
    evidence_note text,
    withdraw      boolean NOT NULL DEFAULT false,
    summary       text NOT NULL,
    status        text NOT NULL DEFAULT 'running', -- running, done
    total         int NOT NULL DEFAULT 0,
    applied       int NOT NULL DEFAULT 0,
    skipped       int NOT NULL DEFAULT 0,
    failed        int NOT NULL DEFAULT 0,
    by_id         bigint,
    by_name       text NOT NULL,
    by_unit       text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    -- One 文号 changes a template of a plan year once.
    UNIQUE (plan_id, year, template_id, doc_no)
);
CREATE INDEX plan_changes_plan ON plan_changes (plan_id, year, id);

-- The instances a change reaches and what became of each.
CREATE TABLE plan_change_items (
    change_id   bigint NOT NULL REFERENCES plan_changes (id),
    instance_id text NOT NULL,
    unit_name   text NOT NULL,
    status      text NOT NULL DEFAULT 'pending', -- pending, applied, skipped, failed
    detail      text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (change_id, instance_id)
);
CREATE INDEX plan_change_items_pending ON plan_change_items (change_id, instance_id) WHERE status = 'pending';

-- What changed in a plan, when, by whom: each import of its file and each
-- change recorded.
CREATE TABLE plan_versions (
    plan_id   text NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    version   int NOT NULL,
    kind      text NOT NULL, -- import, change
    summary   text NOT NULL,
    checksum  text NOT NULL DEFAULT '',
    yaml      text,          -- the file, for an import
    change_id bigint REFERENCES plan_changes (id),
    by_name   text NOT NULL DEFAULT '',
    at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, version)
);

-- Plans imported before this migration start their history with what they are.
INSERT INTO plan_versions (plan_id, version, kind, summary, checksum, yaml, by_name, at)
SELECT id, 1, 'import', '导入计划（' || template_count || ' 个任务模板）', checksum, yaml, imported_by, imported_at FROM plans;

-- A unit merged into another (乡镇合并) leaves the hierarchy; its row stays,
-- naming the unit it joined, for the tasks and audit rows that name it.
ALTER TABLE units ADD COLUMN merged_into text REFERENCES units (code);
