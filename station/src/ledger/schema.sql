-- Keyline device ledger, schema version 1.
--
-- Plain portable SQL: it runs unchanged on SQLite (the station's <data_dir>/ledger.sqlite3) and on PostgreSQL,
-- so a factory can move the ledger to a shared server later. Choices that keep it portable:
--   * Types are TEXT and BIGINT only.
--   * Times are TEXT in RFC 3339 UTC with whole seconds, always 20 characters: 2026-11-22T07:34:39Z.
--     They sort as text in time order and PostgreSQL casts them to timestamptz as they are.
--   * Event details are JSON objects stored as TEXT (PostgreSQL may later use jsonb).
--   * No AUTOINCREMENT / SERIAL: events are keyed by (serial, seq), seq counted per device by the station.
--   * Every statement is IF NOT EXISTS, so running this file twice changes nothing.

-- Which migrations have been applied (version 1 is this file).
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     BIGINT PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TEXT NOT NULL
);

-- One row per device (ATECC608A chip), with the certificate the station issued it last.
CREATE TABLE IF NOT EXISTS devices (
    -- Chip serial number: 18 lowercase hex characters (9 bytes).
    serial          TEXT PRIMARY KEY CHECK (length(serial) = 18),
    -- Subject CN of the certificate: the AWS IoT thing name and allow-list key
    -- (lowercase for rainbowtype, uppercase for esp-cryptoauthlib, "sn" + uppercase for trustflex).
    common_name     TEXT NOT NULL,
    -- Firmware profile the certificate fits: rainbowtype, esp-cryptoauthlib or trustflex.
    profile         TEXT NOT NULL,
    -- Name of the signer CA in the station's store.
    ca_name         TEXT NOT NULL,
    -- SHA-256 of the certificate DER, 64 lowercase hex characters: the AWS IoT certificate id.
    cert_id         TEXT NOT NULL UNIQUE CHECK (length(cert_id) = 64),
    -- The certificate, PEM.
    cert_pem        TEXT NOT NULL,
    -- The device public key, P-256 X || Y, 128 lowercase hex characters.
    public_key      TEXT NOT NULL CHECK (length(public_key) = 128),
    -- When the station issued the current certificate.
    issued_at       TEXT NOT NULL,
    -- When the certificate was written to the board (NULL until the provisioning work records it).
    provisioned_at  TEXT,
    -- issued, provisioned, failed, retired (the provisioning work adds the later states).
    status          TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS devices_by_ca ON devices (ca_name);

-- The timeline of each device: issued, certificate replaced, provisioned, …
CREATE TABLE IF NOT EXISTS device_events (
    serial  TEXT NOT NULL REFERENCES devices (serial),
    -- 1, 2, 3, … per device, in the order the events happened.
    seq     BIGINT NOT NULL,
    at      TEXT NOT NULL,
    -- snake_case event kind, e.g. certificate_issued.
    kind    TEXT NOT NULL,
    -- A JSON object with the event's details.
    detail  TEXT NOT NULL,
    PRIMARY KEY (serial, seq)
);
