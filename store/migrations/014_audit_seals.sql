-- Seals of the audit chain (审计链签名封印): the chain's head signed with an
-- Ed25519 key kept outside this database, on a schedule by `duban serve` and
-- by `duban audit seal`. A writer who rewrites audit_log and recomputes every
-- hash cannot sign the new head: `duban audit verify` checks each seal's
-- signature with the public key and that the chain up to last_id hashes to
-- head. Ids run without gaps and are covered by the signature, so a deleted
-- seal shows as a gap (the newest ones are also exported to files).
CREATE TABLE audit_seals (
    id        bigint PRIMARY KEY,
    at        timestamptz NOT NULL,
    last_id   bigint NOT NULL,      -- the last audit_log row the seal covers
    head      text NOT NULL,        -- that row's hash
    key_id    text NOT NULL,        -- hex of the first 8 bytes of sha256(public key)
    signature text NOT NULL         -- base64 Ed25519 signature of the seal's message
);
