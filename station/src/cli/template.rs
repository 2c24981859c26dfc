//! `keyline template ...`: firmware certificate definitions (`cert_chain.c`) for a signer CA.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use keyline_station::Error;

use super::output::emit;
use super::{CliResult, Context, Run};

/// Template commands.
#[derive(Subcommand)]
pub enum TemplateCommand {
    /// Generate cert_chain.c and cert_chain.h for a firmware profile and signer CA.
    ///
    /// Profiles: rainbowtype, esp-cryptoauthlib, trustflex. With -o, cert_chain.h is written next
    /// to the .c file; without it the C source is printed. The CA key is not needed.
    CertChain {
        /// Signer CA (in the store, with the CA that issued it).
        #[arg(long)]
        ca: String,
        /// Firmware profile.
        #[arg(long)]
        profile: String,
        /// Where to write cert_chain.c.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::Io { action: "cannot write", path: path.to_path_buf(), source })
}

impl Run for TemplateCommand {
    fn run(self, ctx: &Context) -> CliResult {
        let station = ctx.station()?;
        match self {
            TemplateCommand::CertChain { ca, profile, output } => {
                let template = station.device_template(&ca, &profile)?;
                if let Some(path) = &output {
                    let header = path.with_file_name("cert_chain.h");
                    write(path, &template.cert_chain_c)?;
                    write(&header, &template.cert_chain_h)?;
                    emit(ctx.json, &template, || format!("Wrote {} and {} ({} profile, signer {ca})\n", path.display(), header.display(), template.profile));
                } else {
                    emit(ctx.json, &template, || template.cert_chain_c.clone());
                }
            }
        }
        Ok(())
    }
}
