//! `keyline cloud ...`: AWS IoT. Register a CA, deploy JITR or JITP, manage the allow-list and device
//! certificates, run a device-like connection test, or run the local emulator for practice.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use keyline_station::cloud_ops::{
    self as cloud_ops, connect, CaMode, CloudSettings, EmulatorConfig, JitpDeploy, JitrDeploy, DEFAULT_TOPIC_PREFIX, EMULATOR_API_PORT,
    EMULATOR_MQTT_PORT, EMULATOR_REGION, PermissionsMethod,
};
use keyline_station::cloud_test::{run_connection_test, server_untrusted, default_attempts, ConnectionTestRequest, DEFAULT_PORT};
use keyline_station::Error;

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
        let settings = CloudSettings {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            emulator: self.emulator,
        };
        cloud_ops::normalise_settings(settings)
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
        #[arg(long, default_value = DEFAULT_TOPIC_PREFIX)]
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
        #[arg(long, default_value = DEFAULT_TOPIC_PREFIX)]
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
    #[arg(long, default_value_t = DEFAULT_PORT)]
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
    #[arg(long, default_value = DEFAULT_TOPIC_PREFIX)]
    topic_prefix: String,
}

/// `emulator` options.
#[derive(Args)]
pub struct EmulatorArgs {
    /// The ministack console script [default: .venv/bin/ministack, or KEYLINE_MINISTACK].
    #[arg(long, env = "KEYLINE_MINISTACK", value_name = "FILE")]
    ministack: Option<PathBuf>,
    /// HTTP API port on 127.0.0.1.
    #[arg(long, default_value_t = EMULATOR_API_PORT)]
    api_port: u16,
    /// MQTT-over-TLS port (on loopback).
    #[arg(long, default_value_t = EMULATOR_MQTT_PORT)]
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
                let identity = cloud_ops::identity(&cloud).await?;
                emit(ctx.json, &identity, || text::identity(&identity));
            }
            CloudSub::RegisterCa(args) => register_ca(ctx, &connection, args).await?,
            CloudSub::Ca(args) => ca_command(ctx, &connection, args).await?,
            CloudSub::Jitr(args) => jitr_command(ctx, &connection, args).await?,
            CloudSub::Jitp(args) => {
                let cloud = connect(&connection.settings()).await?;
                let JitpCommand::Deploy { ca, policy_template, topic_prefix } = args.command;
                let deploy = JitpDeploy { ca, policy_template, topic_prefix: Some(topic_prefix) };
                let changes = ctx.station()?.cloud_jitp_deploy(&cloud, &deploy).await?;
                emit(ctx.json, &changes, || text::changes(&changes));
            }
            CloudSub::AllowList(args) => allow_list_command(ctx, &connection, args).await?,
            CloudSub::Permissions(args) => {
                let method = match args.method {
                    MethodArg::Jitr => PermissionsMethod::Jitr,
                    MethodArg::Jitp => PermissionsMethod::Jitp,
                };
                let policy = cloud_ops::operator_permissions(&connection.settings(), args.account.as_deref(), method).await?;
                emit(ctx.json, &policy, || format!("{}\n", serde_json::to_string_pretty(&policy).unwrap_or_default()));
            }
            CloudSub::Devices(args) => super::cloud_devices::run(ctx, &connection.settings(), args).await?,
            CloudSub::TestConnect(args) => test_connect(ctx, &connection, args).await?,
            CloudSub::Emulator(args) => run_emulator(ctx, args).await?,
        }
        Ok(())
    }
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
        Err(Error::PassphraseRequired { .. }) => {
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
    let names = || ctx.station().map(|station| station.cloud_local_names()).unwrap_or_default();
    let info = match args.command {
        CaCommand::List => {
            let cas = cloud_ops::list_cas(&cloud).await?;
            emit(ctx.json, &cas, || text::ca_list(&cas, &names()));
            return Ok(());
        }
        CaCommand::Delete { ca, force } => {
            let id = ctx.station()?.cloud_ca_delete(&cloud, &ca, force).await?;
            emit(ctx.json, &serde_json::json!({ "deleted": id }), || format!("Deleted the registration of CA {id}\n"));
            return Ok(());
        }
        CaCommand::Show { ca } => ctx.station()?.cloud_ca_show(&cloud, &ca).await?,
        CaCommand::Activate { ca } => ctx.station()?.cloud_ca_set_active(&cloud, &ca, true).await?,
        CaCommand::Deactivate { ca } => ctx.station()?.cloud_ca_set_active(&cloud, &ca, false).await?,
        CaCommand::EnableAutoRegistration { ca } => ctx.station()?.cloud_ca_set_auto_registration(&cloud, &ca, true).await?,
        CaCommand::DisableAutoRegistration { ca } => ctx.station()?.cloud_ca_set_auto_registration(&cloud, &ca, false).await?,
    };
    emit(ctx.json, &info, || text::ca_list(std::slice::from_ref(&info), &names()));
    Ok(())
}

async fn jitr_command(ctx: &Context, connection: &Connection, args: JitrArgs) -> CliResult {
    let cloud = connect(&connection.settings()).await?;
    let station = ctx.station()?;
    match args.command {
        JitrCommand::Deploy { ca, allow_list, policy_template, topic_prefix } => {
            let deploy = JitrDeploy { ca, allow_list, policy_template, topic_prefix: Some(topic_prefix) };
            let changes = station.cloud_jitr_deploy(&cloud, &deploy).await?;
            emit(ctx.json, &changes, || text::changes(&changes));
        }
        JitrCommand::Status { ca } => {
            let status = station.cloud_jitr_status(&cloud, &ca).await?;
            emit(ctx.json, &status, || text::stack_status(&status));
            cloud_ops::require_healthy(&status)?;
        }
        JitrCommand::Remove { ca, purge_allow_list } => {
            let changes = station.cloud_jitr_remove(&cloud, &ca, purge_allow_list).await?;
            emit(ctx.json, &changes, || text::changes(&changes));
        }
    }
    Ok(())
}

async fn allow_list_command(ctx: &Context, connection: &Connection, args: AllowListArgs) -> CliResult {
    let cloud = connect(&connection.settings()).await?;
    let ca = args.ca.ok_or_else(|| Error::InvalidInput { what: "--ca".into(), reason: "name the signer CA whose allow-list this is".into() })?;
    let station = ctx.station()?;
    match args.command {
        AllowListCommand::Add { serial } => {
            station.cloud_allow_list_add(&cloud, &ca, &serial).await?;
            emit(ctx.json, &serde_json::json!({ "added": serial }), || format!("Allowed {serial}\n"));
        }
        AllowListCommand::Remove { serial } => {
            station.cloud_allow_list_remove(&cloud, &ca, &serial).await?;
            emit(ctx.json, &serde_json::json!({ "removed": serial }), || format!("Removed {serial}\n"));
        }
        AllowListCommand::List => {
            let serials = station.cloud_allow_list(&cloud, &ca).await?;
            emit(ctx.json, &serials, || serials.iter().map(|s| format!("{s}\n")).collect());
        }
        AllowListCommand::Sync { serials, prune } => {
            let list = serials.map(|path| cloud_ops::read_serials_file(&path)).transpose()?;
            let synced = station.cloud_allow_list_sync(&cloud, &ca, list, prune).await?;
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
    passphrase::unlock_existing(&station, &args.ca)?;
    let server_ca_pem = match &args.server_ca {
        Some(path) => Some(super::ca::read_text(path)?),
        None => None,
    };
    let settings = connection.settings();
    let request = ConnectionTestRequest {
        serial: args.serial,
        mqtt_endpoint: args.mqtt_endpoint,
        port: args.port,
        attempts: args.attempts.unwrap_or_else(|| default_attempts(&settings)),
        server_ca_pem,
        topic_prefix: args.topic_prefix,
        ..ConnectionTestRequest::new(settings, args.ca)
    };
    let report = run_connection_test(Arc::new(station), request, |_| {}).await?;
    emit(ctx.json, &report, || text::connect_report(&report));
    if report.connected && report.round_trip {
        Ok(())
    } else {
        let server_untrusted = server_untrusted(&report);
        Err(Error::ConnectionTestFailed { serial: report.serial.clone(), attempts: report.attempts.len(), server_untrusted }.into())
    }
}

async fn run_emulator(ctx: &Context, args: EmulatorArgs) -> CliResult {
    let mut config = EmulatorConfig::in_project(&std::env::current_dir().unwrap_or_default(), ctx.data_dir.join("emulator"));
    if let Some(binary) = args.ministack {
        config.binary = binary;
    }
    config.api_port = args.api_port;
    config.mqtt_port = args.mqtt_port;
    let emulator = cloud_ops::start_emulator(config).await?;
    let info = serde_json::json!({
        "emulator": true,
        "endpointUrl": emulator.endpoint_url(),
        "mqttEndpoint": emulator.mqtt_address(),
        "region": EMULATOR_REGION,
        "log": emulator.log_path(),
    });
    emit(ctx.json, &info, || text::emulator(&emulator));
    tokio::signal::ctrl_c().await.map_err(|e| Error::Issue { detail: format!("cannot wait for Ctrl-C: {e}") })?;
    drop(emulator);
    Ok(())
}
