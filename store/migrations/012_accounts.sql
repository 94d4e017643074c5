-- Accounts managed from the UI: a password an administrator set (a new
-- account, an import, a reset) must be changed by its user before anything
-- else; a mobile number for the account sheet.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN mobile text NOT NULL DEFAULT '';
CREATE INDEX users_unit_pattern ON users (unit_code text_pattern_ops);
