//! Cloud failures at the station boundary: the [`ErrorCode`] of each `CloudError`, and what to do next written
//! for the CLI or for the desktop window.

use keyline_cloud::CloudError;

use crate::error_code::{Audience, ErrorCode};

/// The station code of a cloud error.
pub(crate) fn code(error: &CloudError) -> ErrorCode {
    match error {
        CloudError::NoCredentials { .. } => ErrorCode::CloudNoCredentials,
        CloudError::NoRegion => ErrorCode::CloudNoRegion,
        CloudError::AccessDenied { .. } => ErrorCode::CloudAccessDenied,
        CloudError::Throttled { .. } => ErrorCode::CloudThrottled,
        CloudError::ServiceUnavailable { .. } => ErrorCode::CloudServiceUnavailable,
        CloudError::Unreachable { .. } => ErrorCode::CloudUnreachable,
        CloudError::WrongRegistrationCode { .. } => ErrorCode::CloudWrongRegistrationCode,
        CloudError::VerificationCertFromAnotherKey { .. } => ErrorCode::CloudVerificationCertWrongKey,
        CloudError::VerificationCertMismatch { .. } => ErrorCode::CloudVerificationCertMode,
        CloudError::CaAlreadyRegistered { .. } => ErrorCode::CloudCaAlreadyRegistered,
        CloudError::CaNotRegistered { .. } => ErrorCode::CloudCaNotRegistered,
        CloudError::CaStillActive { .. } => ErrorCode::CloudCaStillActive,
        CloudError::CaHasDeviceCertificates { .. } => ErrorCode::CloudCaHasDevices,
        CloudError::CertificateState { .. } => ErrorCode::CloudCertificateState,
        CloudError::DeviceNotFound { .. } => ErrorCode::CloudDeviceNotFound,
        CloudError::InvalidCertificate { .. } => ErrorCode::CloudInvalidCertificate,
        CloudError::InvalidKey { .. } => ErrorCode::CloudInvalidKey,
        CloudError::InvalidSerial { .. } => ErrorCode::CloudInvalidSerial,
        CloudError::InvalidPolicyTemplate { .. } => ErrorCode::CloudInvalidPolicyTemplate,
        CloudError::IamNotPropagated { .. } => ErrorCode::CloudIamNotPropagated,
        CloudError::TemplateFieldMissing { .. } => ErrorCode::CloudTemplateFieldMissing,
        CloudError::InsecureEndpoint { .. } => ErrorCode::CloudInsecureEndpoint,
        CloudError::StackIncomplete { .. } => ErrorCode::CloudStackIncomplete,
        CloudError::ReadFile { .. } => ErrorCode::CloudReadFile,
        CloudError::ConnectionTest { .. } => ErrorCode::CloudConnectionTest,
        CloudError::Emulator { .. } => ErrorCode::CloudEmulator,
        // Any AWS error without a variant of its own (new variants of the cloud crate land here until mapped).
        _ => ErrorCode::CloudAwsError,
    }
}

/// What to check next after a cloud failure.
pub(crate) fn hint(error: &CloudError, audience: Audience) -> &'static str {
    match (error, audience) {
        (CloudError::NoCredentials { .. } | CloudError::NoRegion | CloudError::AccessDenied { .. }, Audience::Cli) => {
            "Run `keyline cloud identity` to see which account, identity and region are in use."
        }
        (CloudError::NoCredentials { .. } | CloudError::NoRegion | CloudError::AccessDenied { .. }, Audience::Gui) => {
            "Check the profile and region on the wizard's first step; Check identity shows which account and identity are in use."
        }
        (CloudError::Emulator { .. }, _) => "Run `scripts/keyline-dev.sh setup` to install the pinned ministack into .venv.",
        (CloudError::Aws { .. } | CloudError::ServiceUnavailable { .. } | CloudError::Unreachable { .. }, Audience::Cli) => {
            "The log file has the full AWS error; `keyline cloud identity` checks the connection settings."
        }
        (CloudError::Aws { .. } | CloudError::ServiceUnavailable { .. } | CloudError::Unreachable { .. }, Audience::Gui) => {
            "The log panel has the full AWS error; Check identity on the wizard's first step checks the connection settings."
        }
        _ => "Follow the advice in the message, then run the command again.",
    }
}
