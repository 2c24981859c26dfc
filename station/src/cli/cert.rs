//! `keyline cert ...`: certificates issued by a CA.

use clap::Subcommand;

use super::output::emit;
use super::{passphrase, CliResult, Context, Run};

/// Certificate commands.
#[derive(Subcommand)]
pub enum CertCommand {
    /// Issue an AWS IoT verification certificate (CN = the registration code) from a CA.
    ///
    /// Writes cloud/certs/<code>.pem; its throwaway key goes to cloud/keys/<code>.key,
    /// encrypted under the CA's passphrase.
    Verification {
        /// CA that signs it (the one being registered with AWS IoT).
        #[arg(long)]
        ca: String,
        /// Registration code from `aws iot get-registration-code`.
        #[arg(long)]
        code: String,
    },
    /// Issue a device certificate that fits a firmware profile (from a CSR or a public key).
    Sign(super::cert_sign::SignArgs),
    /// Issue the device-management server's TLS certificate (writes PREFIX.key, .crt and .chain).
    Server(super::ota::CertServerArgs),
    /// Issue an operator client TLS certificate (CN = the peer id; writes PREFIX.key, .crt and .chain).
    Client(super::ota::CertClientArgs),
}

impl Run for CertCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let station = ctx.station()?;
        match self {
            CertCommand::Sign(args) => return super::cert_sign::run(args, ctx, &station),
            CertCommand::Server(args) => return super::ota::cert_server(args, ctx, &station),
            CertCommand::Client(args) => return super::ota::cert_client(args, ctx, &station),
            CertCommand::Verification { ca, code } => {
                passphrase::unlock_existing(&station, &ca)?;
                let cert = station.make_verification_cert(&ca, &code)?;
                emit(ctx.json, &cert, || match &cert.key_path {
                    Some(key_path) => format!(
                        "Verification certificate for code {code} written to {}\n(key, encrypted: {})\n",
                        cert.cert_path.display(),
                        key_path.display()
                    ),
                    None => format!("Verification certificate for code {code} written to {} (signed in the token)\n", cert.cert_path.display()),
                });
            }
        }
        Ok(())
    }
}
