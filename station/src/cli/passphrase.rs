//! Where the CLI gets passphrases: the environment, then the OS keyring (existing CAs only),
//! then a terminal prompt; otherwise `passphrase_required` naming the environment variable.

use std::io::IsTerminal;

use super::CliError;

use keyline_station::ca::{CaRole, KeyCustody};
use keyline_station::{Error, ErrorCode, Passphrase, Station, CA_PASSPHRASE_ENV, IMPORT_PASSPHRASE_ENV, ROOT_PASSPHRASE_ENV, TOKEN_PIN_ENV};

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

/// A new passphrase: from `env_var`, or typed twice at a prompt.
fn new_passphrase(purpose: &str, label: &str, env_var: &str) -> Result<Passphrase, CliError> {
    if let Some(passphrase) = from_env(env_var) {
        return Ok(passphrase);
    }
    let first = prompt(label).ok_or_else(|| required(purpose, env_var))?;
    let second = prompt("Repeat the passphrase: ").ok_or_else(|| required(purpose, env_var))?;
    if first.expose() != second.expose() {
        return Err(Error::InvalidInput { what: "passphrase".into(), reason: "the two entries differ".into() }.into());
    }
    Ok(first)
}

/// Passphrase for a new CA: `KEYLINE_CA_PASSPHRASE`, or typed twice at a prompt.
pub fn for_new_ca(purpose: &str) -> Result<Passphrase, CliError> {
    new_passphrase(purpose, &format!("New passphrase for {purpose}: "), CA_PASSPHRASE_ENV)
}

/// Where `keyline ca passwd` reads the new passphrase when it is not typed.
pub const NEW_CA_PASSPHRASE_ENV: &str = "KEYLINE_NEW_CA_PASSPHRASE";

/// The new passphrase of an existing CA: `KEYLINE_NEW_CA_PASSPHRASE`, or typed twice at a prompt.
pub fn for_changed_ca(name: &str) -> Result<Passphrase, CliError> {
    let purpose = format!("CA \"{name}\" (new)");
    new_passphrase(&purpose, &format!("New passphrase for CA \"{name}\": "), NEW_CA_PASSPHRASE_ENV)
}

/// The user PIN of PKCS#11 token `token`: `KEYLINE_TOKEN_PIN`, else a prompt. Never logged.
pub fn token_pin(token: &str) -> Result<Passphrase, CliError> {
    let purpose = format!("the PIN of token \"{token}\"");
    from_env(TOKEN_PIN_ENV)
        .or_else(|| prompt(&format!("PIN of token \"{token}\": ")))
        .ok_or_else(|| required(&purpose, TOKEN_PIN_ENV))
}

/// The root's own passphrase for a new root: `KEYLINE_ROOT_PASSPHRASE`, or typed twice at a prompt.
pub fn for_new_root(name: &str) -> Result<Passphrase, CliError> {
    let purpose = format!("root CA \"{name}\"");
    new_passphrase(&purpose, &format!("New passphrase for {purpose} (its own): "), ROOT_PASSPHRASE_ENV)
}

/// An existing root's passphrase: `KEYLINE_ROOT_PASSPHRASE`, else `KEYLINE_CA_PASSPHRASE`, else a prompt.
pub fn for_root(name: &str) -> Result<Passphrase, CliError> {
    let purpose = format!("root CA \"{name}\"");
    from_env(ROOT_PASSPHRASE_ENV)
        .or_else(|| from_env(CA_PASSPHRASE_ENV))
        .or_else(|| prompt(&format!("Passphrase for {purpose}: ")))
        .ok_or_else(|| required(&purpose, ROOT_PASSPHRASE_ENV))
}

/// Make CA `name` usable: its secret from the environment (`KEYLINE_TOKEN_PIN` for a key in a token,
/// `KEYLINE_ROOT_PASSPHRASE` then `KEYLINE_CA_PASSPHRASE` for a root, `KEYLINE_CA_PASSPHRASE` otherwise), else
/// the OS keyring, else a prompt. Unlocks the CA in `station`.
pub fn unlock_existing(station: &Station, name: &str) -> Result<(), CliError> {
    let custody = station.key_custody(name)?;
    if custody == KeyCustody::Offline {
        return Err(Error::RootOffline { name: name.to_owned() }.into());
    }
    let is_root = station.show_ca(name)?.summary.role == CaRole::Root;
    let from_environment = match &custody {
        KeyCustody::Token { .. } => from_env(TOKEN_PIN_ENV),
        _ if is_root => from_env(ROOT_PASSPHRASE_ENV).or_else(|| from_env(CA_PASSPHRASE_ENV)),
        _ => from_env(CA_PASSPHRASE_ENV),
    };
    if let Some(passphrase) = from_environment {
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
    let (purpose, env_var) = match &custody {
        KeyCustody::Token { token, .. } => (format!("the PIN of token \"{token}\" (CA \"{name}\")"), TOKEN_PIN_ENV),
        _ => (format!("CA \"{name}\""), CA_PASSPHRASE_ENV),
    };
    let passphrase = prompt(&format!("Passphrase for {purpose}: ")).ok_or_else(|| required(&purpose, env_var))?;
    station.unlock_ca(name, &passphrase, false)?;
    Ok(())
}

/// Passphrase (or token PIN) to check (`ca unlock`): `KEYLINE_TOKEN_PIN` for a key in a token, else
/// `KEYLINE_CA_PASSPHRASE`, else a prompt.
pub fn for_existing_ca(station: &Station, name: &str) -> Result<Passphrase, CliError> {
    if let KeyCustody::Token { token, .. } = station.key_custody(name)? {
        return token_pin(&token);
    }
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
