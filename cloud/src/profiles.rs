//! AWS profile names on this machine, read with the SDK's own profile loader (`~/.aws/config`,
//! `~/.aws/credentials`, `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`); names only, never secrets.

use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

/// The profile names the AWS credential chain would accept, sorted. Unreadable or malformed files give none.
pub async fn profile_names() -> Vec<String> {
    profile_names_in(&Fs::real(), &Env::real()).await
}

/// [`profile_names`] over the given file system and environment (tests hand in their own).
pub async fn profile_names_in(fs: &Fs, env: &Env) -> Vec<String> {
    match aws_config::profile::load(fs, env, &EnvConfigFiles::default(), None).await {
        Ok(set) => {
            let mut names: Vec<String> = set.profiles().map(str::to_owned).collect();
            names.sort();
            names
        }
        Err(error) => {
            tracing::warn!(%error, "cannot read the AWS profile files; no profiles are offered");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn profiles_of_both_files_without_sso_sessions() {
        let fs = Fs::from_slice(&[
            ("/home/op/.aws/config", "[default]\nregion = eu-west-1\n[profile factory]\nsso_session = corp\n[sso-session corp]\nsso_region = eu-west-1\n"),
            ("/home/op/.aws/credentials", "[line2]\naws_access_key_id = AKIAEXAMPLE\n"),
        ]);
        let env = Env::from_slice(&[("HOME", "/home/op")]);
        assert_eq!(profile_names_in(&fs, &env).await, vec!["default", "factory", "line2"]);
    }

    #[tokio::test]
    async fn no_files_mean_no_profiles() {
        let env = Env::from_slice(&[("HOME", "/home/nobody")]);
        assert!(profile_names_in(&Fs::from_slice(&[]), &env).await.is_empty());
    }
}
