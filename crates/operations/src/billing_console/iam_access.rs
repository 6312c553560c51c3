//! `SetIAMAccessPreference`: whether IAM users and roles may use billing operations at all.
//!
//! AWS's default is off: until the root user turns it on, IAM users and roles are denied every
//! billing operation whatever their policies say (the gate is in the pipeline's authorization).
//! Only the root user may change it, and the root user is never affected by it.

use billtrail_protocol::ApiError;
use serde::{Deserialize, Serialize};

use crate::Context;

/// The preference as stored (kind [`IamAccessPreference::KIND`] in the account).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamAccessPreference {
    pub enabled: bool,
}

impl IamAccessPreference {
    pub const KIND: &'static str = "billing";
    pub const ID: &'static str = "iam_access";
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetIamAccessPreference {
    iam_access_enabled: bool,
}

pub(crate) fn set_iam_access_preference(
    cx: &mut Context<'_>,
    input: SetIamAccessPreference,
) -> Result<SetIamAccessPreference, ApiError> {
    if !cx.caller.is_root() {
        return Err(ApiError::access_denied(
            "Only the root user can change IAM users' and roles' access to billing.",
        ));
    }
    cx.put(
        IamAccessPreference::KIND,
        IamAccessPreference::ID,
        &IamAccessPreference {
            enabled: input.iam_access_enabled,
        },
    )?;
    Ok(input)
}
