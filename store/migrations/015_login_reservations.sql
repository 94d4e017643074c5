-- When a sign-in last reserved one of the account's password checks: a
-- reservation whose check never finished (the process died mid-check) must
-- not hold the allowance for ever. Sign-ins refused while checks are in
-- flight are told to try again; after a minute with no check finished the
-- spent allowance locks the account as failures would.
ALTER TABLE login_attempts ADD COLUMN reserved_at timestamptz;
