//! [`OptionsOnly`]: lets a command that takes options but no subcommand sit in the command-group list.

use clap::{ArgMatches, Args, Command, FromArgMatches};

/// A command made of options only (`keyline provision --port …`).
pub struct OptionsOnly<T>(pub T);

impl<T: Args> FromArgMatches for OptionsOnly<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(OptionsOnly)
    }
    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }
}

impl<T: Args> clap::Subcommand for OptionsOnly<T> {
    fn augment_subcommands(cmd: Command) -> Command {
        T::augment_args(cmd).subcommand_required(false).arg_required_else_help(false)
    }
    fn augment_subcommands_for_update(cmd: Command) -> Command {
        T::augment_args_for_update(cmd).subcommand_required(false).arg_required_else_help(false)
    }
    fn has_subcommand(_name: &str) -> bool {
        false
    }
}
