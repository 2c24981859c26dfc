//! `keyline cert sign`: a device certificate that fits a firmware profile, from a CSR or a public key.

use std::path::{Path, PathBuf};

use clap::Args;
use keyline_station::issuance::SignDeviceRequest;
use keyline_station::ledger::Recorded;
use keyline_station::{Error, Station};

use super::output::emit;
use super::{passphrase, CliResult, Context};

/// Largest CSR or key file read.
const MAX_INPUT_BYTES: u64 = 16 * 1024;

/// Arguments of `keyline cert sign`.
#[derive(Args)]
pub struct SignArgs {
    /// Signer CA that issues the certificate.
    #[arg(long)]
    pub ca: String,
    /// PKCS#10 request from the device (PEM or DER); its signature is checked.
    #[arg(long, value_name = "FILE", conflicts_with = "pubkey", required_unless_present = "pubkey")]
    pub csr: Option<PathBuf>,
    /// Device public key instead of a CSR (PEM/DER SubjectPublicKeyInfo, or X‖Y hex).
    #[arg(long, value_name = "FILE")]
    pub pubkey: Option<PathBuf>,
    /// Firmware profile: rainbowtype, esp-cryptoauthlib or trustflex.
    #[arg(long)]
    pub profile: String,
    /// Chip serial number, 18 hex digits (default: the CSR's CN).
    #[arg(long, value_name = "HEX18")]
    pub serial: Option<String>,
    /// Write the certificate PEM here (default: print it).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, Error> {
    Ok(keyline_station::read_input_file(path, MAX_INPUT_BYTES)?.to_vec())
}

/// Runs `keyline cert sign`.
pub fn run(args: SignArgs, ctx: &Context, station: &Station) -> CliResult {
    let request = SignDeviceRequest {
        ca: args.ca.clone(),
        profile: args.profile.clone(),
        csr: args.csr.as_deref().map(read_bounded).transpose()?,
        public_key: args.pubkey.as_deref().map(read_bounded).transpose()?,
        serial_hex: args.serial.clone(),
    };
    passphrase::unlock_existing(station, &args.ca)?;
    let cert = station.sign_device_cert_to(&request, args.output.as_deref())?;
    emit(ctx.json, &cert, || {
        let mut text = format!(
            "Device certificate for {} ({} profile)\n  serial:   {}\n  valid:    {} to {}\n  slot 10:  {}\n  cert id:  {}\n  ledger:   {}\n",
            cert.common_name,
            cert.profile,
            cert.serial_number,
            cert.not_before,
            cert.not_after,
            cert.compressed_hex,
            cert.certificate_id,
            ledger_note(&cert.ledger, cert.device_serial.as_str())
        );
        match &args.output {
            Some(path) => text.push_str(&format!("  written:  {}\n", path.display())),
            None => text.push_str(&cert.pem),
        }
        text
    });
    Ok(())
}

/// One line on what the ledger recorded.
fn ledger_note(recorded: &Recorded, serial: &str) -> String {
    match recorded {
        Recorded::New => format!("recorded device {serial}"),
        Recorded::Replaced { previous_cert_id } => format!("device {serial} now has this certificate (replaces {previous_cert_id})"),
        Recorded::Unchanged => format!("device {serial} already had this certificate"),
    }
}
