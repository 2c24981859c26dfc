//! `keyline cloud ...`: AWS IoT. Register a CA, deploy JITR or JITP, manage the allow-list and device
//! certificates, run a device-like connection test, or run the local emulator for practice.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use keyline_cloud::ca::CaMode;
use keyline_cloud::mqtt::{ConnectTest, ServerTrust};
use keyline_cloud::{allow_list, ca, jitp, jitr, CloudContext, CloudSettings};
use keyline_station::cloud::{cloud_report, connect};
use keyline_station::{Error, ErrorReport};

use super::cloud_output as text;
use super::output::emit;
use super::{passphrase, CliResult, Context, Run};

/// How to reach AWS (or the local emulator). Secrets stay in the AWS credential chain, never in Keyline.
#[derive(Args, Clone)]
pub struct Connection {
    /// AWS profile (SSO, credential_process or static) from ~/.aws/config.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    profile: Option<String>,
    /// AWS region.
    #[arg(long, global = true, env = "AWS_REGION")]
    region: Option<String>,
    /// Endpoint override for every AWS service, e.g. http://127.0.0.1:4566 for ministack.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    endpoint_url: Option<String>,
    /// Talk to the local emulator (dummy credentials; default endpoint http://127.0.0.1:4566, region us-east-1).
    #[arg(long, global = true, env = "KEYLINE_CLOUD_EMULATOR")]
    emulator: bool,
}

impl Connection {
    fn settings(&self) -> CloudSettings {
        if self.emulator {
            let url = self.endpoint_url.clone().unwrap_or_else(|| "http://127.0.0.1:4566".into());
            let region = self.region.clone().unwrap_or_else(|| keyline_cloud::emulator::REGION.into());
            return CloudSettings::emulator(url, region);
        }
        CloudSettings { profile: self.profile.clone(), region: self.region.clone(), endpoint_url: self.endpoint_url.clone(), emulator: false }
    }
}

/// Registration mode of a CA.
#[derive(Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// One account owns the CA; a verification certificate proves key possession.
    Default,
    /// Multi-account; no verification certificate; devices must send SNI.
    SniOnly,
}

/// `keyline cloud [connection options] <command>`: the connection options may come before or after the command.
pub struct CloudCommand {
    connection: Connection,
    command: CloudSub,
}

impl clap::FromArgMatches for CloudCommand {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self { connection: Connection::from_arg_matches(matches)?, command: CloudSub::from_arg_matches(matches)? })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.connection.update_from_arg_matches(matches)?;
        self.command.update_from_arg_matches(matches)
    }
}

impl Subcommand for CloudCommand {
    fn augment_subcommands(command: clap::Command) -> clap::Command {
        CloudSub::augment_subcommands(Connection::augment_args(command))
    }

    fn augment_subcommands_for_update(command: clap::Command) -> clap::Command {
        CloudSub::augment_subcommands_for_update(Connection::augment_args_for_update(command))
    }

    fn has_subcommand(name: &str) -> bool {
        CloudSub::has_subcommand(name)
    }
}

/// Cloud commands.
#[derive(Subcommand)]
pub enum CloudSub {
    /// Show the AWS account, identity, region and endpoint in use.
    Identity,
    /// Register a CA with AWS IoT (ACTIVE, auto-registration on), or reconcile an existing registration.
    RegisterCa(RegisterCaArgs),
    /// Registered CAs: list, show, activate, deactivate, auto-registration, delete.
    Ca(CaArgs),
    /// The JITR stack of a CA: deploy, status, remove.
    Jitr(JitrArgs),
    /// JITP: attach a provisioning template and role to the CA registration instead of JITR.
    Jitp(JitpArgs),
    /// A CA's allow-list (DynamoDB, keyed by device serial) the JITR Lambda checks.
    AllowList(AllowListArgs),
    /// Print the least-privilege IAM policy an operator needs to run Keyline's cloud setup.
    Permissions(PermissionsArgs),
    /// Device certificates registered under a CA, joined with the device ledger.
    Devices(super::cloud_devices::DevicesArgs),
    /// Connect like a device: throwaway identity, mutual TLS, JITR, publish and receive.
    TestConnect(TestConnectArgs),
    /// Run the local AWS emulator (ministack) in the foreground for practice mode, until Ctrl-C.
    Emulator(EmulatorArgs),
}

/// `register-ca` options.
#[derive(Args)]
pub struct RegisterCaArgs {
    /// CA name in the store (the CA that signs device certificates).
    #[arg(long)]
    ca: String,
    /// Registration mode.
    #[arg(long, value_enum, default_value = "default")]
    mode: ModeArg,
    /// Register without auto-registration (no JITR/JITP).
    #[arg(long)]
    no_auto_registration: bool,
}

/// `ca` options.
#[derive(Args)]
pub struct CaArgs {
    #[command(subcommand)]
    command: CaCommand,
}

/// `ca` subcommands; CA is a store name or a 64-hex AWS CA id.
#[derive(Subcommand)]
pub enum CaCommand {
    /// List the CAs registered in this account and region.
    List,
    /// Show one registered CA.
    Show { ca: String },
    /// Set the CA ACTIVE.
    Activate { ca: String },
    /// Set the CA INACTIVE (devices signed by it can no longer register).
    Deactivate { ca: String },
    /// Let devices signed by the CA register on first connect.
    EnableAutoRegistration { ca: String },
    /// Stop devices signed by the CA from registering on first connect.
    DisableAutoRegistration { ca: String },
    /// Delete the registration. Refuses while device certificates remain or the CA is ACTIVE, unless --force.
    Delete {
        ca: String,
        /// Deactivate the CA and delete its device certificates first.
        #[arg(long)]
        force: bool,
    },
}

/// `jitr` options.
#[derive(Args)]
pub struct JitrArgs {
    #[command(subcommand)]
    command: JitrCommand,
}

/// `jitr` subcommands.
#[derive(Subcommand)]
pub enum JitrCommand {
    /// Create or update the device policy, Lambda role, Lambda, topic rule and permission.
    Deploy {
        /// Registered CA (store name or AWS id).
        #[arg(long)]
        ca: String,
        /// Activate only devices on the CA's allow-list (creates the table); leave the rest INACTIVE.
        #[arg(long)]
        allow_list: bool,
        /// Device policy template (JSON; {{region}}, {{account}}, {{topic_prefix}} are filled in).
        #[arg(long, value_name = "FILE")]
        policy_template: Option<PathBuf>,
        /// Devices publish and subscribe below <prefix>/<serial>/.
        #[arg(long, default_value = jitr::policy::DEFAULT_TOPIC_PREFIX)]
        topic_prefix: String,
    },
    /// Show every piece of the stack and its health.
    Status {
        #[arg(long)]
        ca: String,
    },
    /// Remove the stack (device certificates, things and the CA registration stay).
    Remove {
        #[arg(long)]
        ca: String,
        /// Also delete the shared allow-list table.
        #[arg(long)]
        purge_allow_list: bool,
    },
}

/// `jitp` options.
#[derive(Args)]
pub struct JitpArgs {
    #[command(subcommand)]
    command: JitpCommand,
}

/// `jitp` subcommands.
#[derive(Subcommand)]
pub enum JitpCommand {
    /// Create or update the device policy and provisioning role, and attach the template to the CA.
    Deploy {
        #[arg(long)]
        ca: String,
        /// Device policy template (JSON).
        #[arg(long, value_name = "FILE")]
        policy_template: Option<PathBuf>,
        /// Devices publish and subscribe below <prefix>/<serial>/.
        #[arg(long, default_value = jitr::policy::DEFAULT_TOPIC_PREFIX)]
        topic_prefix: String,
    },
}

/// `allow-list` options.
#[derive(Args)]
pub struct AllowListArgs {
    /// Signer CA (store name) whose allow-list this is.
    #[arg(long, global = true)]
    ca: Option<String>,
    #[command(subcommand)]
    command: AllowListCommand,
}

/// `permissions` options.
#[derive(Args)]
pub struct PermissionsArgs {
    /// The registration method the operator will deploy.
    #[arg(long, value_enum, default_value = "jitr")]
    method: MethodArg,
    /// The 12-digit account id (default: the account the credentials belong to).
    #[arg(long)]
    account: Option<String>,
}

/// `--method` values.
#[derive(Clone, Copy, ValueEnum)]
pub enum MethodArg {
    /// The activation Lambda with the allow-list.
    Jitr,
    /// AWS IoT's provisioning template.
    Jitp,
}

/// `allow-list` subcommands.
#[derive(Subcommand)]
pub enum AllowListCommand {
    /// Allow one serial.
    Add { serial: String },
    /// Remove one serial (a device that has not registered yet will be left INACTIVE).
    Remove { serial: String },
    /// List the allowed serials.
    List,
    /// Push serials in batches (every device of the CA in the station's ledger, or those in a file), then activate
    /// the CA's devices that connected before their serial was allowed.
    Sync {
        /// Take the serials from this file (one per line, # comments) instead of the device ledger.
        #[arg(long, value_name = "FILE")]
        serials: Option<PathBuf>,
        /// Also delete entries that are not in the source.
        #[arg(long)]
        prune: bool,
    },
}

/// `test-connect` options.
#[derive(Args)]
pub struct TestConnectArgs {
    /// Signer CA in the store that issues the throwaway device certificate (registered with AWS IoT).
    #[arg(long)]
    ca: String,
    /// Device serial (CN, client id, thing name); random 18-hex by default.
    #[arg(long)]
    serial: Option<String>,
    /// MQTT port: 8883, or 443 (with ALPN x-amzn-mqtt-ca, for networks that block 8883).
    #[arg(long, default_value_t = 8883)]
    port: u16,
    /// Connect to HOST:PORT instead of <endpoint>:<port>, keeping the endpoint name as SNI (for emulators).
    #[arg(long, value_name = "HOST:PORT")]
    mqtt_endpoint: Option<String>,
    /// Trust this PEM for the server instead of the system roots (with --emulator: fetched from the emulator).
    #[arg(long, value_name = "FILE")]
    server_ca: Option<PathBuf>,
    /// Connection attempts before giving up [default: 8 with --emulator, else enough to span Lambda's retries].
    #[arg(long)]
    attempts: Option<u32>,
    /// Topic prefix of the device policy.
    #[arg(long, default_value = jitr::policy::DEFAULT_TOPIC_PREFIX)]
    topic_prefix: String,
}

/// `emulator` options.
#[derive(Args)]
pub struct EmulatorArgs {
    /// The ministack console script [default: .venv/bin/ministack, or KEYLINE_MINISTACK].
    #[arg(long, env = "KEYLINE_MINISTACK", value_name = "FILE")]
    ministack: Option<PathBuf>,
    /// HTTP API port on 127.0.0.1.
    #[arg(long, default_value_t = 4566)]
    api_port: u16,
    /// MQTT-over-TLS port (binds every interface).
    #[arg(long, default_value_t = 8883)]
    mqtt_port: u16,
}

impl Run for CloudCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Issue { detail: format!("cannot start the async runtime: {e}") })?;
        runtime.block_on(self.run_async(ctx))
    }
}

impl CloudCommand {
    async fn run_async(self, ctx: &Context) -> CliResult {
        let connection = self.connection;
        match self.command {
            CloudSub::Identity => {
                let cloud = connect(&connection.settings()).await?;
                let identity = cloud.identity().await.map_err(cloud_report)?;
                emit(ctx.json, &identity, || text::identity(&identity));
            }
            CloudSub::RegisterCa(args) => register_ca(ctx, &connection, args).await?,
            CloudSub::Ca(args) => ca_command(ctx, &connection, args).await?,
            CloudSub::Jitr(args) => jitr_command(ctx, &connection, args).await?,
            CloudSub::Jitp(args) => {
                let cloud = connect(&connection.settings()).await?;
                let JitpCommand::Deploy { ca, policy_template, topic_prefix } = args.command;
                let ca_id = resolve_ca(ctx, &ca)?;
                let request = jitp::JitpRequest { ca_id, policy_template: read_template(policy_template)?, topic_prefix: Some(topic_prefix) };
                let changes = jitp::deploy(&cloud, &request).await.map_err(cloud_report)?;
                emit(ctx.json, &changes, || text::changes(&changes));
            }
            CloudSub::AllowList(args) => allow_list_command(ctx, &connection, args).await?,
            CloudSub::Permissions(args) => {
                let method = match args.method {
                    MethodArg::Jitr => keyline_cloud::permissions::Method::Jitr,
                    MethodArg::Jitp => keyline_cloud::permissions::Method::Jitp,
                };
                let policy = keyline_station::cloud::operator_permissions(&connection.settings(), args.account.as_deref(), method).await?;
                emit(ctx.json, &policy, || format!("{}\n", serde_json::to_string_pretty(&policy).unwrap_or_default()));
            }
            CloudSub::Devices(args) => super::cloud_devices::run(ctx, &connection.settings(), args).await?,
            CloudSub::TestConnect(args) => test_connect(ctx, &connection, args).await?,
            CloudSub::Emulator(args) => run_emulator(ctx, args).await?,
        }
        Ok(())
    }
}

/// A store CA name → its AWS id; a 64-hex id passes through.
pub(super) fn resolve_ca(ctx: &Context, ca: &str) -> Result<String, ErrorReport> {
    if ca.len() == 64 && ca.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(ca.to_ascii_lowercase());
    }
    ctx.station()?.cloud_ca_id(ca)
}

fn read_template(path: Option<PathBuf>) -> Result<Option<String>, ErrorReport> {
    path.map(|p| {
        let size = std::fs::metadata(&p).map_err(|e| Error::Io { action: "cannot read", path: p.clone(), source: e })?.len();
        if size > 20 * 1024 {
            return Err(Error::InvalidInput { what: "policy template".into(), reason: "larger than 20 KiB (the AWS policy limit)".into() }.into());
        }
        std::fs::read_to_string(&p).map_err(|e| Error::Io { action: "cannot read", path: p.clone(), source: e }.into())
    })
    .transpose()
}

async fn register_ca(ctx: &Context, connection: &Connection, args: RegisterCaArgs) -> CliResult {
    let station = ctx.station()?;
    let cloud = connect(&connection.settings()).await?;
    let mode = match args.mode {
        ModeArg::Default => CaMode::Default,
        ModeArg::SniOnly => CaMode::SniOnly,
    };
    let auto = !args.no_auto_registration;
    let outcome = match station.cloud_register_ca(&cloud, &args.ca, mode, auto).await {
        Err(report) if report.code == "passphrase_required" => {
            passphrase::unlock_existing(&station, &args.ca)?;
            station.cloud_register_ca(&cloud, &args.ca, mode, auto).await?
        }
        other => other?,
    };
    emit(ctx.json, &outcome, || text::registration(&outcome));
    Ok(())
}

async fn ca_command(ctx: &Context, connection: &Connection, args: CaArgs) -> CliResult {
    let cloud = connect(&connection.settings()).await?;
    match args.command {
        CaCommand::List => {
            let cas = ca::list_cas(&cloud).await.map_err(cloud_report)?;
            let names = local_names(ctx);
            emit(ctx.json, &cas, || text::ca_list(&cas, &names));
        }
        CaCommand::Show { ca } => {
            let info = ca::require_ca(&cloud, &resolve_ca(ctx, &ca)?).await.map_err(cloud_report)?;
            emit(ctx.json, &info, || text::ca_list(std::slice::from_ref(&info), &local_names(ctx)));
        }
        CaCommand::Activate { ca } => set_ca(ctx, &cloud, &ca, |c, id| Box::pin(ca::set_ca_status(c, id, true))).await?,
        CaCommand::Deactivate { ca } => set_ca(ctx, &cloud, &ca, |c, id| Box::pin(ca::set_ca_status(c, id, false))).await?,
        CaCommand::EnableAutoRegistration { ca } => {
            set_ca(ctx, &cloud, &ca, |c, id| Box::pin(ca::set_auto_registration(c, id, true))).await?
        }
        CaCommand::DisableAutoRegistration { ca } => {
            set_ca(ctx, &cloud, &ca, |c, id| Box::pin(ca::set_auto_registration(c, id, false))).await?
        }
        CaCommand::Delete { ca, force } => {
            let id = resolve_ca(ctx, &ca)?;
            ca::delete_ca(&cloud, &id, force).await.map_err(cloud_report)?;
            emit(ctx.json, &serde_json::json!({ "deleted": id }), || format!("Deleted the registration of CA {id}\n"));
        }
    }
    Ok(())
}

type CaUpdate = for<'a> fn(
    &'a CloudContext,
    &'a str,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = keyline_cloud::Result<()>> + 'a>>;

async fn set_ca(ctx: &Context, cloud: &CloudContext, ca: &str, update: CaUpdate) -> CliResult {
    let id = resolve_ca(ctx, ca)?;
    update(cloud, &id).await.map_err(cloud_report)?;
    let info = ca::require_ca(cloud, &id).await.map_err(cloud_report)?;
    emit(ctx.json, &info, || text::ca_list(std::slice::from_ref(&info), &local_names(ctx)));
    Ok(())
}

/// AWS CA id → store name, for the CAs in the store.
fn local_names(ctx: &Context) -> Vec<(String, String)> {
    let Ok(station) = ctx.station() else { return Vec::new() };
    let Ok(cas) = station.list_cas() else { return Vec::new() };
    cas.into_iter().filter_map(|summary| Some((station.cloud_ca_id(&summary.name).ok()?, summary.name))).collect()
}

async fn jitr_command(ctx: &Context, connection: &Connection, args: JitrArgs) -> CliResult {
    let cloud = connect(&connection.settings()).await?;
    match args.command {
        JitrCommand::Deploy { ca, allow_list, policy_template, topic_prefix } => {
            let request = jitr::DeployRequest {
                ca_id: resolve_ca(ctx, &ca)?,
                allow_list,
                policy_template: read_template(policy_template)?,
                topic_prefix: Some(topic_prefix),
            };
            let changes = jitr::deploy(&cloud, &request).await.map_err(cloud_report)?;
            emit(ctx.json, &changes, || text::changes(&changes));
        }
        JitrCommand::Status { ca } => {
            let status = jitr::status(&cloud, &resolve_ca(ctx, &ca)?).await.map_err(cloud_report)?;
            emit(ctx.json, &status, || text::stack_status(&status));
            jitr::require_healthy(&status).map_err(cloud_report)?;
        }
        JitrCommand::Remove { ca, purge_allow_list } => {
            let changes = jitr::remove(&cloud, &resolve_ca(ctx, &ca)?, purge_allow_list).await.map_err(cloud_report)?;
            emit(ctx.json, &changes, || text::changes(&changes));
        }
    }
    Ok(())
}

async fn allow_list_command(ctx: &Context, connection: &Connection, args: AllowListArgs) -> CliResult {
    let cloud = connect(&connection.settings()).await?;
    let ca = args.ca.ok_or_else(|| Error::InvalidInput { what: "--ca".into(), reason: "name the signer CA whose allow-list this is".into() })?;
    let ca_id = resolve_ca(ctx, &ca)?;
    match args.command {
        AllowListCommand::Add { serial } => {
            allow_list::add(&cloud, &ca_id, &serial).await.map_err(cloud_report)?;
            emit(ctx.json, &serde_json::json!({ "added": serial }), || format!("Allowed {serial}\n"));
        }
        AllowListCommand::Remove { serial } => {
            allow_list::remove(&cloud, &ca_id, &serial).await.map_err(cloud_report)?;
            emit(ctx.json, &serde_json::json!({ "removed": serial }), || format!("Removed {serial}\n"));
        }
        AllowListCommand::List => {
            let serials = allow_list::list(&cloud, &ca_id).await.map_err(cloud_report)?;
            emit(ctx.json, &serials, || serials.iter().map(|s| format!("{s}\n")).collect());
        }
        AllowListCommand::Sync { serials, prune } => {
            let list = serials.map(|path| allow_list::read_serials_file(&path)).transpose().map_err(cloud_report)?;
            let synced = ctx.station()?.cloud_allow_list_sync(&cloud, &ca, list, prune).await?;
            emit(ctx.json, &synced, || {
                let report = &synced.report;
                format!(
                    "Wrote {} serial(s), deleted {}, in {} batch call(s); activated {} waiting device(s)\n",
                    report.written, report.deleted, report.batches, synced.activated.len()
                )
            });
        }
    }
    Ok(())
}

async fn test_connect(ctx: &Context, connection: &Connection, args: TestConnectArgs) -> CliResult {
    let station = ctx.station()?;
    let settings = connection.settings();
    let cloud = connect(&settings).await?;
    passphrase::unlock_existing(&station, &args.ca)?;
    let device = station.cloud_device_identity(&args.ca, args.serial.as_deref())?;
    let server_trust = match (&args.server_ca, settings.emulator) {
        (Some(path), _) => ServerTrust::Pem(
            std::fs::read_to_string(path).map_err(|e| Error::Io { action: "cannot read", path: path.clone(), source: e })?,
        ),
        (None, true) => ServerTrust::Pem(
            keyline_cloud::emulator::fetch_broker_ca(settings.endpoint_url.as_deref().unwrap_or_default()).await.map_err(cloud_report)?,
        ),
        (None, false) => ServerTrust::System,
    };
    let mqtt_endpoint = args.mqtt_endpoint.or_else(|| settings.emulator.then(|| "127.0.0.1:8883".to_string()));
    let test = ConnectTest {
        endpoint: cloud.data_ats_endpoint().await.map_err(cloud_report)?,
        port: args.port,
        address_override: mqtt_endpoint,
        chain_pems: vec![station.cloud_ca_cert_pem(&args.ca)?],
        device,
        server_trust,
        max_attempts: args.attempts.unwrap_or_else(|| {
            if settings.emulator { 8 } else { keyline_cloud::mqtt::attempts_covering(keyline_cloud::mqtt::JITR_WINDOW, Duration::from_secs(1)) }
        }),
        first_backoff: Duration::from_secs(1),
        topic_prefix: args.topic_prefix,
    };
    let report = keyline_cloud::mqtt::test_connect(&test).await.map_err(cloud_report)?;
    emit(ctx.json, &report, || text::connect_report(&report));
    if report.connected && report.round_trip {
        Ok(())
    } else {
        Err(ErrorReport {
            code: "cloud_connection_test_failed".into(),
            message: format!("device {} did not get to publish and receive ({} attempt(s))", report.serial, report.attempts.len()),
            hint: "Check `keyline cloud jitr status`, the allow-list, and the CA's auto-registration; a device that is not allowed stays INACTIVE until `allow-list sync`.".into(),
        })
    }
}

async fn run_emulator(ctx: &Context, args: EmulatorArgs) -> CliResult {
    let mut config = keyline_cloud::emulator::EmulatorConfig::in_project(&std::env::current_dir().unwrap_or_default(), ctx.data_dir.join("emulator"));
    if let Some(binary) = args.ministack {
        config.binary = binary;
    }
    config.api_port = args.api_port;
    config.mqtt_port = args.mqtt_port;
    let emulator = keyline_cloud::emulator::Emulator::start(config).await.map_err(cloud_report)?;
    let info = serde_json::json!({
        "emulator": true,
        "endpointUrl": emulator.endpoint_url(),
        "mqttEndpoint": emulator.mqtt_address(),
        "region": keyline_cloud::emulator::REGION,
        "log": emulator.log_path(),
    });
    emit(ctx.json, &info, || text::emulator(&emulator));
    tokio::signal::ctrl_c().await.map_err(|e| Error::Issue { detail: format!("cannot wait for Ctrl-C: {e}") })?;
    drop(emulator);
    Ok(())
}
