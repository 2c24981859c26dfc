//! Connection settings: the standard AWS credential chain, the region, an optional endpoint override, and the
//! identity they resolve to. Keyline never stores AWS secrets; it only remembers a profile name and a region.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_iot::config::Credentials;
use serde::{Deserialize, Serialize};

use crate::error::{from_sdk, CloudError, Result};

/// Where the SDK clients point and whose credentials they use.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CloudSettings {
    /// A named profile from `~/.aws/config` (SSO, credential_process, static). `None` = the default chain.
    pub profile: Option<String>,
    /// The region. `None` = from the environment or the profile.
    pub region: Option<String>,
    /// An endpoint override for all services (e.g. `http://127.0.0.1:4566` for ministack).
    /// `None` still honours `AWS_ENDPOINT_URL` from the environment.
    pub endpoint_url: Option<String>,
    /// Use fixed dummy credentials, for a local emulator that needs no real ones.
    pub emulator: bool,
}

impl CloudSettings {
    /// Settings for a local emulator such as ministack at `endpoint_url`.
    pub fn emulator(endpoint_url: impl Into<String>, region: impl Into<String>) -> Self {
        Self { profile: None, region: Some(region.into()), endpoint_url: Some(endpoint_url.into()), emulator: true }
    }

    /// Real credentials travel only over TLS: an endpoint override must be `https://` unless `emulator` is set.
    pub fn check_endpoint(&self) -> Result<()> {
        match self.effective_endpoint_url() {
            Some(url) if !self.emulator && !url.trim().to_ascii_lowercase().starts_with("https://") => {
                Err(CloudError::InsecureEndpoint { url })
            }
            _ => Ok(()),
        }
    }

    /// The endpoint override in force: the explicit setting, else `AWS_ENDPOINT_URL`.
    pub fn effective_endpoint_url(&self) -> Option<String> {
        self.endpoint_url
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok().filter(|url| !url.trim().is_empty()))
    }
}

/// The SDK clients for one account and region.
#[derive(Debug, Clone)]
pub struct CloudContext {
    /// AWS IoT control plane.
    pub iot: aws_sdk_iot::Client,
    /// IAM, for the Lambda execution role.
    pub iam: aws_sdk_iam::Client,
    /// Lambda, for the activation function.
    pub lambda: aws_sdk_lambda::Client,
    /// DynamoDB, for the allow-list.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// STS, for the caller identity.
    pub sts: aws_sdk_sts::Client,
    /// The resolved region.
    pub region: String,
    /// The endpoint override in force, if any.
    pub endpoint_url: Option<String>,
    /// True when pointed at a local emulator.
    pub emulator: bool,
}

/// Who the settings resolve to, shown before anything is changed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CallerIdentity {
    /// The 12-digit account id.
    pub account: String,
    /// The caller's ARN (user, role session, …).
    pub arn: String,
    /// The resolved region.
    pub region: String,
    /// The endpoint override in force, if any.
    pub endpoint_url: Option<String>,
    /// True when this is a local emulator, not AWS.
    pub emulator: bool,
}

impl CloudContext {
    /// Resolves credentials and region through the standard chain and builds every client.
    /// Refuses a plain-HTTP endpoint override unless the settings are for an emulator (dummy credentials).
    pub async fn connect(settings: &CloudSettings) -> Result<Self> {
        settings.check_endpoint()?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url.trim_end_matches('/'));
        }
        if settings.emulator {
            loader = loader.credentials_provider(Credentials::new("test", "test", None, None, "keyline-emulator"));
        }
        let config = loader.load().await;
        let region = config.region().map(|r| r.to_string()).ok_or(CloudError::NoRegion)?;
        Ok(Self {
            iot: aws_sdk_iot::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
            region,
            endpoint_url: settings.effective_endpoint_url(),
            emulator: settings.emulator,
        })
    }

    /// Asks STS who we are (GetCallerIdentity needs no permissions).
    pub async fn identity(&self) -> Result<CallerIdentity> {
        let out = self.sts.get_caller_identity().send().await.map_err(|e| from_sdk("GetCallerIdentity", e))?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            emulator: self.emulator,
        })
    }

    /// The account id, from STS.
    pub async fn account_id(&self) -> Result<String> {
        Ok(self.identity().await?.account)
    }

    /// The account's `iot:Data-ATS` endpoint host name (without any port), used as the MQTT SNI.
    pub async fn data_ats_endpoint(&self) -> Result<String> {
        let out = self
            .iot
            .describe_endpoint()
            .endpoint_type("iot:Data-ATS")
            .send()
            .await
            .map_err(|e| from_sdk("DescribeEndpoint", e))?;
        let address = out.endpoint_address().unwrap_or_default();
        // Emulators append their HTTP port; the MQTT SNI is the bare host name.
        Ok(address.split(':').next().unwrap_or_default().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_endpoint_wins_over_nothing() {
        let settings = CloudSettings::emulator("http://127.0.0.1:4566", "us-east-1");
        assert_eq!(settings.effective_endpoint_url().as_deref(), Some("http://127.0.0.1:4566"));
        assert!(settings.emulator);
    }

    #[test]
    fn real_credentials_need_an_https_endpoint() {
        let plain = CloudSettings { endpoint_url: Some("http://10.0.0.5:4566".into()), ..Default::default() };
        assert!(matches!(plain.check_endpoint(), Err(CloudError::InsecureEndpoint { .. })));
        let tls = CloudSettings { endpoint_url: Some("https://iot.example.com".into()), ..Default::default() };
        assert!(tls.check_endpoint().is_ok());
        assert!(CloudSettings::emulator("http://127.0.0.1:4566", "us-east-1").check_endpoint().is_ok());
    }
}
