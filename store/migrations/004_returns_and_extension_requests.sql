-- What lists show without opening a task: why it was last sent back (while
-- the unit holds it again; the next submission clears it), and the pending
-- extension request (the deadline asked for, why, who asked and when).
-- Written by ApplyTransition from the workflow's projection.
ALTER TABLE instances
    ADD COLUMN last_reason            text NOT NULL DEFAULT '',
    ADD COLUMN extension_new_due      timestamptz,
    ADD COLUMN extension_reason       text NOT NULL DEFAULT '',
    ADD COLUMN extension_requested_by text NOT NULL DEFAULT '',
    ADD COLUMN extension_requested_at timestamptz;

-- Rows written before this migration, from their timelines: a task the
-- unit holds whose latest submission or rejection is a rejection, and a
-- pending extension's latest request. (Few rows; each looks up its own
-- events by the primary key.)
UPDATE instances i SET last_reason = (
        SELECT e.reason FROM events e
        WHERE e.instance_id = i.id AND e.kind IN ('submitted', 'rejected')
        ORDER BY e.seq DESC LIMIT 1)
    WHERE i.status IN ('assigned', 'in_progress')
      AND (SELECT e.kind FROM events e
           WHERE e.instance_id = i.id AND e.kind IN ('submitted', 'rejected')
           ORDER BY e.seq DESC LIMIT 1) = 'rejected';

UPDATE instances i SET
        extension_new_due = (e.data ->> 'new_due')::timestamptz,
        extension_reason = e.reason,
        extension_requested_by = e.actor_name,
        extension_requested_at = e.at
    FROM events e
    WHERE i.extension_pending
      AND e.instance_id = i.id
      AND e.seq = (SELECT max(x.seq) FROM events x WHERE x.instance_id = i.id AND x.kind = 'extension_requested');
