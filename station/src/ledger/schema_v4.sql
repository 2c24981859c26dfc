-- Keyline device ledger, schema version 4: fewer B-trees written per issued certificate.
--
-- Every certificate commits one devices row, one certificate_issued event and one audit entry; each B-tree it
-- touches costs a WAL frame and its write at commit (`keyline bench issue`). Counted over 300 commits after
-- 3,000 devices: 15.7 frames per commit at version 3, 13.1 at version 4.
-- - devices_by_ca is a prefix of devices_by_ca_serial (version 3), which serves every query it served.
-- - device_events is keyed by (serial, seq) only: stored in that key's B-tree, with no separate rowid table.
-- - audit_log's seq becomes SQLite's rowid (INTEGER PRIMARY KEY), so the log is one B-tree instead of two.
-- PostgreSQL has neither rowids nor WITHOUT ROWID: a PostgreSQL schema keeps BIGINT PRIMARY KEY and plain tables;
-- the statements Keyline runs on these tables are the same there.

DROP INDEX IF EXISTS devices_by_ca;

CREATE TABLE device_events_v4 (
    serial  TEXT NOT NULL REFERENCES devices (serial),
    seq     BIGINT NOT NULL,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL,
    PRIMARY KEY (serial, seq)
) WITHOUT ROWID;
INSERT INTO device_events_v4 (serial, seq, at, kind, detail) SELECT serial, seq, at, kind, detail FROM device_events;
DROP TABLE device_events;
ALTER TABLE device_events_v4 RENAME TO device_events;

CREATE TABLE audit_log_v4 (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    operation  TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL CHECK (length(prev_hash) = 64),
    hash       TEXT NOT NULL CHECK (length(hash) = 64)
);
INSERT INTO audit_log_v4 (seq, at, operation, detail, prev_hash, hash) SELECT seq, at, operation, detail, prev_hash, hash FROM audit_log ORDER BY seq;
DROP TABLE audit_log;
ALTER TABLE audit_log_v4 RENAME TO audit_log;
