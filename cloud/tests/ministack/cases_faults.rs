//! Throttling and 5xx errors injected by a faulting proxy in front of ministack are retried by the SDK's standard
//! retry, and surface as clear Keyline errors when they persist.

use keyline_cloud::{ca, CloudContext, CloudError, CloudSettings};

use crate::faulty_proxy::{Fault, FaultyProxy};
use crate::server::API_PORT;
use crate::{case, ensure, Case, CaseResult, Env};

pub fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(throttling_is_retried_until_it_passes),
        case!(persistent_throttling_is_reported),
        case!(persistent_server_errors_are_reported),
    ]
}

async fn context_through(proxy: &FaultyProxy) -> Result<CloudContext, String> {
    CloudContext::connect(&CloudSettings::emulator(proxy.url.clone(), "us-east-1")).await.map_err(|e| e.to_string())
}

async fn throttling_is_retried_until_it_passes(_env: &Env) -> CaseResult {
    let proxy = FaultyProxy::start(API_PORT, Fault::Throttling, 2).await;
    let ctx = context_through(&proxy).await?;
    let code = ca::registration_code(&ctx).await.map_err(|e| format!("should have been retried: {e}"))?;
    ensure(code.len() == 64, || format!("code {code:?}"))?;
    ensure(proxy.seen() == 3, || format!("expected 2 throttled attempts and 1 success, saw {}", proxy.seen()))
}

async fn persistent_throttling_is_reported(_env: &Env) -> CaseResult {
    let proxy = FaultyProxy::start(API_PORT, Fault::Throttling, usize::MAX).await;
    let ctx = context_through(&proxy).await?;
    match ca::registration_code(&ctx).await {
        Err(err @ CloudError::Throttled { .. }) => {
            ensure(err.to_string().contains("Wait a minute"), || format!("message: {err}"))?;
            ensure(proxy.seen() == 3, || format!("expected 3 attempts, saw {}", proxy.seen()))
        }
        other => Err(format!("expected Throttled, got {other:?}")),
    }
}

async fn persistent_server_errors_are_reported(_env: &Env) -> CaseResult {
    let proxy = FaultyProxy::start(API_PORT, Fault::Unavailable, usize::MAX).await;
    let ctx = context_through(&proxy).await?;
    match ca::list_cas(&ctx).await {
        Err(CloudError::ServiceUnavailable { operation: "ListCACertificates", .. }) => {
            ensure(proxy.seen() == 3, || format!("expected 3 attempts, saw {}", proxy.seen()))
        }
        other => Err(format!("expected ServiceUnavailable, got {other:?}")),
    }
}
