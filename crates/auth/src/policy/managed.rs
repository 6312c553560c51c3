//! The AWS managed policies billtrail ships.
//!
//! Each document is AWS's own text, pinned to one version (AWS edits these
//! often): the default version stored in the iann0036/iam-dataset snapshot of
//! 2026-08, which matches `/work/shared/reference/iam-actions.md` §4 for every
//! policy printed there. `AdministratorAccess` has never changed (v1).
//! `ReadOnlyAccess` is the full v188 document (about 2,900 actions across
//! every service), not a billing subset, so that it answers as AWS would for
//! any action a caller asks about.
//!
//! The JSON files sit beside this module in `managed/` and are embedded at
//! compile time; they are parsed once, on first use.

use std::sync::OnceLock;

use super::PolicyDocument;

/// One AWS managed policy, as `GetPolicy` describes it.
#[derive(Debug)]
pub struct ManagedPolicy {
    pub arn: &'static str,
    /// `PolicyName`.
    pub name: &'static str,
    /// `Path`: `/` or `/job-function/`.
    pub path: &'static str,
    /// `DefaultVersionId` of the pinned document.
    pub version_id: &'static str,
    /// When AWS published that version (ISO 8601, UTC).
    pub version_date: &'static str,
    /// The document's JSON text.
    pub document: &'static str,
}

macro_rules! managed {
    ($arn:literal, $name:literal, $path:literal, $version:literal, $date:literal) => {
        ManagedPolicy {
            arn: $arn,
            name: $name,
            path: $path,
            version_id: $version,
            version_date: $date,
            document: include_str!(concat!("managed/", $name, ".json")),
        }
    };
}

static POLICIES: [ManagedPolicy; 8] = [
    managed!(
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "AdministratorAccess",
        "/",
        "v1",
        "2015-02-06T18:39:46Z"
    ),
    managed!(
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "ReadOnlyAccess",
        "/",
        "v188",
        "2026-07-21T18:42:30Z"
    ),
    managed!(
        "arn:aws:iam::aws:policy/job-function/Billing",
        "Billing",
        "/job-function/",
        "v30",
        "2026-07-30T22:12:16Z"
    ),
    managed!(
        "arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess",
        "AWSBillingReadOnlyAccess",
        "/",
        "v28",
        "2026-07-30T22:12:29Z"
    ),
    managed!(
        "arn:aws:iam::aws:policy/AWSPurchaseOrdersServiceRolePolicy",
        "AWSPurchaseOrdersServiceRolePolicy",
        "/",
        "v8",
        "2026-02-12T17:59:01Z"
    ),
    managed!(
        "arn:aws:iam::aws:policy/AWSAccountActivityAccess",
        "AWSAccountActivityAccess",
        "/",
        "v3",
        "2026-02-20T20:57:12Z"
    ),
    managed!(
        "arn:aws:iam::aws:policy/AWSAccountManagementFullAccess",
        "AWSAccountManagementFullAccess",
        "/",
        "v1",
        "2021-09-30T23:20:37Z"
    ),
    managed!(
        "arn:aws:iam::aws:policy/AWSAccountManagementReadOnlyAccess",
        "AWSAccountManagementReadOnlyAccess",
        "/",
        "v1",
        "2021-09-30T23:29:53Z"
    ),
];

static ARNS: [&str; 8] = [
    POLICIES[0].arn,
    POLICIES[1].arn,
    POLICIES[2].arn,
    POLICIES[3].arn,
    POLICIES[4].arn,
    POLICIES[5].arn,
    POLICIES[6].arn,
    POLICIES[7].arn,
];

fn parsed() -> &'static [Option<PolicyDocument>] {
    static PARSED: OnceLock<Vec<Option<PolicyDocument>>> = OnceLock::new();
    PARSED.get_or_init(|| {
        POLICIES
            .iter()
            .map(|p| PolicyDocument::parse_managed(p.document).ok())
            .collect()
    })
}

/// The parsed document of the AWS managed policy `arn`, if billtrail ships it.
pub fn managed_policy(arn: &str) -> Option<&'static PolicyDocument> {
    let index = POLICIES.iter().position(|p| p.arn == arn)?;
    parsed().get(index)?.as_ref()
}

/// What `GetPolicy` says about the AWS managed policy `arn`.
pub fn managed_policy_info(arn: &str) -> Option<&'static ManagedPolicy> {
    POLICIES.iter().find(|p| p.arn == arn)
}

/// The ARNs of every AWS managed policy billtrail ships.
pub fn managed_policy_arns() -> &'static [&'static str] {
    &ARNS
}

/// Every AWS managed policy billtrail ships.
pub fn managed_policies() -> &'static [ManagedPolicy] {
    &POLICIES
}
