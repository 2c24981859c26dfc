-- Keyline device ledger, schema version 3: indexes for the Devices screen's search and paging.
--
-- Pages are ordered by serial (keyset paging: serial > the last serial shown), so each filter column is
-- indexed together with serial; the common name is searched by prefix without regard to case.

CREATE INDEX IF NOT EXISTS devices_by_ca_serial ON devices (ca_name, serial);
CREATE INDEX IF NOT EXISTS devices_by_profile_serial ON devices (profile, serial);
CREATE INDEX IF NOT EXISTS devices_by_status_serial ON devices (status, serial);
CREATE INDEX IF NOT EXISTS devices_by_issued_at ON devices (issued_at);
CREATE INDEX IF NOT EXISTS devices_by_common_name ON devices (common_name COLLATE NOCASE);
