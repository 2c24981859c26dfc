//! Where the CLI gets passphrases: the environment, then the OS keyring (existing CAs only),
//! then a terminal prompt; otherwise `passphrase_required` naming the environment variable.

use std::io::IsTerminal;

use super::CliError;

use keyline_station::{Error, ErrorCode, Passphrase, Station, CA_PASSPHRASE_ENV, IMPORT_PASSPHRASE_ENV};

fn from_env(var: &str) -> Option<Passphrase> {
    std::env::var(var).ok().filter(|value| !value.is_empty()).map(Passphrase::new)
}

fn prompt(label: &str) -> Option<Passphrase> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    rpassword::prompt_password(label).ok().map(Passphrase::new)
}

fn required(purpose: &str, env_var: &str) -> CliError {
    Error::PassphraseRequired { purpose: purpose.to_owned(), env_var: env_var.to_owned() }.into()
}

/// Passphrase for a new CA: `KEYLINE_CA_PASSPHRASE`, or typed twice at a prompt.
pub fn for_new_ca(purpose: &str) -> Result<Passphrase, CliError> {
    if let Some(passphrase) = from_env(CA_PASSPHRASE_ENV) {
        return Ok(passphrase);
    }
    let first = prompt(&format!("New passphrase for {purpose}: ")).ok_or_else(|| required(purpose, CA_PASSPHRASE_ENV))?;
    let second = prompt("Repeat the passphrase: ").ok_or_else(|| required(purpose, CA_PASSPHRASE_ENV))?;
    if first.expose() != second.expose() {
        return Err(Error::InvalidInput { what: "passphrase".into(), reason: "the two entries differ".into() }.into());
    }
    Ok(first)
}

/// Make CA `name` usable: `KEYLINE_CA_PASSPHRASE`, else the OS keyring, else a prompt.
/// Unlocks the CA in `station`.
pub fn unlock_existing(station: &Station, name: &str) -> Result<(), CliError> {
    if let Some(passphrase) = from_env(CA_PASSPHRASE_ENV) {
        station.unlock_ca(name, &passphrase, false)?;
        return Ok(());
    }
    match station.unlock_ca_from_keyring(name) {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        Err(error) if error.code() == ErrorCode::KeyringUnavailable => {
            eprintln!("warning: {error}; asking for the passphrase instead");
        }
        Err(error) => return Err(error.into()),
    }
    let purpose = format!("CA \"{name}\"");
    let passphrase =
        prompt(&format!("Passphrase for {purpose}: ")).ok_or_else(|| required(&purpose, CA_PASSPHRASE_ENV))?;
    station.unlock_ca(name, &passphrase, false)?;
    Ok(())
}

/// Passphrase to check (`ca unlock`): `KEYLINE_CA_PASSPHRASE`, else a prompt.
pub fn for_existing_ca(name: &str) -> Result<Passphrase, CliError> {
    let purpose = format!("CA \"{name}\"");
    from_env(CA_PASSPHRASE_ENV)
        .or_else(|| prompt(&format!("Passphrase for {purpose}: ")))
        .ok_or_else(|| required(&purpose, CA_PASSPHRASE_ENV))
}

/// Passphrase of an encrypted key being imported: `KEYLINE_IMPORT_PASSPHRASE`, else
/// `KEYLINE_CA_PASSPHRASE`, else a prompt.
pub fn for_import_key(path: &str) -> Result<Passphrase, CliError> {
    let purpose = format!("the encrypted key {path}");
    from_env(IMPORT_PASSPHRASE_ENV)
        .or_else(|| from_env(CA_PASSPHRASE_ENV))
        .or_else(|| prompt(&format!("Passphrase of {path}: ")))
        .ok_or_else(|| required(&purpose, IMPORT_PASSPHRASE_ENV))
}
