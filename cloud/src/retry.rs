//! The one retry schedule ([`Backoff`]), and retrying calls that fail only because IAM changes have not
//! propagated yet (eventual consistency).

use std::future::Future;
use std::time::Duration;

use crate::error::{CloudError, Result};

/// Exponential back-off: wait `first`, then twice as long each time, never longer than `max`. Every retry loop
/// in Keyline (IAM propagation, the connection test's attempts) takes its waits from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Backoff {
    /// The connection test's schedule: 1 s, doubling up to 8 s (JITR needs a moment to activate a certificate).
    pub const CONNECT: Backoff = Backoff { first: Duration::from_secs(1), max: Duration::from_secs(8) };

    /// The waits in order, without end.
    pub fn delays(self) -> impl Iterator<Item = Duration> {
        std::iter::successors(Some(self.first), move |delay| Some((*delay * 2).min(self.max)))
    }
}

/// How long to keep retrying an IAM-dependent call, and how fast.
#[derive(Debug, Clone, Copy)]
pub struct PropagationRetry {
    /// Attempts in total (the first call included).
    pub attempts: u32,
    /// Delay before the second attempt; doubles each time up to `max_delay`.
    pub first_delay: Duration,
    /// Ceiling of the delay between attempts.
    pub max_delay: Duration,
}

impl Default for PropagationRetry {
    /// About a minute in total, which covers IAM propagation in practice.
    fn default() -> Self {
        Self { attempts: 10, first_delay: Duration::from_secs(1), max_delay: Duration::from_secs(10) }
    }
}

impl PropagationRetry {
    /// Runs `call` until it succeeds, fails with an error `is_propagation` does not accept, or attempts run out.
    pub async fn run<T, F, Fut>(
        &self,
        operation: &'static str,
        is_propagation: impl Fn(&CloudError) -> bool,
        mut call: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut delays = Backoff { first: self.first_delay, max: self.max_delay }.delays();
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(err) if is_propagation(&err) && attempt < self.attempts => {
                    tracing::info!(operation, attempt, error = %err, "IAM change not visible yet; retrying");
                    tokio::time::sleep(delays.next().unwrap_or(self.max_delay)).await;
                    attempt += 1;
                }
                Err(err) if is_propagation(&err) => {
                    return Err(CloudError::IamNotPropagated { operation, attempts: attempt, message: err.to_string() })
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// The Lambda error that means "the role exists but Lambda cannot assume it yet".
pub fn is_role_not_assumable(err: &CloudError) -> bool {
    matches!(err, CloudError::Aws { code, message, .. }
        if code == "InvalidParameterValueException" && message.contains("assume"))
}

/// The error AWS IoT gives while a just-created provisioning role is not usable yet.
pub fn is_role_not_usable_yet(err: &CloudError) -> bool {
    matches!(err, CloudError::Aws { code, message, .. }
        if (code == "InvalidRequestException" || code == "InvalidParameterValueException") && message.to_lowercase().contains("role"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn propagation_error() -> CloudError {
        CloudError::Aws {
            operation: "CreateFunction",
            code: "InvalidParameterValueException".into(),
            message: "The role defined for the function cannot be assumed by Lambda.".into(),
        }
    }

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let waits: Vec<u64> = Backoff::CONNECT.delays().take(6).map(|d| d.as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 8, 8]);
    }

    #[tokio::test]
    async fn retries_until_the_role_is_assumable() {
        let calls = AtomicU32::new(0);
        let retry = PropagationRetry { attempts: 5, first_delay: Duration::from_millis(1), max_delay: Duration::from_millis(2) };
        let value = retry
            .run("CreateFunction", is_role_not_assumable, || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 { Err(propagation_error()) } else { Ok(7) }
            })
            .await
            .unwrap();
        assert_eq!((value, calls.load(Ordering::SeqCst)), (7, 3));
    }

    #[tokio::test]
    async fn gives_up_with_a_clear_error() {
        let retry = PropagationRetry { attempts: 2, first_delay: Duration::from_millis(1), max_delay: Duration::from_millis(1) };
        let err = retry.run("CreateFunction", is_role_not_assumable, || async { Err::<(), _>(propagation_error()) }).await;
        assert!(matches!(err, Err(CloudError::IamNotPropagated { attempts: 2, .. })));
    }
}
