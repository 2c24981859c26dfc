//! Behavioural tests of `keyline-cloud` against ministack 1.5.33, a local AWS IoT emulator with JITR.
//!
//! This binary has its own harness (`harness = false`): it re-executes itself in a loopback-only network
//! namespace and runs the cases one after another, each against a freshly started ministack (clean state).
//! Run with `cargo test -p keyline-cloud --test ministack [FILTER]` as root. Needs the project venv
//! (`.venv/bin/ministack`) and the `openssl` CLI.

mod cases_ca;
mod cases_faults;
mod cases_jitr;
mod cases_loop;
mod cases_policy;
mod faulty_proxy;
mod netns;
mod openssl;
mod server;

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use keyline_cloud::{CloudContext, CloudSettings};

pub type CaseResult = Result<(), String>;
type Case = for<'a> fn(&'a Env) -> Pin<Box<dyn Future<Output = CaseResult> + 'a>>;

/// What every case gets: the emulator, clients pointed at it, and a scratch directory.
pub struct Env {
    pub server: server::Ministack,
    pub ctx: CloudContext,
    pub dir: tempfile::TempDir,
}

/// Turns any displayable error into a case failure.
pub fn fail<E: std::fmt::Display>(context: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{context}: {e}")
}

/// `case!(name)`: a named entry for an `async fn name(env: &Env) -> CaseResult`.
#[macro_export]
macro_rules! case {
    ($name:ident) => {
        (stringify!($name), |env: &$crate::Env| -> std::pin::Pin<Box<dyn std::future::Future<Output = $crate::CaseResult> + '_>> {
            Box::pin($name(env))
        })
    };
}

/// Makes a test CA with openssl and registers it ACTIVE with auto-registration (DEFAULT mode).
pub async fn register_test_ca(env: &Env, name: &str) -> Result<(openssl::TestCa, String), String> {
    use keyline_cloud::ca::{register_ca, registration_code, CaMode, RegisterCaRequest};
    let ca = openssl::TestCa::new(env.dir.path(), name, &format!("Keyline Test Signer {name}"));
    let code = registration_code(&env.ctx).await.map_err(fail("registration code"))?;
    let request = RegisterCaRequest {
        ca_cert_pem: ca.cert_pem(),
        verification_cert_pem: Some(ca.sign_leaf("verification", &code)),
        mode: CaMode::Default,
        auto_registration: true,
    };
    let registration = register_ca(&env.ctx, &request).await.map_err(fail("register CA"))?;
    Ok((ca, registration.ca.ca_id))
}

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> CaseResult {
    if condition { Ok(()) } else { Err(message()) }
}

fn cases() -> Vec<(&'static str, Case)> {
    let mut all: Vec<(&'static str, Case)> = Vec::new();
    all.extend(cases_ca::cases());
    all.extend(cases_jitr::cases());
    all.extend(cases_loop::cases());
    all.extend(cases_faults::cases());
    all.extend(cases_policy::cases());
    all
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let selected: Vec<(&str, Case)> =
        cases().into_iter().filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &selected {
            println!("{name}: test");
        }
        return;
    }
    if selected.is_empty() {
        println!("running 0 tests");
        return;
    }
    netns::enter_loopback_namespace();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let failed = runtime.block_on(run(selected));
    std::process::exit(if failed == 0 { 0 } else { 1 });
}

async fn run(selected: Vec<(&'static str, Case)>) -> usize {
    println!("running {} tests against ministack", selected.len());
    let mut failed = Vec::new();
    for (name, case) in selected {
        let started = Instant::now();
        // A fresh ministack per case: `POST /_ministack/reset` races with the MQTT listener's restart in 1.5.33
        // (the broker certificate can end up signed by a Local CA that is no longer served).
        let (result, log) = match Env::start(name.starts_with("enforced_")).await {
            Ok(env) => {
                let result = case(&env).await;
                let log = if result.is_err() {
                    format!("{}\n(full log: {})", env.server.log_tail(), env.server.keep_log(name).display())
                } else {
                    String::new()
                };
                (result, log)
            }
            Err(err) => (Err(err), String::new()),
        };
        match result {
            Ok(()) => println!("test {name} ... ok ({:.1} s)", started.elapsed().as_secs_f32()),
            Err(err) => {
                println!("test {name} ... FAILED ({:.1} s)\n    {err}\n\nministack log (tail):\n{log}\n", started.elapsed().as_secs_f32());
                failed.push(name);
            }
        }
    }
    if !failed.is_empty() {
        println!("failures: {failed:?}");
    }
    println!("\ntest result: {}. {} failed", if failed.is_empty() { "ok" } else { "FAILED" }, failed.len());
    failed.len()
}

impl Env {
    /// A fresh emulator; `enforce_policies` turns on IAM/IoT policy evaluation (`AUTH=true`).
    async fn start(enforce_policies: bool) -> Result<Self, String> {
        let server = server::Ministack::start(enforce_policies).await?;
        let ctx = CloudContext::connect(&CloudSettings::emulator(server.endpoint_url(), "us-east-1")).await.map_err(fail("clients"))?;
        Ok(Env { server, ctx, dir: tempfile::tempdir().map_err(fail("scratch dir"))? })
    }
}
