//! The crate's error type, and the translation of AWS service errors into what the operator should do.

use aws_credential_types::provider::error::{CredentialsError, TokenError};
use aws_sdk_iot::error::{ProvideErrorMetadata, SdkError};

/// Everything that can go wrong while connecting Keyline to AWS IoT.
///
/// Each message says what went wrong and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloudError {
    /// The credential chain found nothing usable.
    #[error("no usable AWS credentials ({detail}). Sign in with `aws sso login --profile NAME` and pass --profile, \
             or set AWS_PROFILE / AWS_ACCESS_KEY_ID; Keyline never stores AWS secrets itself")]
    NoCredentials { detail: String },
    /// No region in the settings, the environment or the profile.
    #[error("no AWS region is configured. Pass --region, set AWS_REGION, or add a region to the profile")]
    NoRegion,
    /// The identity lacks a permission.
    #[error("AWS denied {operation}: {message}. Grant this identity the permission or use a profile that has it")]
    AccessDenied { operation: &'static str, message: String },
    /// AWS kept throttling after the SDK's retries.
    #[error("AWS throttled {operation} even after retries: {message}. Wait a minute and run the command again")]
    Throttled { operation: &'static str, message: String },
    /// The service answered with a server error after the SDK's retries.
    #[error("AWS failed {operation} with a server error after retries: {message}. Try again later; if it persists check the AWS Health Dashboard")]
    ServiceUnavailable { operation: &'static str, message: String },
    /// No answer at all: network, DNS, wrong endpoint URL.
    #[error("could not reach AWS for {operation}: {detail}. Check the network, the region and --endpoint-url")]
    Unreachable { operation: &'static str, detail: String },
    /// The verification certificate's CN is not this account's registration code.
    #[error("the verification certificate does not carry this account's registration code ({message}). \
             Fetch the code again with `keyline cloud register-ca` (it is per account and region) and make a new verification certificate")]
    WrongRegistrationCode { message: String },
    /// The verification certificate was not signed by the CA being registered.
    #[error("the verification certificate was not signed by this CA's key ({message}). \
             Make it again with the private key of the CA you are registering")]
    VerificationCertFromAnotherKey { message: String },
    /// DEFAULT mode without a verification certificate, or SNI_ONLY with one.
    #[error("the verification certificate does not fit the registration mode ({message}). \
             DEFAULT mode needs one, SNI_ONLY mode must not have one")]
    VerificationCertMismatch { message: String },
    /// The CA is already registered (possibly by another account in DEFAULT mode).
    #[error("CA {ca_id} is already registered ({message}). Re-run `keyline cloud register-ca` to reconcile it, \
             or use SNI_ONLY mode if another account holds it in DEFAULT mode")]
    CaAlreadyRegistered { ca_id: String, message: String },
    /// The CA is not registered in this account and region.
    #[error("CA {ca_id} is not registered in this account and region. Run `keyline cloud register-ca` first")]
    CaNotRegistered { ca_id: String },
    /// Deleting a CA that is still ACTIVE.
    #[error("CA {ca_id} is still ACTIVE and cannot be deleted. Run `keyline cloud ca deactivate` first")]
    CaStillActive { ca_id: String },
    /// Deleting a CA that still has device certificates.
    #[error("CA {ca_id} still has {count} device certificate(s). Revoke and delete them first, or pass --force")]
    CaHasDeviceCertificates { ca_id: String, count: usize },
    /// A device certificate is in a state that forbids the change.
    #[error("certificate {certificate_id} cannot change state: {message}. Check its status with `keyline cloud devices show`")]
    CertificateState { certificate_id: String, message: String },
    /// No device certificate with that id or serial.
    #[error("no device certificate matches {query}. Check the serial or certificate id with `keyline cloud devices list`")]
    DeviceNotFound { query: String },
    /// Malformed PEM or certificate input.
    #[error("the {what} is not a valid certificate: {detail}. Export it again as PEM")]
    InvalidCertificate { what: &'static str, detail: String },
    /// Malformed private key input.
    #[error("the {what} is not a usable private key: {detail}. Hand over an unencrypted PKCS#8 P-256 key")]
    InvalidKey { what: &'static str, detail: String },
    /// A serial that cannot be a thing name / allow-list key.
    #[error("{serial:?} is not a valid device serial: use 1-128 characters from A-Z a-z 0-9 _ - :")]
    InvalidSerial { serial: String },
    /// A user-supplied device policy template is unusable.
    #[error("the device policy template is unusable: {detail}. Fix the JSON; placeholders are {{{{region}}}}, {{{{account}}}} and {{{{topic_prefix}}}}")]
    InvalidPolicyTemplate { detail: String },
    /// IAM did not become usable within the retry budget.
    #[error("{operation} still failed after {attempts} attempts while IAM propagated ({message}). Wait a minute and deploy again")]
    IamNotPropagated { operation: &'static str, attempts: u32, message: String },
    /// A JITP template names a certificate field the CA's device certificates do not carry.
    #[error("the provisioning template needs {parameter}, which the CA's device certificates do not carry; JITP would fail \
             for every device. Use only fields the certificates have (Keyline's carry CN and O) or give the parameter a default")]
    TemplateFieldMissing { parameter: String },
    /// An emulator-style plain-HTTP endpoint with real credentials.
    #[error("the endpoint override {url} is not https:// and would send real AWS credentials unencrypted. Use an https:// \
             endpoint, or --emulator for a local emulator with dummy credentials")]
    InsecureEndpoint { url: String },
    /// A JITR stack piece is missing when it is needed.
    #[error("the JITR stack for CA {ca_id} is incomplete: {missing}. Run `keyline cloud jitr deploy --ca NAME`")]
    StackIncomplete { ca_id: String, missing: String },
    /// A file of serials could not be read.
    #[error("cannot read {path}: {source}. Check the path and permissions")]
    ReadFile { path: String, #[source] source: std::io::Error },
    /// The MQTT connection test failed in a phase.
    #[error("connection test failed while {phase}: {detail}")]
    ConnectionTest { phase: &'static str, detail: String },
    /// The local emulator (practice mode) could not be started or used.
    #[error("the local AWS emulator (ministack) failed: {detail}")]
    Emulator { detail: String },
    /// Any other AWS error, with the service's own code and message.
    #[error("AWS rejected {operation}: {code}: {message}")]
    Aws { operation: &'static str, code: String, message: String },
}

/// Result alias for this crate.
pub type Result<T, E = CloudError> = std::result::Result<T, E>;

/// The AWS error code of an SDK error, if the service sent one.
pub(crate) fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// Translates an SDK error into a [`CloudError`] the operator can act on.
///
/// Operation-specific codes (registration code, verification certificate, …) get their own variants;
/// everything else falls back to [`CloudError::Aws`] with the service's code and message.
pub(crate) fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let message = match &err {
        SdkError::ServiceError(service) => service.err().message().unwrap_or_default().to_string(),
        other => display_chain(other),
    };
    match &err {
        // The credential chain fails inside the dispatch stage, so look for it before "unreachable".
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) if is_credentials_failure(&err) => {
            return CloudError::NoCredentials { detail: message };
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            return CloudError::Unreachable { operation, detail: message };
        }
        _ => {}
    }
    let code = error_code(&err).unwrap_or("Unknown").to_string();
    match code.as_str() {
        "RegistrationCodeValidationException" => CloudError::WrongRegistrationCode { message },
        "CertificateValidationException" => CloudError::VerificationCertFromAnotherKey { message },
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "ProvisionedThroughputExceededException" => {
            CloudError::Throttled { operation, message }
        }
        "ServiceUnavailableException" | "InternalFailureException" | "InternalServerError" | "ServiceException" => {
            CloudError::ServiceUnavailable { operation, message }
        }
        "AccessDeniedException" | "AccessDenied" | "UnauthorizedException" | "UnrecognizedClientException" => {
            CloudError::AccessDenied { operation, message }
        }
        "ExpiredToken" | "ExpiredTokenException" | "InvalidClientTokenId" => {
            CloudError::NoCredentials { detail: message }
        }
        _ => CloudError::Aws { operation, code, message },
    }
}

/// Whether the credential chain (or the SSO token provider) failed: a [`CredentialsError`] or [`TokenError`] in the
/// error's source chain, found by type, never by message text.
fn is_credentials_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(err), |e| e.source()).any(|e| e.is::<CredentialsError>() || e.is::<TokenError>())
}

/// The error and its sources joined by ": ", because SDK errors hide the useful part in the chain.
pub(crate) fn display_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

/// Extension for "absent" checks: true when the error is one of the given AWS codes.
pub(crate) fn is_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>, codes: &[&str]) -> bool {
    error_code(err).is_some_and(|code| codes.contains(&code))
}

/// The codes that mean "this resource does not exist", across IoT, IAM, Lambda and DynamoDB.
pub(crate) const NOT_FOUND: &[&str] = &["ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException"];

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iot::error::ConnectorError;

    type Err = SdkError<aws_sdk_iot::operation::get_registration_code::GetRegistrationCodeError, ()>;

    #[test]
    fn missing_credentials_are_found_by_type_in_the_source_chain() {
        let err: Err = SdkError::dispatch_failure(ConnectorError::other(
            Box::new(CredentialsError::not_loaded("no providers in chain provided credentials")),
            None,
        ));
        assert!(matches!(from_sdk("GetRegistrationCode", err), CloudError::NoCredentials { .. }));
        let expired: Err = SdkError::dispatch_failure(ConnectorError::other(Box::new(TokenError::not_loaded("the SSO token expired")), None));
        assert!(matches!(from_sdk("GetRegistrationCode", expired), CloudError::NoCredentials { .. }));
    }

    #[test]
    fn a_message_that_mentions_credentials_is_not_taken_for_a_credentials_failure() {
        let err: Err = SdkError::dispatch_failure(ConnectorError::io("proxy said: credentials header rejected".into()));
        let translated = from_sdk("GetRegistrationCode", err);
        assert!(matches!(translated, CloudError::Unreachable { .. }), "{translated:?}");
    }

    #[test]
    fn a_dead_endpoint_is_unreachable() {
        let err: Err = SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        let translated = from_sdk("GetRegistrationCode", err);
        assert!(matches!(translated, CloudError::Unreachable { operation: "GetRegistrationCode", .. }), "{translated:?}");
        assert!(translated.to_string().contains("--endpoint-url"));
    }
}
