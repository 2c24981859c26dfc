//! Probing a helper whose prompt this host did not see, without crashing one that a killed host left
//! in the middle of a payload.
//!
//! The helper may be in its handshake window (it reads exactly 7 bytes), at its command line (it
//! echoes), reading a payload (it reads silently up to a NUL or 1199 bytes), or gone (crashed, or its
//! command line never started). `version` answers the first two. Silence then means an open payload or
//! a helper that is gone: the probe ends the payload with [`PAYLOAD_FILL`] characters and a NUL. A
//! `version` and a NUL alone would end an open `provide-cert-def` at 7 characters, and the helper's
//! cert-def parser (`handlers.c` `get_cert_def`: `(strlen - 72) / 2` in an unsigned size) then allocates
//! ~2 GiB, fails and stores through NULL: the helper crashes and the board needs a reset and a new RAM
//! load. With the fill the parser reads 74 characters: every field `0`, a one-byte template, kept only
//! until the next `provide-cert-def` (Keyline sends one before every program command). An open
//! `program-*-cert` fails its CRC check on the fill. Either way nothing reaches the chip.

use super::EspHelper;
use crate::parse::esp_helper::{self as p, PROMPT};
use crate::parse::normalise;
use crate::BoardError;

/// Characters sent before the NUL that ends an open payload: with the probe's 7-character `version`,
/// 74 characters, above the 72 of the cert-def string's 18 fields (a shorter cert-def crashes the helper)
/// and an even count of template digits. A payload that already held more than 1124 characters runs
/// into the helper's 1199-byte limit; the rest of the fill then lands on the command line as an unknown
/// command, which is harmless too.
pub(super) const PAYLOAD_FILL: usize = 67;

enum Probe {
    /// A prompt (the handshake window answered `version`).
    Prompt(String),
    /// The command line echoed `version`.
    Echo,
    /// The helper printed that it stopped for good.
    Gone(&'static str),
}

impl EspHelper {
    /// Finds the helper's version on a board that printed nothing since the port was opened.
    pub(super) fn probe_silent_board(&mut self) -> Result<String, BoardError> {
        self.link.clear();
        self.link.write(b"version")?;
        let seen = self.link.read_until("a reply to `version`", self.timeouts.silent_probe, |raw| {
            let text = normalise(raw);
            if let Some(what) = p::helper_gone(&text) {
                Some(Probe::Gone(what))
            } else if text.contains(PROMPT) {
                Some(Probe::Prompt(text))
            } else if text.ends_with("version") {
                Some(Probe::Echo)
            } else {
                None
            }
        });
        match seen {
            Ok(Probe::Prompt(text)) => p::handshake_version(&text, 0)?.ok_or(BoardError::Malformed { what: "version", reason: "no version before the prompt".into() }),
            Ok(Probe::Echo) => {
                // Command line: finish the line.
                self.link.clear();
                self.link.write(b"\r")?;
                self.link.read_until("the prompt after `version`", self.timeouts.command, |raw| p::command_reply(&normalise(raw)))?;
                self.version_command()
            }
            Ok(Probe::Gone(what)) => Err(BoardError::HelperNotAnswering { seen: what.into() }),
            Err(BoardError::Timeout { .. }) => {
                self.end_open_payload()?;
                self.version_command()
            }
            Err(e) => Err(e),
        }
    }

    /// Ends a payload read an interrupted host left open (see the module doc); a helper that stays
    /// silent is gone.
    fn end_open_payload(&mut self) -> Result<(), BoardError> {
        self.link.clear();
        let mut fill = vec![b'0'; PAYLOAD_FILL];
        fill.push(0);
        self.link.write(&fill)?;
        let ended = self.link.read_until("the prompt after ending an open payload", self.timeouts.command, |raw| {
            let text = normalise(raw);
            match p::helper_gone(&text) {
                Some(what) => Some(Err(what)),
                None => p::command_reply(&text).map(|_| Ok(())),
            }
        });
        match ended {
            Ok(Ok(())) => Ok(()),
            Ok(Err(what)) => Err(BoardError::HelperNotAnswering { seen: what.into() }),
            Err(BoardError::Timeout { waited_ms, .. }) => Err(BoardError::HelperNotAnswering {
                seen: format!("silent: no echo of `version`, and no prompt within {waited_ms} ms after the end of a payload a stopped host may have left open"),
            }),
            Err(e) => Err(e),
        }
    }
}
