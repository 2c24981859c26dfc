//! Launch options of the desktop app: data directory and practice mode, from arguments or env.

use std::ffi::OsString;
use std::path::PathBuf;

use keyline_station::DATA_DIR_ENV;

/// Environment variable that turns on practice mode (`1`, `true`, `yes`, `on`).
pub const PRACTICE_ENV: &str = "KEYLINE_PRACTICE";
/// The folder of the data directory practice mode keeps everything in (store, ledger, logs; keyring entries are
/// named after it), so practice never touches the production CAs, ledger or remembered passphrases.
pub const PRACTICE_DIR: &str = "practice";
/// Environment variable with the idle-lock time in minutes (`0`: unlocked CAs never lock themselves).
pub const IDLE_LOCK_ENV: &str = "KEYLINE_IDLE_LOCK_MINUTES";

/// What the app was started with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// `--data-dir DIR` or `KEYLINE_DATA_DIR`; `None` means the OS default.
    pub data_dir: Option<PathBuf>,
    /// `--practice` or `KEYLINE_PRACTICE=1`: simulated boards and a local AWS emulator.
    pub practice: bool,
    /// `--idle-lock-minutes N` or `KEYLINE_IDLE_LOCK_MINUTES`: minutes an unlocked CA may go unused before it locks
    /// itself; `Some(0)` never; `None` the default (15).
    pub idle_lock_minutes: Option<u64>,
}

/// Errors in the command line; the message says how to start the app correctly.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LaunchError {
    /// `--data-dir` was given without a directory.
    #[error("--data-dir needs a directory: start keyline-app with `--data-dir /path/to/dir`")]
    MissingDataDir,
    /// The idle-lock time is not a number of minutes.
    #[error("the idle-lock time must be whole minutes (0 for never), e.g. `--idle-lock-minutes 15` or KEYLINE_IDLE_LOCK_MINUTES=15")]
    BadIdleLock,
}

impl LaunchOptions {
    /// Reads the process arguments and environment.
    pub fn from_env() -> Result<Self, LaunchError> {
        let env = |key: &str| std::env::var_os(key);
        Self::parse(std::env::args_os().skip(1), env)
    }

    /// Parses `args` (without the program name); arguments win over the environment.
    /// Unknown arguments are ignored (GTK and WebDriver may add their own).
    pub fn parse(
        args: impl IntoIterator<Item = OsString>,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Self, LaunchError> {
        let mut options = LaunchOptions {
            data_dir: env(DATA_DIR_ENV).filter(|v| !v.is_empty()).map(PathBuf::from),
            practice: env(PRACTICE_ENV).is_some_and(|v| is_truthy(&v)),
            idle_lock_minutes: env(IDLE_LOCK_ENV).filter(|v| !v.is_empty()).map(|v| minutes(&v)).transpose()?,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let text = arg.to_string_lossy();
            if text == "--practice" {
                options.practice = true;
            } else if text == "--idle-lock-minutes" {
                options.idle_lock_minutes = Some(minutes(&args.next().ok_or(LaunchError::BadIdleLock)?)?);
            } else if text == "--data-dir" {
                let dir = args.next().filter(|v| !v.is_empty()).ok_or(LaunchError::MissingDataDir)?;
                options.data_dir = Some(PathBuf::from(dir));
            } else if let Some(dir) = text.strip_prefix("--data-dir=") {
                if dir.is_empty() {
                    return Err(LaunchError::MissingDataDir);
                }
                options.data_dir = Some(PathBuf::from(dir));
            }
        }
        Ok(options)
    }

    /// The idle-lock time for the station (`None`: never).
    pub fn idle_lock(&self) -> Option<std::time::Duration> {
        match self.idle_lock_minutes {
            Some(0) => None,
            Some(minutes) => Some(std::time::Duration::from_secs(minutes.saturating_mul(60))),
            None => Some(keyline_station::ca::DEFAULT_IDLE_LOCK),
        }
    }

    /// The station's data directory under `base` (the chosen or default data directory): `base/practice` in practice
    /// mode, else `base`.
    pub fn station_dir(&self, base: PathBuf) -> PathBuf {
        if self.practice {
            base.join(PRACTICE_DIR)
        } else {
            base
        }
    }
}

fn minutes(value: &OsString) -> Result<u64, LaunchError> {
    value.to_str().and_then(|text| text.trim().parse().ok()).filter(|m| *m <= 7 * 24 * 60).ok_or(LaunchError::BadIdleLock)
}

fn is_truthy(value: &OsString) -> bool {
    matches!(value.to_string_lossy().trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_idle_lock_is_15_minutes_unless_the_user_sets_it() {
        let default = LaunchOptions::parse(args(&[]), |_| None).unwrap();
        assert_eq!(default.idle_lock(), Some(std::time::Duration::from_secs(15 * 60)));
        let set = LaunchOptions::parse(args(&["--idle-lock-minutes", "5"]), |_| None).unwrap();
        assert_eq!(set.idle_lock(), Some(std::time::Duration::from_secs(300)));
        let never = LaunchOptions::parse(args(&[]), |k| (k == IDLE_LOCK_ENV).then(|| OsString::from("0"))).unwrap();
        assert_eq!(never.idle_lock(), None);
        assert_eq!(LaunchOptions::parse(args(&["--idle-lock-minutes", "soon"]), |_| None), Err(LaunchError::BadIdleLock));
    }

    #[test]
    fn practice_mode_keeps_its_own_data_directory() {
        let practice = LaunchOptions::parse(args(&["--practice"]), |_| None).unwrap();
        assert_eq!(practice.station_dir(PathBuf::from("/data")), PathBuf::from("/data/practice"));
        let production = LaunchOptions::parse(args(&[]), |_| None).unwrap();
        assert_eq!(production.station_dir(PathBuf::from("/data")), PathBuf::from("/data"));
    }

    #[test]
    fn arguments_override_the_environment() {
        let env = |key: &str| match key {
            DATA_DIR_ENV => Some(OsString::from("/from/env")),
            _ => None,
        };
        let parsed = LaunchOptions::parse(args(&["--data-dir", "/from/arg", "--practice"]), env).unwrap();
        assert_eq!(parsed.data_dir, Some(PathBuf::from("/from/arg")));
        assert!(parsed.practice);
    }

    #[test]
    fn environment_sets_data_dir_and_practice_mode() {
        let env = |key: &str| match key {
            DATA_DIR_ENV => Some(OsString::from("/data")),
            PRACTICE_ENV => Some(OsString::from("1")),
            _ => None,
        };
        let parsed = LaunchOptions::parse(args(&["--unknown-gtk-flag"]), env).unwrap();
        assert_eq!(parsed, LaunchOptions { data_dir: Some(PathBuf::from("/data")), practice: true, idle_lock_minutes: None });
    }

    #[test]
    fn equals_form_and_missing_value() {
        let parsed = LaunchOptions::parse(args(&["--data-dir=/x"]), |_| None).unwrap();
        assert_eq!(parsed.data_dir, Some(PathBuf::from("/x")));
        assert_eq!(LaunchOptions::parse(args(&["--data-dir"]), |_| None), Err(LaunchError::MissingDataDir));
        let off = LaunchOptions::parse(args(&[]), |k| (k == PRACTICE_ENV).then(|| OsString::from("0"))).unwrap();
        assert!(!off.practice);
    }
}
