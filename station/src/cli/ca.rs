//! `keyline ca ...`: certificate authorities.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use keyline_station::ca::{CreateCa, ImportCa, ImportTokenCa, NewKeyCustody, SecretPem, SignerFit, DEFAULT_CA_YEARS};
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
        /// Generate the keys inside this PKCS#11 token's module (library path); they never leave the token.
        /// The PIN comes from KEYLINE_TOKEN_PIN or a prompt.
        #[arg(long, value_name = "PATH", requires = "token", conflicts_with = "separate_root_passphrase")]
        pkcs11_module: Option<PathBuf>,
        /// Label of the token (with --pkcs11-module).
        #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
        token: Option<String>,
        /// Encrypt the root key under its own passphrase (KEYLINE_ROOT_PASSPHRASE or a prompt), so the line only
        /// ever holds the signer's; see `ca offline-root`.
        #[arg(long, requires = "signer")]
        separate_root_passphrase: bool,
    },
    /// Import an existing CA certificate and its private key (SEC1 or PKCS#8, plain or encrypted), or adopt a
    /// key in a PKCS#11 token by its label.
    Import {
        /// Name in the store.
        #[arg(long)]
        name: String,
        /// CA certificate (PEM). With a token it may be left out when the token holds it under the key's label.
        #[arg(long, value_name = "FILE", required_unless_present = "pkcs11_module")]
        cert: Option<PathBuf>,
        /// Private key (PEM).
        #[arg(long, value_name = "FILE", required_unless_present = "pkcs11_module", conflicts_with = "pkcs11_module")]
        key: Option<PathBuf>,
        /// Adopt a key held by this PKCS#11 module's token instead of a key file.
        #[arg(long, value_name = "PATH", requires_all = ["token", "key_label"])]
        pkcs11_module: Option<PathBuf>,
        /// Label of the token (with --pkcs11-module).
        #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
        token: Option<String>,
        /// Label of the key in the token (with --pkcs11-module).
        #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
        key_label: Option<String>,
    },
    /// Issue a new signer CA under an existing root (the only operation that needs the root key).
    CreateSigner {
        /// The root CA that signs it.
        #[arg(long)]
        root: String,
        /// Name of the new signer CA.
        #[arg(long)]
        name: String,
        /// Validity in years (cut to the root's).
        #[arg(long, default_value_t = DEFAULT_CA_YEARS)]
        years: u32,
    },
    /// Export a root CA's key (encrypted PKCS#8 under the root's passphrase) and remove it from this station.
    OfflineRoot {
        /// Root CA name.
        name: String,
        /// Where to write the key (a new file; keep it offline).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Change a CA's passphrase (the old one from KEYLINE_CA_PASSPHRASE, the keyring or a prompt; the new one from
    /// KEYLINE_NEW_CA_PASSPHRASE or a prompt); the key is re-encrypted with today's parameters.
    Passwd {
        /// CA name.
        name: String,
    },
    /// Bring an offline root's key back (to issue a new signer); take it offline again afterwards.
    RestoreRoot {
        /// Root CA name.
        name: String,
        /// The key file `ca offline-root` wrote.
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
            CaCommand::Create { name, org, signer, years, profile, signer_cn, pkcs11_module, token, separate_root_passphrase } => {
                let fit = profile.map(|profile| SignerFit { profile, signer_cn });
                let request = CreateCa { name, org, signer, years };
                let created = match (pkcs11_module, token) {
                    (Some(module), Some(token)) => {
                        let pin = passphrase::token_pin(&token)?;
                        station.create_ca_in(request, fit.as_ref(), &NewKeyCustody::Token { module, token, pin: &pin }, &mut |_| {})?
                    }
                    _ => {
                        let passphrase = passphrase::for_new_ca(&format!("CA \"{}\"", request.signer.as_deref().unwrap_or(&request.name)))?;
                        let root_passphrase =
                            separate_root_passphrase.then(|| passphrase::for_new_root(&request.name)).transpose()?;
                        let custody = NewKeyCustody::Files { passphrase: &passphrase, root_passphrase: root_passphrase.as_ref() };
                        station.create_ca_in(request, fit.as_ref(), &custody, &mut |_| {})?
                    }
                };
                emit(ctx.json, &created, || created.iter().map(summary_text).collect::<Vec<_>>().join("\n"));
            }
            CaCommand::Import { name, cert, key: None, pkcs11_module: Some(module), token: Some(token), key_label: Some(key_label) } => {
                let cert_pem = cert.as_deref().map(read_text).transpose()?;
                let pin = passphrase::token_pin(&token)?;
                let imported = station.import_token_ca(ImportTokenCa { name, module, token, key_label, cert_pem }, &pin)?;
                emit(ctx.json, &imported, || summary_text(&imported));
            }
            CaCommand::CreateSigner { root, name, years } => return super::ca_custody::create_signer(ctx, &station, &root, &name, years),
            CaCommand::OfflineRoot { name, output } => return super::ca_custody::offline_root(ctx, &station, &name, &output),
            CaCommand::RestoreRoot { name, key } => return super::ca_custody::restore_root(ctx, &station, &name, &key),
            CaCommand::Passwd { name } => return super::ca_custody::change_passphrase(ctx, &station, &name),
            CaCommand::Import { name, cert, key, .. } => {
                let (Some(cert), Some(key)) = (cert, key) else {
                    return Err(Error::InvalidInput { what: "ca import".into(), reason: "give --cert and --key, or --pkcs11-module, --token and --key-label".into() }.into());
                };
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
                let passphrase = passphrase::for_existing_ca(&station, &name)?;
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
pub fn read_secret_text(path: &Path) -> Result<SecretPem, CliError> {
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
