//! `keyline ca ...`: certificate authorities.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use keyline_station::ca::{CreateCa, ImportCa, SecretPem, SignerFit, DEFAULT_CA_YEARS};
use keyline_station::Error;

use super::CliError;
use serde::Serialize;

use super::output::{details_text, emit, summary_text};
use super::{passphrase, CliResult, Context, Run};

/// Largest certificate or key file read by `ca import`.
const MAX_INPUT_BYTES: u64 = 256 * 1024;

/// CA commands.
#[derive(Subcommand)]
pub enum CaCommand {
    /// Create a root CA (ECDSA P-256), and a signer CA under it with --signer.
    Create {
        /// Name of the root CA (also its Common Name).
        #[arg(long)]
        name: String,
        /// Organization (O) of the certificates.
        #[arg(long)]
        org: String,
        /// Also create a signer CA with this name, signed by the root (pathlen 0).
        #[arg(long, value_name = "SIGNER_NAME")]
        signer: Option<String>,
        /// Validity in years.
        #[arg(long, default_value_t = DEFAULT_CA_YEARS)]
        years: u32,
        /// Make the signer fit this firmware profile's slots (rainbowtype, esp-cryptoauthlib,
        /// trustflex): serial, dates, 10-year validity and CN as its cert_chain.c rebuilds them.
        #[arg(long, value_name = "PROFILE", requires = "signer")]
        profile: Option<String>,
        /// The signer's Common Name (default: the signer name; for trustflex followed by four hex
        /// digits, the signer ID). For trustflex it must end in four hex digits.
        #[arg(long, value_name = "CN", requires = "profile")]
        signer_cn: Option<String>,
    },
    /// Import an existing CA certificate and its private key (SEC1 or PKCS#8, plain or encrypted).
    Import {
        /// Name in the store.
        #[arg(long)]
        name: String,
        /// CA certificate (PEM).
        #[arg(long, value_name = "FILE")]
        cert: PathBuf,
        /// Private key (PEM).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// List the CAs.
    List,
    /// Show one CA in detail.
    Show {
        /// CA name.
        name: String,
    },
    /// Print (or write) the CA certificate chain as PEM, up to the root.
    Export {
        /// CA name.
        name: String,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Check the passphrase of a CA; with --remember store it in the OS keyring.
    Unlock {
        /// CA name.
        name: String,
        /// Remember the passphrase in the OS keyring.
        #[arg(long)]
        remember: bool,
    },
    /// Remove a CA's passphrase from the OS keyring.
    Forget {
        /// CA name.
        name: String,
    },
    /// Say whether the OS keyring can remember passphrases here.
    Keyring,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Exported {
    name: String,
    path: Option<PathBuf>,
    pem: String,
}

impl Run for CaCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let station = ctx.station()?;
        match self {
            CaCommand::Create { name, org, signer, years, profile, signer_cn } => {
                let passphrase = passphrase::for_new_ca(&format!("CA \"{name}\""))?;
                let fit = profile.map(|profile| SignerFit { profile, signer_cn });
                let created = station.create_ca_fitting(CreateCa { name, org, signer, years }, fit.as_ref(), &passphrase, &mut |_| {})?;
                emit(ctx.json, &created, || created.iter().map(summary_text).collect::<Vec<_>>().join("\n"));
            }
            CaCommand::Import { name, cert, key } => {
                let cert_pem = read_text(&cert)?;
                let key_pem = read_secret_text(&key)?;
                let key_passphrase = if key_pem.expose().contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
                    Some(passphrase::for_import_key(&key.display().to_string())?)
                } else {
                    None
                };
                let store_passphrase = passphrase::for_new_ca(&format!("CA \"{name}\""))?;
                let request = ImportCa { name, cert_pem, key_pem, key_passphrase };
                let imported = station.import_ca(request, &store_passphrase)?;
                emit(ctx.json, &imported, || summary_text(&imported));
            }
            CaCommand::List => {
                let cas = station.list_cas()?;
                emit(ctx.json, &cas, || {
                    if cas.is_empty() {
                        format!("No CAs in {}. Create one with `keyline ca create`.\n", station.data_dir().display())
                    } else {
                        cas.iter().map(summary_text).collect::<Vec<_>>().join("\n")
                    }
                });
            }
            CaCommand::Show { name } => {
                let details = station.show_ca(&name)?;
                emit(ctx.json, &details, || details_text(&details));
            }
            CaCommand::Export { name, output } => {
                let pem = station.export_ca_pem(&name)?;
                if let Some(path) = &output {
                    write_replacing(path, pem.as_bytes())?;
                }
                let exported = Exported { name, path: output, pem };
                emit(ctx.json, &exported, || match &exported.path {
                    Some(path) => format!("Wrote the chain of \"{}\" to {}\n", exported.name, path.display()),
                    None => exported.pem.clone(),
                });
            }
            CaCommand::Unlock { name, remember } => {
                let passphrase = passphrase::for_existing_ca(&name)?;
                let summary = station.unlock_ca(&name, &passphrase, remember)?;
                emit(ctx.json, &summary, || {
                    if remember {
                        format!("The passphrase of \"{name}\" is correct and is now remembered in the OS keyring.\n")
                    } else {
                        format!("The passphrase of \"{name}\" is correct. Nothing is kept after this command; use --remember to store it in the OS keyring.\n")
                    }
                });
            }
            CaCommand::Forget { name } => {
                let summary = station.forget_passphrase(&name)?;
                emit(ctx.json, &summary, || format!("The OS keyring no longer holds the passphrase of \"{name}\".\n"));
            }
            CaCommand::Keyring => {
                let status = station.keyring_status();
                emit(ctx.json, &status, || {
                    if status.available {
                        format!("The OS keyring ({}) is available.\n", status.backend)
                    } else {
                        format!("The OS keyring ({}) is NOT available: {}\nPassphrases will be asked for (or read from KEYLINE_CA_PASSPHRASE).\n", status.backend, status.reason)
                    }
                });
            }
        }
        Ok(())
    }
}

/// Read a small text file given on the command line.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    let bytes = keyline_station::read_input_file(path, MAX_INPUT_BYTES)?.to_vec();
    String::from_utf8(bytes).map_err(|_| Error::CorruptPem { what: path.display().to_string(), detail: "not UTF-8 text".into() }.into())
}

/// Read a private-key file given on the command line into zeroizing memory.
fn read_secret_text(path: &Path) -> Result<SecretPem, CliError> {
    let bytes = keyline_station::read_input_file(path, MAX_INPUT_BYTES)?;
    SecretPem::from_utf8(bytes)
        .ok_or_else(|| Error::CorruptPem { what: path.display().to_string(), detail: "not UTF-8 text".into() }.into())
}

/// Write `contents` to `path` through a temp file in the same directory and a rename.
pub fn write_replacing(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io_error("cannot write in", dir, e))?;
    temp.write_all(contents).map_err(|e| io_error("cannot write", path, e))?;
    temp.persist(path).map_err(|e| io_error("cannot write", path, e.error))?;
    Ok(())
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> CliError {
    Error::Io { action, path: path.to_path_buf(), source }.into()
}
