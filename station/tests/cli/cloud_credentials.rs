//! `keyline cloud` without usable AWS credentials: the SDK's credential chain fails, and the CLI says so with the
//! `cloud_no_credentials` code (found by the error's type, not its text) instead of blaming the network.

use crate::support::{failed_with, Env};

/// AWS variables of the developer's shell that would give the chain credentials or a region.
const AWS_VARIABLES: [&str; 9] = [
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
];

#[test]
fn a_profile_without_credentials_is_reported_as_missing_credentials() {
    let env = Env::new();
    let home = env.path("home");
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    let config = home.join(".aws/config");
    std::fs::write(&config, "[profile bare]\nregion = eu-west-1\n").unwrap();
    let credentials = home.join(".aws/credentials");
    std::fs::write(&credentials, "").unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_keyline"));
    command
        // A closed local port: nothing is sent anywhere, the chain fails before the request is dispatched.
        .args(["cloud", "identity", "--profile", "bare", "--endpoint-url", "https://127.0.0.1:9", "--json"])
        .env("KEYLINE_DATA_DIR", &env.data)
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        // No instance metadata service on this machine: never ask the link-local address for credentials.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::null());
    for name in AWS_VARIABLES {
        command.env_remove(name);
    }
    let stderr = failed_with(command.output().expect("keyline runs"), "cloud_no_credentials");
    assert!(stderr.contains("keyline cloud identity"), "the CLI's hint names the command that checks the settings: {stderr}");
}
