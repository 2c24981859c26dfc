//! Searching the `devices` table page by page (the Devices screen): by serial or common-name prefix, CA,
//! profile, status and issue date, ordered by serial, each page starting after the last serial of the one before.
//!
//! Every condition is added to the SQL only when it is set, so SQLite can use the schema-v3 indexes.

use rusqlite::types::Value as SqlValue;
use serde::{Deserialize, Serialize};

use super::devices::{read_row, COLUMNS};
use super::{Device, Ledger, LedgerError};

/// The largest page a query returns.
pub const MAX_PAGE: u32 = 500;
/// Longest search text or filter value accepted.
const MAX_TEXT: usize = 128;

/// Which devices, and which page of them. Empty strings count as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceQuery {
    /// A prefix of the serial (any case) or of the common name (any case).
    pub text: Option<String>,
    /// Signer CA name.
    pub ca_name: Option<String>,
    /// Firmware profile.
    pub profile: Option<String>,
    /// Status (`issued`, `written`, `verified`, `failed`, …).
    pub status: Option<String>,
    /// Issued on or after this day or time (`2026-12-05` or RFC 3339).
    pub issued_from: Option<String>,
    /// Issued on or before this day (inclusive) or time.
    pub issued_to: Option<String>,
    /// Start after this serial (the `next` of the previous page).
    pub after: Option<String>,
    /// Page size (1..=[`MAX_PAGE`]; 0 means 100).
    pub limit: u32,
}

/// One page of devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DevicePage {
    /// The devices, by serial.
    pub devices: Vec<Device>,
    /// The `after` of the next page, when there is one.
    pub next: Option<String>,
    /// How many devices match the query in all.
    pub total: u64,
}

fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The WHERE clause (without paging) and its parameters.
fn conditions(query: &DeviceQuery) -> Result<(String, Vec<SqlValue>), LedgerError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<SqlValue> = Vec::new();
    let fields = [&query.text, &query.ca_name, &query.profile, &query.status, &query.issued_from, &query.issued_to, &query.after];
    if fields.iter().filter_map(|f| set(f)).any(|v| v.len() > MAX_TEXT || v.chars().any(char::is_control)) {
        return Err(LedgerError::InvalidSearch { reason: format!("a search value is longer than {MAX_TEXT} characters or holds control characters") });
    }
    let mut push = |clause: &str, values: Vec<String>| {
        // Each `?` becomes the numbered parameter of its value, in order.
        let mut numbered = String::new();
        let mut values = values.into_iter();
        for (i, part) in clause.split('?').enumerate() {
            if i > 0 {
                params.push(SqlValue::Text(values.next().unwrap_or_default()));
                numbered.push_str(&format!("?{}", params.len()));
            }
            numbered.push_str(part);
        }
        clauses.push(numbered);
    };
    if let Some(text) = set(&query.text) {
        // A prefix is the range [text, text + U+10FFFF): an index range, unlike LIKE.
        let upper = |t: &str| format!("{t}\u{10FFFF}");
        let lower = text.to_ascii_lowercase();
        if lower.bytes().all(|b| b.is_ascii_hexdigit()) {
            push("((serial >= ? AND serial < ?) OR (common_name >= ? COLLATE NOCASE AND common_name < ? COLLATE NOCASE))", vec![
                lower.clone(),
                upper(&lower),
                text.into(),
                upper(text),
            ]);
        } else {
            push("(common_name >= ? COLLATE NOCASE AND common_name < ? COLLATE NOCASE)", vec![text.into(), upper(text)]);
        }
    }
    for (column, value) in [("ca_name", &query.ca_name), ("profile", &query.profile), ("status", &query.status)] {
        if let Some(value) = set(value) {
            push(&format!("{column} = ?"), vec![value.into()]);
        }
    }
    if let Some(from) = set(&query.issued_from) {
        push("issued_at >= ?", vec![from.into()]);
    }
    if let Some(to) = set(&query.issued_to) {
        // '~' sorts after every character of an RFC 3339 time, so a day is inclusive.
        push("issued_at < ?", vec![format!("{to}~")]);
    }
    let sql = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    Ok((sql, params))
}

/// The page query's SQL and parameters (also used by the query-plan test).
pub(super) fn page_sql(query: &DeviceQuery) -> Result<(String, Vec<SqlValue>), LedgerError> {
    let (mut sql, mut params) = conditions(query)?;
    if let Some(after) = set(&query.after) {
        params.push(SqlValue::Text(after.to_ascii_lowercase()));
        sql.push_str(&format!("{} serial > ?{}", if sql.is_empty() { " WHERE" } else { " AND" }, params.len()));
    }
    let limit = match query.limit {
        0 => 100,
        n => n.min(MAX_PAGE),
    };
    // One more row than the page tells whether there is a next page.
    Ok((format!("SELECT {COLUMNS} FROM devices{sql} ORDER BY serial LIMIT {}", limit + 1), params))
}

impl Ledger {
    /// One page of the devices matching `query`, with the total count.
    pub fn search(&self, query: &DeviceQuery) -> Result<DevicePage, LedgerError> {
        let limit = match query.limit {
            0 => 100,
            n => n.min(MAX_PAGE),
        } as usize;
        let (sql, params) = page_sql(query)?;
        let mut devices = self.query_devices(&sql, &params)?;
        let next = if devices.len() > limit {
            devices.truncate(limit);
            devices.last().map(|d| d.serial.to_string())
        } else {
            None
        };
        let (where_sql, count_params) = conditions(query)?;
        let total: i64 = self
            .conn
            .query_row(&format!("SELECT COUNT(*) FROM devices{where_sql}"), rusqlite::params_from_iter(count_params), |row| row.get(0))
            .map_err(LedgerError::db("read", &self.path))?;
        Ok(DevicePage { devices, next, total: u64::try_from(total).unwrap_or(0) })
    }

    /// Every device matching `query` (paging fields ignored), by serial: what an export writes.
    pub fn search_all(&self, query: &DeviceQuery) -> Result<Vec<Device>, LedgerError> {
        let (sql, params) = conditions(query)?;
        self.query_devices(&format!("SELECT {COLUMNS} FROM devices{sql} ORDER BY serial"), &params)
    }

    fn query_devices(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Device>, LedgerError> {
        let mut statement = self.conn.prepare(sql).map_err(LedgerError::db("read", &self.path))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(params.iter()), read_row)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(LedgerError::db("read", &self.path))?;
        rows.into_iter().collect()
    }

    /// The plan SQLite chooses for a page query (`EXPLAIN QUERY PLAN`), one line per step.
    pub fn page_plan(&self, query: &DeviceQuery) -> Result<Vec<String>, LedgerError> {
        let (sql, params) = page_sql(query)?;
        let mut statement = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).map_err(LedgerError::db("read", &self.path))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(params.iter()), |row| row.get::<_, String>(3))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(LedgerError::db("read", &self.path))?;
        Ok(rows)
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
