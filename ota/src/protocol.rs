//! The rainbowtype `/rtserver` JSON actions: strict, bounded decoding of what peers send, and
//! encoding of what the server sends in the public server's exact compact form.
//!
//! Field names are those of kmwebnet/rainbowtype-server `index.ts`: `serial`, `action`,
//! `request`, `data`, `keynum`, `state`; actions `bootup`, `ack`, `updatecompleted`,
//! `urlupdated`, `otaaccepted`, `finishcertrefresh`, `publickeyissued`, `pkeyissued`,
//! `setstate`, `getallstate`, `responseallstate`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// Largest `/rtserver` message accepted (a `setstate` carrying a certificate PEM is ~1 KiB).
pub const MAX_ACTION_BYTES: usize = 16 * 1024;
/// Longest serial or peer id accepted.
pub const MAX_SERIAL_LEN: usize = 64;
/// Longest `data` value accepted.
pub const MAX_DATA_LEN: usize = 8 * 1024;
/// Length of the serial prefix of a `/fw` upload.
pub const FW_SERIAL_LEN: usize = 18;

/// The requests the server can hold for a device.
pub const REQUESTS: [&str; 6] = ["none", "ota", "pubkey", "cert", "url", "pkeyissued"];
/// The boot states a device can be in.
pub const STATES: [&str; 4] = ["offlineboot", "onlineboot", "forcefwdownload", "bootprohibited"];

/// One device's record, field order as the public server stores and sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// Pending request (`none`, `ota`, `pubkey`, `cert`, `url`, `pkeyissued`).
    pub request: String,
    /// Request data (a URL, a PEM, or `none`).
    pub data: String,
    /// Key slot number for key rotation.
    pub keynum: i64,
    /// Boot state (`offlineboot`, `onlineboot`, `forcefwdownload`, `bootprohibited`).
    pub state: String,
}

impl Default for DeviceRecord {
    /// The public server's `defaultdevice`.
    fn default() -> Self {
        DeviceRecord { request: "none".into(), data: "none".into(), keynum: 0, state: "offlineboot".into() }
    }
}

/// A decoded `/rtserver` message. In every variant `serial` is the device serial (or, for
/// `getallstate` / `responseallstate`, the operator's CN); `record` is a [`DeviceRecord`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Action {
    /// Device booted and asks for its record.
    Bootup { serial: String },
    /// Device finished (or found nothing to do after) an update.
    UpdateCompleted { serial: String },
    /// Device stored the URL it was sent.
    UrlUpdated { serial: String },
    /// Device accepted an OTA request and is about to download.
    OtaAccepted { serial: String },
    /// Device finished a certificate refresh.
    FinishCertRefresh { serial: String },
    /// Device issued the public key of its next key slot.
    PublicKeyIssued { serial: String, keynum: i64, data: String },
    /// No-op action of the public server.
    PkeyIssued { serial: String },
    /// Operator sets a device's record.
    SetState { serial: String, record: DeviceRecord },
    /// Operator asks for every record (`serial` is the operator's own CN).
    GetAllState { serial: String },
    /// Server's answer to `bootup`.
    Ack { serial: String, record: DeviceRecord },
    /// Server's answer to `getallstate`: every record by serial (`defaultdevice` first).
    ResponseAllState { serial: String, devices: Vec<(String, DeviceRecord)> },
}

fn bad(detail: impl Into<String>) -> Error {
    Error::Protocol(detail.into())
}

fn string_field(object: &serde_json::Map<String, Value>, name: &str, max: usize) -> Result<String> {
    match object.get(name) {
        Some(Value::String(text)) if text.len() <= max => Ok(text.clone()),
        Some(Value::String(_)) => Err(bad(format!("`{name}` is longer than {max} bytes"))),
        Some(_) => Err(bad(format!("`{name}` must be a string"))),
        None => Err(bad(format!("`{name}` is missing"))),
    }
}

fn keynum_field(object: &serde_json::Map<String, Value>) -> Result<i64> {
    match object.get("keynum") {
        Some(Value::Number(n)) => n.as_i64().filter(|k| (0..=15).contains(k)).ok_or_else(|| bad("`keynum` must be a slot number 0..=15")),
        // The public PC client sends form values, which may be strings.
        Some(Value::String(text)) => text.parse().ok().filter(|k| (0..=15).contains(k)).ok_or_else(|| bad("`keynum` must be a slot number 0..=15")),
        Some(_) => Err(bad("`keynum` must be a number")),
        None => Ok(0),
    }
}

/// Check a serial or peer id: 1..=64 characters from `A-Z a-z 0-9 . _ -`.
pub fn check_serial(serial: &str) -> Result<()> {
    let ok = !serial.is_empty()
        && serial.len() <= MAX_SERIAL_LEN
        && serial.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && serial != "defaultdevice";
    if ok {
        Ok(())
    } else {
        Err(bad(format!("`serial` {:?} is not a device serial or peer id (1-{MAX_SERIAL_LEN} of A-Z a-z 0-9 . _ -)", truncate(serial))))
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

fn record(object: &serde_json::Map<String, Value>) -> Result<DeviceRecord> {
    let request = string_field(object, "request", 16)?;
    let state = string_field(object, "state", 16)?;
    if !REQUESTS.contains(&request.as_str()) {
        return Err(bad(format!("`request` {:?} is not one of {REQUESTS:?}", truncate(&request))));
    }
    if !STATES.contains(&state.as_str()) {
        return Err(bad(format!("`state` {:?} is not one of {STATES:?}", truncate(&state))));
    }
    Ok(DeviceRecord { request, data: string_field(object, "data", MAX_DATA_LEN)?, keynum: keynum_field(object)?, state })
}

impl Action {
    /// Decode one message (text or binary frame payload). Refuses anything that is not a JSON
    /// object with a known `action` and a valid `serial`, and anything over [`MAX_ACTION_BYTES`].
    pub fn decode(bytes: &[u8]) -> Result<Action> {
        if bytes.len() > MAX_ACTION_BYTES {
            return Err(bad(format!("message of {} bytes is over the {MAX_ACTION_BYTES}-byte limit", bytes.len())));
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("malformed JSON action: {e}")))?;
        let Value::Object(object) = value else {
            return Err(bad("malformed JSON action: not a JSON object"));
        };
        let action = string_field(&object, "action", 32)?;
        let serial = string_field(&object, "serial", MAX_SERIAL_LEN)?;
        check_serial(&serial)?;
        Ok(match action.as_str() {
            "bootup" => Action::Bootup { serial },
            "updatecompleted" => Action::UpdateCompleted { serial },
            "urlupdated" => Action::UrlUpdated { serial },
            "otaaccepted" => Action::OtaAccepted { serial },
            "finishcertrefresh" => Action::FinishCertRefresh { serial },
            "publickeyissued" => {
                Action::PublicKeyIssued { serial, keynum: keynum_field(&object)?, data: string_field(&object, "data", MAX_DATA_LEN)? }
            }
            "pkeyissued" => Action::PkeyIssued { serial },
            "setstate" => Action::SetState { serial, record: record(&object)? },
            "getallstate" => Action::GetAllState { serial },
            "ack" => Action::Ack { serial, record: record(&object)? },
            "responseallstate" => {
                let mut devices = Vec::new();
                for (key, value) in &object {
                    if key == "serial" || key == "action" {
                        continue;
                    }
                    let Value::Object(fields) = value else {
                        return Err(bad(format!("record {:?} is not an object", truncate(key))));
                    };
                    devices.push((key.clone(), record(fields)?));
                }
                Action::ResponseAllState { serial, devices }
            }
            other => return Err(bad(format!("unknown action {:?}", truncate(other)))),
        })
    }

    /// The `serial` member.
    pub fn serial(&self) -> &str {
        match self {
            Action::Bootup { serial }
            | Action::UpdateCompleted { serial }
            | Action::UrlUpdated { serial }
            | Action::OtaAccepted { serial }
            | Action::FinishCertRefresh { serial }
            | Action::PublicKeyIssued { serial, .. }
            | Action::PkeyIssued { serial }
            | Action::SetState { serial, .. }
            | Action::GetAllState { serial }
            | Action::Ack { serial, .. }
            | Action::ResponseAllState { serial, .. } => serial,
        }
    }

    /// The `action` member.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Bootup { .. } => "bootup",
            Action::UpdateCompleted { .. } => "updatecompleted",
            Action::UrlUpdated { .. } => "urlupdated",
            Action::OtaAccepted { .. } => "otaaccepted",
            Action::FinishCertRefresh { .. } => "finishcertrefresh",
            Action::PublicKeyIssued { .. } => "publickeyissued",
            Action::PkeyIssued { .. } => "pkeyissued",
            Action::SetState { .. } => "setstate",
            Action::GetAllState { .. } => "getallstate",
            Action::Ack { .. } => "ack",
            Action::ResponseAllState { .. } => "responseallstate",
        }
    }

    /// True for the actions a device sends about itself.
    pub fn is_from_device(&self) -> bool {
        matches!(
            self,
            Action::Bootup { .. }
                | Action::UpdateCompleted { .. }
                | Action::UrlUpdated { .. }
                | Action::OtaAccepted { .. }
                | Action::FinishCertRefresh { .. }
                | Action::PublicKeyIssued { .. }
                | Action::PkeyIssued { .. }
        )
    }

    /// Encode as compact JSON in the key order the public server and clients use.
    pub fn encode(&self) -> String {
        let s = |text: &str| serde_json::to_string(text).expect("strings encode");
        let fields = |record: &DeviceRecord| {
            format!("\"request\":{},\"data\":{},\"keynum\":{},\"state\":{}", s(&record.request), s(&record.data), record.keynum, s(&record.state))
        };
        match self {
            Action::Bootup { serial }
            | Action::UpdateCompleted { serial }
            | Action::UrlUpdated { serial }
            | Action::OtaAccepted { serial }
            | Action::FinishCertRefresh { serial }
            | Action::PkeyIssued { serial }
            | Action::GetAllState { serial } => format!("{{\"serial\":{},\"action\":\"{}\"}}", s(serial), self.name()),
            Action::PublicKeyIssued { serial, keynum, data } => {
                format!("{{\"serial\":{},\"keynum\":{keynum},\"data\":{},\"action\":\"publickeyissued\"}}", s(serial), s(data))
            }
            // The PC client: JSON.stringify({serial, request, data, keynum, state, action}).
            Action::SetState { serial, record } => format!("{{\"serial\":{},{},\"action\":\"setstate\"}}", s(serial), fields(record)),
            // The server: {serial, action:"ack", ...record}.
            Action::Ack { serial, record } => format!("{{\"serial\":{},\"action\":\"ack\",{}}}", s(serial), fields(record)),
            Action::ResponseAllState { serial, devices } => {
                let mut out = format!("{{\"serial\":{},\"action\":\"responseallstate\"", s(serial));
                for (key, record) in devices {
                    out += &format!(",{}:{{{}}}", s(key), fields(record));
                }
                out + "}"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_bootloaders_exact_texts() {
        let bootup = Action::decode(br#"{"serial": "0123c4d5e6f7a8b9ee", "action": "bootup"}"#).unwrap();
        assert_eq!(bootup, Action::Bootup { serial: "0123c4d5e6f7a8b9ee".into() });
        let pem = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n";
        let text = format!("{{\"serial\": \"0123c4d5e6f7a8b9ee\", \"keynum\": 1, \"data\": {}, \"action\": \"publickeyissued\"}}", serde_json::to_string(pem).unwrap());
        let issued = Action::decode(text.as_bytes()).unwrap();
        assert_eq!(issued, Action::PublicKeyIssued { serial: "0123c4d5e6f7a8b9ee".into(), keynum: 1, data: pem.into() });
        assert_eq!(issued.encode(), text.replace(": ", ":").replace(", ", ","));
    }

    #[test]
    fn encodes_as_the_public_server_and_pc_client_do() {
        let record = DeviceRecord { request: "ota".into(), data: "none".into(), keynum: 0, state: "onlineboot".into() };
        // JSON.stringify({serial, request, data, keynum, state, action: "setstate"})
        assert_eq!(
            Action::SetState { serial: "s1".into(), record: record.clone() }.encode(),
            r#"{"serial":"s1","request":"ota","data":"none","keynum":0,"state":"onlineboot","action":"setstate"}"#
        );
        let all = Action::ResponseAllState { serial: "op".into(), devices: vec![("defaultdevice".into(), DeviceRecord::default()), ("s1".into(), record)] };
        let text = all.encode();
        assert_eq!(
            text,
            r#"{"serial":"op","action":"responseallstate","defaultdevice":{"request":"none","data":"none","keynum":0,"state":"offlineboot"},"s1":{"request":"ota","data":"none","keynum":0,"state":"onlineboot"}}"#
        );
        assert_eq!(Action::decode(text.as_bytes()).unwrap(), all);
    }

    #[test]
    fn refuses_what_the_public_server_would_crash_on_or_misfile() {
        for (bytes, expect) in [
            (&b"null"[..], "not a JSON object"),
            (b"{\"action\":\"bootup\"}", "`serial` is missing"),
            (b"{\"serial\":5,\"action\":\"bootup\"}", "must be a string"),
            (b"{\"serial\":\"defaultdevice\",\"action\":\"bootup\"}", "not a device serial"),
            (b"{\"serial\":\"a/../b\",\"action\":\"bootup\"}", "not a device serial"),
            (b"{\"serial\":\"s\",\"action\":\"publickeyissued\",\"keynum\":99,\"data\":\"x\"}", "slot number"),
            (b"{\"serial\":\"s\",\"action\":\"setstate\",\"request\":\"ota\",\"data\":\"none\",\"state\":\"sideways\"}", "`state`"),
        ] {
            let error = Action::decode(bytes).unwrap_err().to_string();
            assert!(error.contains(expect), "{}: {error}", String::from_utf8_lossy(bytes));
        }
        let huge = format!("{{\"serial\":\"s\",\"action\":\"bootup\",\"pad\":\"{}\"}}", "x".repeat(MAX_ACTION_BYTES));
        assert!(Action::decode(huge.as_bytes()).unwrap_err().to_string().contains("limit"));
        // Form values arrive as strings from the public PC client.
        let set = br#"{"serial":"s","request":"cert","data":"none","keynum":"1","state":"onlineboot","action":"setstate"}"#;
        assert!(matches!(Action::decode(set).unwrap(), Action::SetState { record, .. } if record.keynum == 1));
    }
}
