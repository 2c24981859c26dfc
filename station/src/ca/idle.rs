//! Idle auto-lock: a CA passphrase held by this process is dropped once it has gone unused for the idle-lock time
//! (default 15 minutes, set by the user). Time comes from the station's clock, never a global one.

use std::time::Duration;

use time::OffsetDateTime;

use crate::{Passphrase, Station};

/// How long an unlocked CA stays unlocked without use, unless the user sets another time.
pub const DEFAULT_IDLE_LOCK: Duration = Duration::from_secs(15 * 60);

/// A passphrase held for one CA and when it was last used.
#[derive(Clone)]
pub(crate) struct Held {
    passphrase: Passphrase,
    last_used: OffsetDateTime,
}

impl Station {
    /// Sets the idle-lock time (`None`: unlocked CAs stay unlocked until locked by hand or the process ends).
    pub fn set_idle_lock(&self, after: Option<Duration>) {
        *self.idle_lock.lock().unwrap_or_else(|p| p.into_inner()) = after;
    }

    /// The idle-lock time.
    pub fn idle_lock(&self) -> Option<Duration> {
        *self.idle_lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Locks every CA idle for the idle-lock time or longer; returns their names. The app calls this periodically so
    /// that a CA locks on time even when nothing asks for it.
    pub fn lock_idle_cas(&self) -> Vec<String> {
        let now = self.clock.now();
        let mut held = self.unlocked.lock().unwrap_or_else(|p| p.into_inner());
        let idle: Vec<String> = held.iter().filter(|(_, h)| self.expired(h, now)).map(|(name, _)| name.clone()).collect();
        for name in &idle {
            held.remove(name);
            tracing::info!(ca = %name, "CA locked after being idle for the idle-lock time");
        }
        idle
    }

    /// Keep `passphrase` for `name`, used now.
    pub(crate) fn hold_passphrase(&self, name: &str, passphrase: &Passphrase) {
        let held = Held { passphrase: passphrase.clone(), last_used: self.clock.now() };
        self.unlocked.lock().unwrap_or_else(|p| p.into_inner()).insert(name.to_owned(), held);
    }

    /// The passphrase of `name` if it is held and not idle past the lock time; this use restarts its idle time.
    pub(crate) fn held_passphrase(&self, name: &str) -> Option<Passphrase> {
        self.lock_idle_cas();
        let mut held = self.unlocked.lock().unwrap_or_else(|p| p.into_inner());
        let entry = held.get_mut(name)?;
        entry.last_used = self.clock.now();
        Some(entry.passphrase.clone())
    }

    /// Whether `name` is unlocked in this process (looking does not count as use).
    pub(crate) fn is_unlocked(&self, name: &str) -> bool {
        self.lock_idle_cas();
        self.unlocked.lock().unwrap_or_else(|p| p.into_inner()).contains_key(name)
    }

    /// Drop the passphrase of `name` from this process.
    pub(crate) fn release_passphrase(&self, name: &str) {
        self.unlocked.lock().unwrap_or_else(|p| p.into_inner()).remove(name);
    }

    fn expired(&self, held: &Held, now: OffsetDateTime) -> bool {
        match self.idle_lock() {
            Some(after) => now - held.last_used >= after,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::clock::FixedClock;

    use super::*;

    #[test]
    fn an_unlocked_ca_locks_after_the_idle_time_and_each_use_restarts_it() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()));
        let station = Station::open_with_clock(dir.path().to_path_buf(), clock.clone()).unwrap();
        assert_eq!(station.idle_lock(), Some(DEFAULT_IDLE_LOCK));
        station.hold_passphrase("signer", &Passphrase::from("a passphrase"));

        clock.advance(time::Duration::minutes(14));
        assert!(station.is_unlocked("signer"), "looking is not use");
        assert!(station.held_passphrase("signer").is_some(), "a use at 14 minutes");
        clock.advance(time::Duration::minutes(14));
        assert!(station.is_unlocked("signer"), "14 minutes after the last use");
        clock.advance(time::Duration::minutes(1));
        assert_eq!(station.lock_idle_cas(), vec!["signer".to_string()]);
        assert!(station.held_passphrase("signer").is_none());

        station.set_idle_lock(Some(Duration::from_secs(60)));
        station.hold_passphrase("signer", &Passphrase::from("a passphrase"));
        clock.advance(time::Duration::seconds(59));
        assert!(station.is_unlocked("signer"));
        clock.advance(time::Duration::seconds(1));
        assert!(!station.is_unlocked("signer"), "the user's shorter time");

        station.set_idle_lock(None);
        station.hold_passphrase("signer", &Passphrase::from("a passphrase"));
        clock.advance(time::Duration::days(2));
        assert!(station.is_unlocked("signer"), "no idle lock");
    }
}
