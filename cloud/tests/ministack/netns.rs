//! Runs this test binary inside its own network namespace with only loopback, because ministack's MQTT listener
//! binds every interface. The binary re-executes itself under `unshare -n` (as root) or `unshare -rn` (as a user
//! with unprivileged user namespaces), brings `lo` up, and marks the child with `KEYLINE_IN_NETNS=1`.

use std::os::unix::process::CommandExt;
use std::process::Command;

const MARKER: &str = "KEYLINE_IN_NETNS";

/// Returns when already inside the namespace; otherwise re-executes inside one and never returns.
pub fn enter_loopback_namespace() {
    if std::env::var_os(MARKER).is_some() {
        return;
    }
    let exe = std::env::current_exe().expect("path of the test binary");
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false);
    let unshare_flags = if is_root { "-n" } else { "-rn" };
    let err = Command::new("unshare")
        .arg(unshare_flags)
        .arg("--")
        .arg("sh")
        .arg("-c")
        .arg("ip link set lo up && exec \"$0\" \"$@\"")
        .arg(&exe)
        .args(std::env::args_os().skip(1))
        .env(MARKER, "1")
        .exec();
    eprintln!("cannot enter a loopback-only network namespace with `unshare {unshare_flags}`: {err}. \
               Run the tests as root, or enable unprivileged user namespaces");
    std::process::exit(1);
}
