//! Whether a principal may call an operation.
//!
//! Today only the account's root user and billtrail's own services hold credentials, and both may
//! call everything in their own account. IAM users and role sessions, their policies and the
//! seed's IAM-access-to-billing preference are evaluated here once they exist; until then any
//! other principal is denied, never silently allowed.

use billtrail_auth::principal::{Identity, Principal};
use billtrail_protocol::ApiError;

use crate::OpSpec;

pub(crate) fn authorize(principal: &Principal, op: &OpSpec) -> Result<(), ApiError> {
    match principal.identity {
        Identity::Root | Identity::AwsService { .. } => Ok(()),
        _ => Err(ApiError::access_denied(format!(
            "User: {} is not authorized to perform: {}",
            principal.arn(),
            op.action
        ))),
    }
}
