-- Keyline device ledger, schema version 2: provisioning steps and the signing audit log.
--
-- Same portability rules as schema.sql (TEXT and BIGINT, RFC 3339 UTC text, JSON as TEXT, no AUTOINCREMENT).
-- devices.status now moves issued -> written -> verified, or to failed; the provisioning work writes
-- device_events (provisioning_written, provisioning_verified with how it was verified, provisioning_failed).

-- Every pipeline step of every provisioning run, also before the chip serial is known.
CREATE TABLE IF NOT EXISTS provision_steps (
    -- One run of one board: station-chosen id.
    run_id      TEXT NOT NULL,
    -- 1, 2, 3, … per run.
    seq         BIGINT NOT NULL,
    -- Chip serial once known (18 lowercase hex), else NULL.
    serial      TEXT,
    at          TEXT NOT NULL,
    -- The station (host name) and the serial port the board was on.
    station     TEXT NOT NULL,
    port        TEXT NOT NULL,
    -- rainbowtype or esp-helper.
    firmware    TEXT NOT NULL,
    -- open, handshake, configure_lock, read_serial, public_key, check_key, issue, write, verify, done.
    step        TEXT NOT NULL,
    -- done or failed.
    outcome     TEXT NOT NULL,
    elapsed_ms  BIGINT NOT NULL,
    -- JSON object: what the step learned, or the error code, message and hint.
    detail      TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE INDEX IF NOT EXISTS provision_steps_by_serial ON provision_steps (serial);

-- Append-only, hash-chained log of every signing operation. hash = SHA-256 over the previous hash and
-- this entry's fields (see ledger/audit.rs); `keyline audit verify` recomputes the chain.
CREATE TABLE IF NOT EXISTS audit_log (
    seq        BIGINT PRIMARY KEY,
    at         TEXT NOT NULL,
    operation  TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL CHECK (length(prev_hash) = 64),
    hash       TEXT NOT NULL CHECK (length(hash) = 64)
);
