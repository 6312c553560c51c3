//! `billingconsole.amazonaws.com`: the Billing console's account, address, tax, payment, report
//! and bill operations.
//!
//! State kinds used here (all in the caller's account): `address` (`contact`, `billing`, `tax`),
//! `account` (`profile`).

mod account;
mod addresses;
pub mod countries;
mod iam_access;

use crate::{op, OpSpec};

pub use account::{AccountProfile, PROFILE_ID, PROFILE_KIND};
pub use iam_access::IamAccessPreference;

/// The operations of the service. Their read-only flags are the seed's table's (a test checks).
pub(crate) const OPERATIONS: &[OpSpec] = &[
    op!(BillingConsole, "GetAddresses", read_only: true, action: "aws-portal:ViewBilling", addresses::get_addresses),
    op!(BillingConsole, "SetContactAddress", read_only: false, action: "aws-portal:ModifyAccount", addresses::set_contact_address),
    op!(BillingConsole, "ValidateAddress", read_only: true, action: "tax:GetTaxRegistration", addresses::validate_address),
    op!(BillingConsole, "GetSupportedCountryCodes", read_only: true, action: "tax:GetTaxRegistration", countries::get_supported_country_codes),
    op!(BillingConsole, "SetAccountPreferences", read_only: false, action: "aws-portal:ModifyAccount", account::set_account_preferences),
    op!(BillingConsole, "SetIAMAccessPreference", read_only: false, action: "aws-portal:ModifyAccount", iam_access::set_iam_access_preference),
];
