-- Retention (duban prune and the scheduled RetentionWorkflow) deletes
-- finished deliveries in batches. A digest's items point at the digest
-- row; deleting an old digest must not fail on an item pruned later (or
-- kept), so the reference is cleared instead.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_digest_id_fkey;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_digest_id_fkey
    FOREIGN KEY (digest_id) REFERENCES deliveries (id) ON DELETE SET NULL;
