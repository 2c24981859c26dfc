//! The allow-list: one DynamoDB table per CA, keyed by device serial, that the JITR Lambda checks before activating
//! a device. Syncing or pruning one CA's list never touches another's.
//!
//! Entries come from the station's device ledger or from a file of serials (one per line); both are pushed in
//! batches of 25 (the BatchWriteItem limit), retrying unprocessed items.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, KeySchemaElement, KeyType, PutRequest,
    ScalarAttributeType, TableStatus, WriteRequest,
};

use crate::error::{from_sdk, is_code, CloudError, Result, NOT_FOUND};
use crate::piece::{Change, Health};
use crate::settings::CloudContext;

/// Prefix of the allow-list tables; each CA's table is `<prefix>-<first 12 hex of the CA id>`.
pub const TABLE_PREFIX: &str = "keyline-allow-list";

/// The allow-list table of a CA.
pub fn table_name(ca_id: &str) -> String {
    format!("{TABLE_PREFIX}-{}", ca_id.chars().take(12).collect::<String>())
}
/// The partition key attribute.
pub const KEY: &str = "serial";
/// Largest serials file read.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// BatchWriteItem takes at most 25 requests.
const BATCH: usize = 25;

/// Checks a serial: it becomes a thing name and a table key, so 1-128 of `[A-Za-z0-9_:-]`.
pub fn validate_serial(serial: &str) -> Result<&str> {
    let ok = !serial.is_empty()
        && serial.len() <= 128
        && serial.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'));
    if ok { Ok(serial) } else { Err(CloudError::InvalidSerial { serial: serial.chars().take(140).collect() }) }
}

/// Reads a file of serials: one per line, blank lines and `#` comments ignored, duplicates merged.
pub fn read_serials_file(path: &std::path::Path) -> Result<Vec<String>> {
    let read_err = |source| CloudError::ReadFile { path: path.display().to_string(), source };
    let size = std::fs::metadata(path).map_err(read_err)?.len();
    if size > MAX_FILE_BYTES {
        return Err(read_err(std::io::Error::other(format!("larger than {MAX_FILE_BYTES} bytes"))));
    }
    let text = std::fs::read_to_string(path).map_err(read_err)?;
    parse_serials(&text)
}

/// Parses serials from text (see [`read_serials_file`]).
pub fn parse_serials(text: &str) -> Result<Vec<String>> {
    let mut serials = BTreeSet::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if !line.is_empty() {
            serials.insert(validate_serial(line)?.to_string());
        }
    }
    Ok(serials.into_iter().collect())
}

/// Creates the table (on-demand billing) if missing and waits until it is ACTIVE.
pub async fn ensure_table(ctx: &CloudContext, ca_id: &str) -> Result<Change> {
    let table = table_name(ca_id);
    let table = table.as_str();
    if table_status(ctx, table).await?.is_some() {
        wait_active(ctx, table).await?;
        return Ok(Change::Unchanged);
    }
    let key = |b: aws_sdk_dynamodb::error::BuildError| CloudError::Aws { operation: "CreateTable", code: "BuildError".into(), message: b.to_string() };
    ctx.dynamodb
        .create_table()
        .table_name(table)
        .attribute_definitions(AttributeDefinition::builder().attribute_name(KEY).attribute_type(ScalarAttributeType::S).build().map_err(key)?)
        .key_schema(KeySchemaElement::builder().attribute_name(KEY).key_type(KeyType::Hash).build().map_err(key)?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(|e| from_sdk("CreateTable", e))?;
    wait_active(ctx, table).await?;
    Ok(Change::Created)
}

async fn table_status(ctx: &CloudContext, table: &str) -> Result<Option<TableStatus>> {
    match ctx.dynamodb.describe_table().table_name(table).send().await {
        Ok(out) => Ok(Some(out.table().and_then(|t| t.table_status()).cloned().unwrap_or(TableStatus::Active))),
        Err(err) if is_code(&err, NOT_FOUND) => Ok(None),
        Err(err) => Err(from_sdk("DescribeTable", err)),
    }
}

async fn wait_active(ctx: &CloudContext, table: &str) -> Result<()> {
    for _ in 0..120 {
        match table_status(ctx, table).await? {
            Some(TableStatus::Active) => return Ok(()),
            None => return Err(CloudError::Aws { operation: "DescribeTable", code: "ResourceNotFoundException".into(), message: format!("{table} vanished while waiting for it") }),
            Some(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
    Err(CloudError::Aws { operation: "DescribeTable", code: "Timeout".into(), message: format!("{table} did not become ACTIVE within a minute") })
}

/// Whether the table exists and is ACTIVE.
pub async fn table_health(ctx: &CloudContext, ca_id: &str) -> Result<Health> {
    Ok(match table_status(ctx, &table_name(ca_id)).await? {
        None => Health::Missing,
        Some(TableStatus::Active) => Health::Ok,
        Some(other) => Health::Drifted(format!("table status {}", other.as_str())),
    })
}

/// Deletes the table and every entry in it.
pub async fn delete_table(ctx: &CloudContext, ca_id: &str) -> Result<Change> {
    match ctx.dynamodb.delete_table().table_name(table_name(ca_id)).send().await {
        Ok(_) => Ok(Change::Deleted),
        Err(err) if is_code(&err, NOT_FOUND) => Ok(Change::Absent),
        Err(err) => Err(from_sdk("DeleteTable", err)),
    }
}

fn item(serial: &str, source: &str) -> HashMap<String, AttributeValue> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    HashMap::from([
        (KEY.to_string(), AttributeValue::S(serial.to_string())),
        ("enabled".to_string(), AttributeValue::Bool(true)),
        ("source".to_string(), AttributeValue::S(source.to_string())),
        ("added_at".to_string(), AttributeValue::N(now.to_string())),
    ])
}

fn key_of(serial: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([(KEY.to_string(), AttributeValue::S(serial.to_string()))])
}

/// Adds (or re-enables) one serial.
pub async fn add(ctx: &CloudContext, ca_id: &str, serial: &str) -> Result<()> {
    validate_serial(serial)?;
    ctx.dynamodb
        .put_item()
        .table_name(table_name(ca_id))
        .set_item(Some(item(serial, "manual")))
        .send()
        .await
        .map_err(|e| table_error("PutItem", ca_id, e))?;
    Ok(())
}

/// Removes one serial; the Lambda will then revoke a device presenting it.
pub async fn remove(ctx: &CloudContext, ca_id: &str, serial: &str) -> Result<()> {
    validate_serial(serial)?;
    ctx.dynamodb
        .delete_item()
        .table_name(table_name(ca_id))
        .set_key(Some(key_of(serial)))
        .send()
        .await
        .map_err(|e| table_error("DeleteItem", ca_id, e))?;
    Ok(())
}

/// Every serial on the list, sorted.
pub async fn list(ctx: &CloudContext, ca_id: &str) -> Result<Vec<String>> {
    let mut serials = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let out = ctx
            .dynamodb
            .scan()
            .table_name(table_name(ca_id))
            .projection_expression("#k")
            .expression_attribute_names("#k", KEY)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| table_error("Scan", ca_id, e))?;
        serials.extend(out.items().iter().filter_map(|i| i.get(KEY).and_then(|v| v.as_s().ok()).cloned()));
        match out.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => break,
        }
    }
    serials.sort();
    Ok(serials)
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Serials written (new or refreshed).
    pub written: usize,
    /// Serials deleted because they were not in the source (only with `prune`).
    pub deleted: usize,
    /// BatchWriteItem calls made.
    pub batches: usize,
}

/// Pushes `serials` to the table in batches. With `prune`, entries not in `serials` are deleted.
/// `source` is recorded on each item ("ledger", "file", …).
pub async fn sync(ctx: &CloudContext, ca_id: &str, serials: &[String], source: &str, prune: bool) -> Result<SyncReport> {
    for serial in serials {
        validate_serial(serial)?;
    }
    let mut report = SyncReport::default();
    let mut requests: Vec<WriteRequest> = serials
        .iter()
        .map(|s| WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item(s, source))).build().expect("item is set")).build())
        .collect();
    report.written = requests.len();
    if prune {
        let wanted: BTreeSet<&String> = serials.iter().collect();
        for existing in list(ctx, ca_id).await? {
            if !wanted.contains(&existing) {
                requests.push(WriteRequest::builder().delete_request(DeleteRequest::builder().set_key(Some(key_of(&existing))).build().expect("key is set")).build());
                report.deleted += 1;
            }
        }
    }
    for chunk in requests.chunks(BATCH) {
        report.batches += write_batch(ctx, ca_id, chunk.to_vec()).await?;
    }
    Ok(report)
}

/// Writes one batch, resubmitting unprocessed items with back-off; returns the number of calls.
async fn write_batch(ctx: &CloudContext, ca_id: &str, mut pending: Vec<WriteRequest>) -> Result<usize> {
    let table = table_name(ca_id);
    let mut calls = 0;
    let mut delay = Duration::from_millis(100);
    while !pending.is_empty() {
        if calls >= 8 {
            return Err(CloudError::Throttled { operation: "BatchWriteItem", message: format!("{} items still unprocessed", pending.len()) });
        }
        calls += 1;
        let out = ctx
            .dynamodb
            .batch_write_item()
            .request_items(&table, pending)
            .send()
            .await
            .map_err(|e| table_error("BatchWriteItem", ca_id, e))?;
        pending = out.unprocessed_items().and_then(|m| m.get(&table)).cloned().unwrap_or_default();
        if !pending.is_empty() {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    Ok(calls)
}

fn table_error<E, R>(operation: &'static str, ca_id: &str, err: aws_sdk_dynamodb::error::SdkError<E, R>) -> CloudError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if is_code(&err, NOT_FOUND) {
        return CloudError::StackIncomplete { ca_id: ca_id.to_string(), missing: format!("allow-list table {} (deploy with --allow-list)", table_name(ca_id)) };
    }
    from_sdk(operation, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_files_ignore_comments_blank_lines_and_duplicates() {
        let serials = parse_serials("# batch 7\n0123ABCD\n\n  0123ABCD  \nFFEE01 # spare\n").unwrap();
        assert_eq!(serials, vec!["0123ABCD".to_string(), "FFEE01".to_string()]);
    }

    #[test]
    fn bad_serials_are_refused() {
        assert!(matches!(parse_serials("ok\nnot ok\n"), Err(CloudError::InvalidSerial { .. })));
        assert!(validate_serial(&"a".repeat(129)).is_err());
        assert!(validate_serial("thing/../x").is_err());
    }
}
