//! Serial ports a board can be on: the machine's real ports (ESP32 USB bridges named by VID:PID) merged with the
//! simulated boards that a running simulator lists in `<data_dir>/sim/boards.json`.
//!
//! The list file is untrusted input: it is read bounded and parsed strictly, entries whose pseudo-terminal is
//! gone are dropped (a simulator that was killed leaves a stale file), and a corrupt file never hides the real
//! ports: it is skipped with a warning that says what to do.

use std::path::{Path, PathBuf};

use keyline_board::ResetStrategy;
use serde::{Deserialize, Serialize};

/// Where a simulator publishes its boards, relative to the data directory.
pub const SIM_BOARDS_FILE: &str = "sim/boards.json";
/// Largest `boards.json` accepted (64 boards need about 10 KiB).
const MAX_LIST_BYTES: u64 = 64 * 1024;
/// Most simulated boards one list may hold (the simulator's own limit).
const MAX_SIM_BOARDS: usize = 64;
/// Firmwares a simulated board can run.
const SIM_FIRMWARES: [&str; 3] = ["rainbowtype", "esp-helper", "rom"];

/// What kind of port this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PortKind {
    /// A simulated board on a pseudo-terminal (practice mode, tests).
    Simulated,
    /// A USB serial adapter (VID:PID known).
    Usb,
    /// A PCI serial card.
    Pci,
    /// A Bluetooth serial link.
    Bluetooth,
    /// A built-in or unidentified UART.
    Other,
}

/// One port, as the port list and `keyline ports` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortInfo {
    /// What to open, e.g. `/dev/ttyUSB0` or `/dev/pts/7`.
    pub path: String,
    /// A human name: "Simulated board 1", "Silicon Labs CP210x (ESP32 bridge)", …
    pub label: String,
    /// The kind of port.
    pub kind: PortKind,
    /// True for simulated boards and for USB bridges that ESP32 boards use.
    pub likely_esp32: bool,
    /// USB vendor and product id as `10c4:ea60` (USB ports only).
    pub usb_id: Option<String>,
    /// USB serial number, manufacturer and product strings as the adapter reports them.
    pub serial_number: Option<String>,
    /// USB manufacturer string.
    pub manufacturer: Option<String>,
    /// USB product string.
    pub product: Option<String>,
    /// The firmware a simulated board runs (`rainbowtype`, `esp-helper`, `rom`).
    pub firmware: Option<String>,
    /// A simulated board's reset FIFO (docs/sim.md), through which the station resets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<PathBuf>,
}

impl PortInfo {
    /// How the station resets the board on this port after opening it: a simulated board's FIFO,
    /// the USB-Serial-JTAG sequence, the classic DTR/RTS sequence on a USB bridge, else none.
    pub fn reset_strategy(&self) -> ResetStrategy {
        ResetStrategy::for_port(self.usb_id.as_deref(), self.reset.as_deref())
    }
}

/// The reset strategy for the port at `path`, as the port list under `data_dir` describes it
/// ([`ResetStrategy::None`] for a port the list does not show, e.g. one that just vanished).
pub fn reset_strategy_for(data_dir: &Path, path: &str) -> ResetStrategy {
    let real = serialport::available_ports().map(|ports| ports.into_iter().map(real_port).collect()).unwrap_or_default();
    merge(data_dir, real).ports.iter().find(|port| port.path == path).map(PortInfo::reset_strategy).unwrap_or(ResetStrategy::None)
}

/// The merged list and anything that was skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortList {
    /// Simulated boards first (in board order), then ESP32 bridges, then other ports by path.
    pub ports: Vec<PortInfo>,
    /// Why something was left out (a corrupt simulator list), with what to do.
    pub warnings: Vec<String>,
}

/// Why the ports cannot be listed.
#[derive(Debug, thiserror::Error)]
pub enum PortsError {
    /// The operating system's port enumeration failed.
    #[error("cannot enumerate the serial ports: {0}; check that /sys/class/tty (Linux) is readable")]
    Enumerate(String),
    /// `boards.json` could not be read or is not a simulator's board list.
    #[error("{path} is not a valid simulated-board list ({reason}); stop and restart the simulator, or delete the file")]
    BadSimList {
        /// The list file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl PortsError {
    /// Stable machine-readable code.
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            PortsError::Enumerate(_) => crate::ErrorCode::PortsUnavailable,
            PortsError::BadSimList { .. } => crate::ErrorCode::BadSimList,
        }
    }

    /// What to do next.
    pub fn hint(&self) -> &'static str {
        match self {
            PortsError::Enumerate(_) => "Run the station on a machine whose serial ports are visible.",
            PortsError::BadSimList { .. } => "Restart `keyline sim` (or practice mode), or delete the file.",
        }
    }
}

/// One entry of `boards.json`, exactly as the simulator writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SimEntry {
    index: usize,
    label: String,
    path: PathBuf,
    firmware: String,
    /// The board's reset FIFO (docs/sim.md).
    #[serde(default)]
    reset: Option<PathBuf>,
}

/// Real ports plus the simulated boards listed under `data_dir`. A corrupt list becomes a warning.
pub fn list_ports(data_dir: &Path) -> Result<PortList, PortsError> {
    let real = serialport::available_ports().map_err(|e| PortsError::Enumerate(e.to_string()))?;
    Ok(merge(data_dir, real.into_iter().map(real_port).collect()))
}

/// The simulated boards under `data_dir` followed by `real` ports, sorted for display.
pub fn merge(data_dir: &Path, mut real: Vec<PortInfo>) -> PortList {
    let mut list = PortList::default();
    match simulated_ports(&data_dir.join(SIM_BOARDS_FILE)) {
        Ok(simulated) => list.ports = simulated,
        Err(error) => {
            tracing::warn!(%error, "simulated boards skipped");
            list.warnings.push(error.to_string());
        }
    }
    real.sort_by(|a, b| (!a.likely_esp32, &a.path).cmp(&(!b.likely_esp32, &b.path)));
    real.retain(|port| !list.ports.iter().any(|sim| sim.path == port.path));
    list.ports.extend(real);
    list
}

/// The live entries of a simulator's `boards.json` (none when the file does not exist).
pub fn simulated_ports(list_file: &Path) -> Result<Vec<PortInfo>, PortsError> {
    let bad = |reason: String| PortsError::BadSimList { path: list_file.to_path_buf(), reason };
    let bytes = match read_list(list_file) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(Vec::new()),
        Err(reason) => return Err(bad(reason)),
    };
    let entries: Vec<SimEntry> = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if entries.len() > MAX_SIM_BOARDS {
        return Err(bad(format!("{} boards listed, at most {MAX_SIM_BOARDS} exist", entries.len())));
    }
    let mut ports = Vec::with_capacity(entries.len());
    for entry in entries {
        validate(&entry).map_err(bad)?;
        if !is_live_terminal(&entry.path) {
            tracing::debug!(path = %entry.path.display(), "stale simulated board skipped (its pseudo-terminal is gone)");
            continue;
        }
        ports.push(PortInfo {
            path: entry.path.display().to_string(),
            label: format!("Simulated board {}", entry.index + 1),
            kind: PortKind::Simulated,
            likely_esp32: true,
            usb_id: None,
            serial_number: None,
            manufacturer: None,
            product: None,
            firmware: Some(entry.firmware),
            reset: entry.reset,
        });
    }
    ports.sort_by_key(|port| port.label.trim_start_matches("Simulated board ").parse::<usize>().unwrap_or(usize::MAX));
    Ok(ports)
}

/// The file's bytes, `None` when it does not exist, or why it cannot be used.
fn read_list(path: &Path) -> Result<Option<Vec<u8>>, String> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.to_string()),
    };
    let mut bytes = Vec::new();
    file.take(MAX_LIST_BYTES + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_LIST_BYTES {
        return Err(format!("larger than {MAX_LIST_BYTES} bytes"));
    }
    Ok(Some(bytes))
}

fn validate(entry: &SimEntry) -> Result<(), String> {
    if entry.index >= MAX_SIM_BOARDS {
        return Err(format!("board index {} is out of range", entry.index));
    }
    if entry.label != format!("Simulated board {}", entry.index + 1) {
        return Err(format!("board {} is labelled {:?}", entry.index, truncate(&entry.label)));
    }
    if !SIM_FIRMWARES.contains(&entry.firmware.as_str()) {
        return Err(format!("unknown firmware {:?}", truncate(&entry.firmware)));
    }
    let path = entry.path.to_string_lossy();
    if !entry.path.starts_with("/dev/") || path.len() > 64 || path.contains("..") {
        return Err(format!("{:?} is not a terminal device path", truncate(&path)));
    }
    if let Some(fifo) = &entry.reset {
        let text = fifo.to_string_lossy();
        if !fifo.is_absolute() || text.len() > 4096 || text.contains("..") {
            return Err(format!("{:?} is not a reset FIFO path", truncate(&text)));
        }
    }
    Ok(())
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// True when `path` still is a character device (a pty that closed is removed from /dev/pts).
fn is_live_terminal(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(path).is_ok_and(|meta| meta.file_type().is_char_device())
    }
    #[cfg(not(unix))]
    {
        path.exists()
    }
}

/// A friendly name for USB serial bridges used on ESP32 boards (stack-notes §6), if known.
pub fn esp32_bridge_name(vid: u16, pid: u16) -> Option<&'static str> {
    Some(match (vid, pid) {
        (0x10c4, 0xea60) => "Silicon Labs CP210x (ESP32 bridge)",
        (0x1a86, 0x7523) => "WCH CH340 (ESP32 bridge)",
        (0x1a86, 0x55d4) => "WCH CH343/CH9102 (ESP32 bridge)",
        (0x303a, 0x1001) => "Espressif USB-Serial/JTAG (built-in)",
        (0x303a, 0x1002) => "Espressif USB bridge",
        (0x0403, _) => "FTDI USB serial (ESP32 bridge)",
        _ => return None,
    })
}

fn real_port(info: serialport::SerialPortInfo) -> PortInfo {
    let mut port = PortInfo {
        label: info.port_name.clone(),
        path: info.port_name,
        kind: PortKind::Other,
        likely_esp32: false,
        usb_id: None,
        serial_number: None,
        manufacturer: None,
        product: None,
        firmware: None,
        reset: None,
    };
    match info.port_type {
        serialport::SerialPortType::UsbPort(usb) => {
            port.kind = PortKind::Usb;
            port.usb_id = Some(format!("{:04x}:{:04x}", usb.vid, usb.pid));
            let bridge = esp32_bridge_name(usb.vid, usb.pid);
            port.likely_esp32 = bridge.is_some();
            port.label = bridge
                .map(str::to_string)
                .or_else(|| usb.product.clone())
                .unwrap_or_else(|| format!("USB serial {:04x}:{:04x}", usb.vid, usb.pid));
            port.serial_number = usb.serial_number;
            port.manufacturer = usb.manufacturer;
            port.product = usb.product;
        }
        serialport::SerialPortType::PciPort => {
            port.kind = PortKind::Pci;
            port.label = "PCI serial port".into();
        }
        serialport::SerialPortType::BluetoothPort => {
            port.kind = PortKind::Bluetooth;
            port.label = "Bluetooth serial link".into();
        }
        serialport::SerialPortType::Unknown => port.label = "Serial port".into(),
    }
    port
}

#[cfg(test)]
mod tests;
