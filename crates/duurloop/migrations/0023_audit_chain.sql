-- Tamper evidence for the audit log (ASVS 7.3.3; NEN 7513 asks that the log cannot be
-- changed unnoticed). Every entry gets its place in one chain (`seq`, 1, 2, 3, … without
-- gaps) and `chain_hash`: the SHA-256 of the previous entry's chain hash and this entry's
-- fields (`store::audit::chain_hash`). `audit_chain` holds the chain's head, one row that
-- every audit-writing transaction locks, so entries join the chain in commit order.
-- `audit_anchors` holds the worker's signed checkpoints (`app::audit_chain`): an HMAC under a
-- key derived from `secret_key` over an entry's place and chain hash, so whoever can write to
-- the database but does not hold the key cannot rewrite anchored entries unnoticed.
-- Entries written before this migration are put in the chain, in the order they were
-- written, by the first start after it (`store::audit::chain_earlier_entries`).
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN chain_hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);

CREATE TABLE audit_chain (
    id         BIGINT PRIMARY KEY,
    seq        BIGINT NOT NULL,
    chain_hash TEXT NOT NULL
);
INSERT INTO audit_chain (id, seq, chain_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_anchors (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    chain_hash TEXT NOT NULL,
    mac        TEXT NOT NULL
);
