//! `keyline ota ...`: inspect and sign firmware images, the signing key, and OTA through a
//! rainbowtype device-management server (embedded or remote).

use std::path::PathBuf;

use clap::Subcommand;
use keyline_station::ota::{self, PushEvent, ServeOptions, TlsCertFiles, TlsCertKind, TlsFiles};
use keyline_station::Station;

use super::output::emit;
use super::{passphrase, CliResult, Context, Run};

/// OTA commands.
#[derive(Subcommand)]
pub enum OtaCommand {
    /// Validate an ESP32 app image and print its header, descriptor and signature.
    Inspect {
        /// The image (`firmware.bin`), signed or not.
        image: PathBuf,
    },
    /// The Secure Boot v2 signing key (RSA-3072, stored encrypted).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Run the embedded device-management server (rainbowtype protocol) until Ctrl-C.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:3000 (port 0 picks a free port).
        #[arg(long, default_value = "0.0.0.0:3000")]
        listen: std::net::SocketAddr,
        /// Server certificate prefix from `keyline cert server` (PREFIX.chain, PREFIX.key), or
        /// `auto` to issue one from --ca at start for the --host names.
        #[arg(long, value_name = "PREFIX|auto")]
        cert: PathBuf,
        /// Project CA whose chain every peer's client certificate must chain to (and that issues `--cert auto`).
        #[arg(long)]
        ca: String,
        /// With `--cert auto`: host names / IPs for the certificate (default: the listen IP, localhost, 127.0.0.1).
        #[arg(long = "host", value_name = "NAME_OR_IP")]
        hosts: Vec<String>,
        /// Largest image accepted, in bytes.
        #[arg(long, default_value_t = ota::DEFAULT_MAX_UPLOAD)]
        max_upload: usize,
    },
    /// Upload an image for a device, request OTA and follow it until the device reports updatecompleted.
    Push {
        /// Server URL, e.g. https://192.168.1.10:3000.
        #[arg(long)]
        server: String,
        /// Device serial (18 lowercase hex digits).
        #[arg(long)]
        device: String,
        /// Client certificate prefix from `keyline cert client` (PREFIX.chain, PREFIX.key).
        #[arg(long, value_name = "PREFIX")]
        cert: PathBuf,
        /// Project CA that issued the server certificate.
        #[arg(long)]
        ca: String,
        /// Sign the image with this Secure Boot v2 key before uploading.
        #[arg(long, value_name = "KEY")]
        sign: Option<PathBuf>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// The image.
        image: PathBuf,
    },
    /// List the devices a server knows, with their request and state.
    Devices {
        /// Server URL, e.g. https://192.168.1.10:3000.
        #[arg(long)]
        server: String,
        /// Client certificate prefix from `keyline cert client`.
        #[arg(long, value_name = "PREFIX")]
        cert: PathBuf,
        /// Project CA that issued the server certificate.
        #[arg(long)]
        ca: String,
    },
    /// Sign an image for Secure Boot v2 (RSA-PSS signature sector, as `espsecure sign_data --version 2`).
    Sign {
        /// The encrypted signing key.
        #[arg(long)]
        key: PathBuf,
        /// The image to sign.
        image: PathBuf,
        /// The signed image to write.
        #[arg(short = 'o', long, value_name = "OUT")]
        output: PathBuf,
    },
}

/// Signing-key commands.
#[derive(Subcommand)]
pub enum KeyCommand {
    /// Generate an RSA-3072 signing key, written as encrypted PKCS#8 (passphrase: KEYLINE_CA_PASSPHRASE or a prompt).
    Create {
        /// Key file to create (never overwritten).
        #[arg(short = 'o', long, value_name = "KEY")]
        output: PathBuf,
    },
    /// Write the public key as PEM (for espsecure, the bootloader build and devices).
    ExportPublic {
        /// The encrypted signing key.
        #[arg(long)]
        key: PathBuf,
        /// Public key file to create.
        #[arg(short = 'o', long, value_name = "PUB.pem")]
        output: PathBuf,
    },
}

impl Run for OtaCommand {
    fn run(self, ctx: &Context) -> CliResult {
        match self {
            OtaCommand::Inspect { image } => {
                let report = ota::inspect_image(&image)?;
                emit(ctx.json, &report, || inspect_text(&report));
            }
            OtaCommand::Key(KeyCommand::Create { output }) => {
                let passphrase = passphrase::for_new_ca("the OTA signing key")?;
                let created = ota::create_signing_key(&output, &passphrase)?;
                emit(ctx.json, &created, || {
                    format!("Signing key (RSA-3072, encrypted) written to {}\nKey digest (eFuse): {}\n", created.key_path.display(), created.key_digest)
                });
            }
            OtaCommand::Key(KeyCommand::ExportPublic { key, output }) => {
                let passphrase = passphrase::for_import_key(&key.display().to_string())?;
                let path = ota::export_signing_public_key(&key, Some(&passphrase), &output)?;
                emit(ctx.json, &serde_json::json!({ "publicKeyPath": path }), || format!("Public key written to {}\n", path.display()));
            }
            OtaCommand::Serve { listen, cert, ca, hosts, max_upload } => {
                let station = ctx.station()?;
                let identity = if cert.as_os_str() == "auto" {
                    passphrase::unlock_existing(&station, &ca)?;
                    station.ephemeral_server_identity(&ca, &auto_hosts(listen, hosts))?
                } else {
                    let passphrase = passphrase::for_import_key(&cert.display().to_string())?;
                    TlsFiles::from_prefix(&cert).identity(Some(&passphrase))?
                };
                let options = ServeOptions { listen, identity: std::sync::Arc::new(identity), ca, max_upload };
                let json = ctx.json;
                station.serve_ota(
                    &options,
                    |address| {
                        use std::io::Write;
                        if json {
                            println!("{}", serde_json::json!({ "listening": address.to_string() }));
                        } else {
                            println!("listening on {address}");
                        }
                        let _ = std::io::stdout().flush();
                    },
                    ota::ctrl_c(),
                )?;
            }
            OtaCommand::Push { server, device, cert, ca, sign, timeout, image } => {
                let station = ctx.station()?;
                let passphrase = passphrase::for_import_key(&cert.display().to_string())?;
                let client = station.ota_client(&server, &TlsFiles::from_prefix(&cert), Some(&passphrase), &ca)?;
                let sign_passphrase = match &sign {
                    Some(key) => Some(passphrase::for_import_key(&key.display().to_string())?),
                    None => None,
                };
                let json = ctx.json;
                let events = std::sync::Arc::new(move |event: PushEvent| print_event(json, &event));
                let report = client.push(&device, &image, sign.as_deref().map(|k| (k, sign_passphrase.as_ref())), std::time::Duration::from_secs(timeout), events, &keyline_station::provision::CancelToken::new())?;
                emit(ctx.json, &report, || format!("Device {} updated: {} bytes, SHA-256 {}\n", report.serial, report.bytes, report.sha256));
            }
            OtaCommand::Devices { server, cert, ca } => {
                let station = ctx.station()?;
                let passphrase = passphrase::for_import_key(&cert.display().to_string())?;
                let client = station.ota_client(&server, &TlsFiles::from_prefix(&cert), Some(&passphrase), &ca)?;
                let devices = client.devices(std::time::Duration::from_secs(30))?;
                emit(ctx.json, &devices, || {
                    let mut out = format!("{:<20} {:<11} {:<16} {}\n", "SERIAL", "REQUEST", "STATE", "KEYNUM");
                    for d in &devices {
                        out += &format!("{:<20} {:<11} {:<16} {}\n", d.serial, d.record.request, d.record.state, d.record.keynum);
                    }
                    out
                });
            }
            OtaCommand::Sign { key, image, output } => {
                let passphrase = passphrase::for_import_key(&key.display().to_string())?;
                let signed = ota::sign_image(&key, Some(&passphrase), &image, &output)?;
                emit(ctx.json, &signed, || {
                    format!("Signed image written to {} ({} bytes)\nSHA-256: {}\nKey digest (eFuse): {}\n", signed.out.display(), signed.size, signed.sha256, signed.key_digest)
                });
            }
        }
        Ok(())
    }
}

/// Hosts for `--cert auto`: the given ones, else the listen IP (when specific), localhost and 127.0.0.1.
fn auto_hosts(listen: std::net::SocketAddr, hosts: Vec<String>) -> Vec<String> {
    if !hosts.is_empty() {
        return hosts;
    }
    let mut out = Vec::new();
    if !listen.ip().is_unspecified() {
        out.push(listen.ip().to_string());
    }
    for host in ["localhost", "127.0.0.1"] {
        if !out.iter().any(|h| h == host) {
            out.push(host.to_owned());
        }
    }
    out
}

/// One push step: a JSON line with `--json`, else a text line (upload progress every 64 KiB).
fn print_event(json: bool, event: &PushEvent) {
    use std::io::Write;
    if let PushEvent::Uploading { sent, total } = event {
        if sent != total && sent / 65536 == (sent.saturating_sub(1)) / 65536 {
            return;
        }
    }
    if json {
        println!("{}", serde_json::json!({ "progress": event }));
    } else {
        match event {
            PushEvent::Uploading { sent, total } => println!("uploading {sent}/{total} bytes"),
            PushEvent::Uploaded => println!("uploaded"),
            PushEvent::Requested => println!("OTA requested; waiting for the device to boot and accept"),
            PushEvent::Accepted => println!("device accepted; downloading"),
            PushEvent::Completed => println!("device reported updatecompleted"),
        }
    }
    let _ = std::io::stdout().flush();
}

fn inspect_text(report: &ota::ImageReport) -> String {
    let image = &report.image;
    let mut out = format!(
        "{}: ESP32 app image, chip {} (id {}), entry 0x{:08x}, {} segments, {} bytes\n",
        report.path.display(),
        image.chip,
        image.chip_id,
        image.entry,
        image.segments.len(),
        image.file_len
    );
    for (index, segment) in image.segments.iter().enumerate() {
        out += &format!("  segment {index}: load 0x{:08x}, {} bytes at file offset 0x{:x}\n", segment.load_addr, segment.len, segment.file_offset);
    }
    out += &format!("Checksum: 0x{:02x} (valid)\n", image.checksum);
    if let Some(sha) = &image.sha256 {
        out += &format!("Appended SHA-256: {sha} (valid)\n");
    }
    match &image.app_desc {
        Some(desc) => {
            out += &format!(
                "Project: {}\nVersion: {}\nIDF version: {}\nBuilt: {} {}\nSecure version: {}\n",
                desc.project_name, desc.version, desc.idf_version, desc.date, desc.time, desc.secure_version
            )
        }
        None => out += "No app descriptor (not an ESP-IDF application)\n",
    }
    match (&image.signature, report.signature_valid) {
        (Some(sector), Some(valid)) => {
            out += &format!(
                "Secure Boot v2 signature: {} block(s), key digest {}, {}\n",
                sector.blocks.len(),
                sector.blocks[0].key_digest,
                if valid { "verifies".to_owned() } else { format!("DOES NOT VERIFY: {}", report.signature_error.clone().unwrap_or_default()) }
            )
        }
        _ => out += "Not signed\n",
    }
    out
}

/// `keyline cert server`.
#[derive(clap::Args)]
pub struct CertServerArgs {
    /// The CA that signs it (usually the signer CA).
    #[arg(long)]
    ca: String,
    /// Host name or IP address the devices and clients use (repeat for more).
    #[arg(long = "host", required = true, value_name = "NAME_OR_IP")]
    hosts: Vec<String>,
    /// Output prefix: PREFIX.key (encrypted under the CA passphrase), PREFIX.crt, PREFIX.chain.
    #[arg(short = 'o', long, value_name = "PREFIX")]
    output: PathBuf,
}

/// `keyline cert client`.
#[derive(clap::Args)]
pub struct CertClientArgs {
    /// The CA that signs it.
    #[arg(long)]
    ca: String,
    /// Common name: the peer id the server sees.
    #[arg(long)]
    name: String,
    /// Output prefix: PREFIX.key (encrypted under the CA passphrase), PREFIX.crt, PREFIX.chain.
    #[arg(short = 'o', long, value_name = "PREFIX")]
    output: PathBuf,
}

fn tls_cert(ca: &str, kind: TlsCertKind, output: &std::path::Path, ctx: &Context, station: &Station) -> CliResult {
    passphrase::unlock_existing(station, ca)?;
    let files: TlsCertFiles = station.make_tls_cert(ca, &kind, output)?;
    emit(ctx.json, &files, || {
        format!(
            "Certificate for CN={} written to {}\nChain: {}\nKey (encrypted under the passphrase of CA \"{ca}\"): {}\n",
            files.common_name,
            files.cert_path.display(),
            files.chain_path.display(),
            files.key_path.display()
        )
    });
    Ok(())
}

/// Run `keyline cert server`.
pub fn cert_server(args: CertServerArgs, ctx: &Context, station: &Station) -> CliResult {
    tls_cert(&args.ca, TlsCertKind::Server { hosts: args.hosts }, &args.output, ctx, station)
}

/// Run `keyline cert client`.
pub fn cert_client(args: CertClientArgs, ctx: &Context, station: &Station) -> CliResult {
    tls_cert(&args.ca, TlsCertKind::Client { name: args.name }, &args.output, ctx, station)
}
