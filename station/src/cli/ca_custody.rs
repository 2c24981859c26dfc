//! `keyline ca create-signer | offline-root | restore-root`: the root key kept off the line.

use std::path::Path;

use keyline_station::Station;

use super::output::{emit, summary_text};
use super::{passphrase, CliResult, Context};

/// `ca create-signer`: a new signer under an unlocked root (KEYLINE_ROOT_PASSPHRASE, else the CA passphrase).
pub fn create_signer(ctx: &Context, station: &Station, root: &str, name: &str, years: u32) -> CliResult {
    passphrase::unlock_existing(station, root)?;
    let signer_passphrase = passphrase::for_new_ca(&format!("CA \"{name}\""))?;
    let created = station.create_signer(root, name, years, &signer_passphrase)?;
    emit(ctx.json, &created, || summary_text(&created));
    Ok(())
}

/// `ca offline-root`: export the root's key to `output` and remove it from the station.
pub fn offline_root(ctx: &Context, station: &Station, name: &str, output: &Path) -> CliResult {
    let root_passphrase = passphrase::for_root(name)?;
    let done = station.take_root_offline(name, &root_passphrase, output)?;
    emit(ctx.json, &done, || {
        format!(
            "The key of root CA \"{name}\" is in {} (encrypted PKCS#8; `openssl pkey -in {}` reads it with the root's passphrase)\nand is no longer on this station. Keep that file offline; `keyline ca restore-root {name} --key FILE` brings it back to issue a new signer.\n",
            done.exported_to.display(),
            done.exported_to.display()
        )
    });
    Ok(())
}

/// `ca passwd`: re-encrypt a CA's key under a new passphrase.
pub fn change_passphrase(ctx: &Context, station: &Station, name: &str) -> CliResult {
    let old = passphrase::for_existing_ca(station, name)?;
    let new = passphrase::for_changed_ca(name)?;
    let changed = station.change_passphrase(name, &old, &new)?;
    emit(ctx.json, &changed, || format!("The passphrase of CA \"{name}\" is changed; its key is re-encrypted with today's scrypt parameters.\n{}", summary_text(&changed)));
    Ok(())
}

/// `ca restore-root`: bring an offline root's key back, encrypted under the root's passphrase.
pub fn restore_root(ctx: &Context, station: &Station, name: &str, key: &Path) -> CliResult {
    let key_passphrase = passphrase::for_root(name)?;
    let restored = station.restore_root_from_file(name, key, &key_passphrase)?;
    emit(ctx.json, &restored, || format!("The key of root CA \"{name}\" is back on this station.\n{}", summary_text(&restored)));
    Ok(())
}
