//! `organizations.amazonaws.com`: the consolidated billing family.
//!
//! The management account (made at the first start) owns one organization. `CreateAccount`
//! works as AWS's does: it answers `IN_PROGRESS` at once, and the account is made afterwards by
//! [`complete_pending`], which billtrail's background worker runs as the Organizations service.
//! That step creates the member account, its root profile, the `OrganizationAccountAccessRole`
//! the management account may assume, and the member's IAM-access-to-billing preference, and it
//! records a `CreateAccountResult` service event in the management account.
//!
//! State (global account `""`): `organization` (id = `o-…`), `org_account` (id = account id),
//! `pending_account` (id = `car-…`); in the management account: `create_account_status`.

use billtrail_audit::{capture, CallInfo, Capture, EventType, Origin, Outcome};
use billtrail_auth::principal::{Identity, Principal};
use billtrail_protocol::ApiError;
use billtrail_store::{Key, Store, StoreError, Txn};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::billing_console::{AccountProfile, IamAccessPreference, PROFILE_ID, PROFILE_KIND};
use crate::iam::state::{Role, ORGANIZATION_ROLE, ROLE_KIND};
use crate::{op, Context, OpSpec};

pub(crate) const OPERATIONS: &[OpSpec] = &[
    op!(Organizations, "DescribeOrganization", read_only: true, action: "organizations:DescribeOrganization", describe_organization),
    op!(Organizations, "CreateAccount", read_only: false, action: "organizations:CreateAccount", create_account),
    op!(Organizations, "DescribeCreateAccountStatus", read_only: true, action: "organizations:DescribeCreateAccountStatus", describe_create_account_status),
    op!(Organizations, "ListAccounts", read_only: true, action: "organizations:ListAccounts", list_accounts),
    op!(Organizations, "DescribeAccount", read_only: true, action: "organizations:DescribeAccount", describe_account),
];

pub const ORGANIZATION_KIND: &str = "organization";
pub const ORG_ACCOUNT_KIND: &str = "org_account";
const PENDING_KIND: &str = "pending_account";
const STATUS_KIND: &str = "create_account_status";
const SERVICE: &str = "organizations.amazonaws.com";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Organization {
    pub id: String,
    pub arn: String,
    pub feature_set: String,
    pub master_account_arn: String,
    pub master_account_id: String,
    pub master_account_email: String,
}

/// An account of the organization, in `ListAccounts`' shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    pub id: String,
    pub arn: String,
    pub email: String,
    pub name: String,
    pub status: String,
    pub state: String,
    pub joined_method: String,
    /// Unix seconds.
    pub joined_timestamp: f64,
}

/// An account's membership as stored: the wire view and the organization it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub account: Account,
    pub organization_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateAccountStatus {
    pub id: String,
    pub account_name: String,
    pub state: String,
    pub requested_timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_timestamp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// What the worker needs to finish a `CreateAccount`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    request_id: String,
    management_account_id: String,
    organization_id: String,
    email: String,
    account_name: String,
    role_name: String,
    iam_user_access_to_billing: bool,
}

fn random_id(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..len)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{tail}")
}

/// A 12-digit account id that does not start with 0.
pub fn new_account_id() -> String {
    let mut rng = rand::thread_rng();
    let first = rng.gen_range(1..=9u8);
    let rest: String = (0..11)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect();
    format!("{first}{rest}")
}

fn now_seconds() -> f64 {
    time::OffsetDateTime::now_utc().unix_timestamp() as f64
}

/// Creates the organization and enrolls the management account (first start only).
pub fn create_organization(
    t: &mut Txn<'_>,
    management_account_id: &str,
    email: &str,
) -> Result<Organization, StoreError> {
    let id = random_id("o-", 10);
    let org = Organization {
        arn: format!("arn:aws:organizations::{management_account_id}:organization/{id}"),
        feature_set: "ALL".into(),
        master_account_arn: format!(
            "arn:aws:organizations::{management_account_id}:account/{id}/{management_account_id}"
        ),
        master_account_id: management_account_id.into(),
        master_account_email: email.into(),
        id,
    };
    t.put(&Key::global(ORGANIZATION_KIND, &org.id), &org)?;
    let account = Account {
        id: management_account_id.into(),
        arn: org.master_account_arn.clone(),
        email: email.into(),
        name: "management".into(),
        status: "ACTIVE".into(),
        state: "ACTIVE".into(),
        joined_method: "CREATED".into(),
        joined_timestamp: now_seconds(),
    };
    let member = Member {
        account,
        organization_id: org.id.clone(),
    };
    t.put(
        &Key::global(ORG_ACCOUNT_KIND, management_account_id),
        &member,
    )?;
    Ok(org)
}

fn not_in_use() -> ApiError {
    ApiError::new(
        "AWSOrganizationsNotInUseException",
        400,
        "Your account is not a member of an organization.",
    )
}

fn denied() -> ApiError {
    ApiError::access_denied("You don't have permissions to access this resource.")
}

/// The caller's account record and organization.
fn membership(cx: &mut Context<'_>) -> Result<(Account, Organization), ApiError> {
    let member: Member = cx
        .get_in("", ORG_ACCOUNT_KIND, cx.account_id())?
        .ok_or_else(not_in_use)?;
    let org: Organization = cx
        .get_in("", ORGANIZATION_KIND, &member.organization_id)?
        .ok_or_else(not_in_use)?;
    Ok((member.account, org))
}

/// The caller's organization, if the caller is its management account.
fn as_management(cx: &mut Context<'_>) -> Result<Organization, ApiError> {
    let (_, org) = membership(cx)?;
    if org.master_account_id != cx.account_id() {
        return Err(denied());
    }
    Ok(org)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeOrganizationOutput {
    organization: serde_json::Value,
}

fn describe_organization(
    cx: &mut Context<'_>,
    _: crate::Empty,
) -> Result<DescribeOrganizationOutput, ApiError> {
    let (_, org) = membership(cx)?;
    let mut v = serde_json::to_value(&org).map_err(|_| ApiError::internal())?;
    v["AvailablePolicyTypes"] = json!([]);
    Ok(DescribeOrganizationOutput { organization: v })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateAccountInput {
    email: String,
    account_name: String,
    role_name: Option<String>,
    iam_user_access_to_billing: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateAccountOutput {
    create_account_status: CreateAccountStatus,
}

fn create_account(
    cx: &mut Context<'_>,
    input: CreateAccountInput,
) -> Result<CreateAccountOutput, ApiError> {
    let org = as_management(cx)?;
    let status = CreateAccountStatus {
        id: random_id("car-", 32),
        account_name: input.account_name.clone(),
        state: "IN_PROGRESS".into(),
        requested_timestamp: now_seconds(),
        completed_timestamp: None,
        account_id: None,
        failure_reason: None,
    };
    let pending = Pending {
        request_id: status.id.clone(),
        management_account_id: cx.account_id().to_string(),
        organization_id: org.id,
        email: input.email,
        account_name: input.account_name,
        role_name: input.role_name.unwrap_or_else(|| ORGANIZATION_ROLE.into()),
        iam_user_access_to_billing: input.iam_user_access_to_billing.as_deref() != Some("DENY"),
    };
    cx.put(STATUS_KIND, &status.id, &status)?;
    cx.put_in("", PENDING_KIND, &status.id, &pending)?;
    cx.wake_workers();
    Ok(CreateAccountOutput {
        create_account_status: status,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeCreateAccountStatusInput {
    create_account_request_id: String,
}

fn describe_create_account_status(
    cx: &mut Context<'_>,
    input: DescribeCreateAccountStatusInput,
) -> Result<CreateAccountOutput, ApiError> {
    as_management(cx)?;
    let status: CreateAccountStatus = cx.get(STATUS_KIND, &input.create_account_request_id)?.ok_or_else(|| {
        ApiError::new(
            "CreateAccountStatusNotFoundException",
            400,
            "We can't find an create account request with the CreateAccountRequestId that you specified.",
        )
    })?;
    Ok(CreateAccountOutput {
        create_account_status: status,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAccountsInput {
    next_token: Option<String>,
    max_results: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAccountsOutput {
    accounts: Vec<Account>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// All accounts of an organization, ordered by id.
pub fn organization_accounts(
    cx: &mut Context<'_>,
    organization_id: &str,
) -> Result<Vec<Account>, ApiError> {
    let all: Vec<(String, Member)> = cx.scan_in("", ORG_ACCOUNT_KIND)?;
    Ok(all
        .into_iter()
        .filter(|(_, m)| m.organization_id == organization_id)
        .map(|(_, m)| m.account)
        .collect())
}

fn list_accounts(
    cx: &mut Context<'_>,
    input: ListAccountsInput,
) -> Result<ListAccountsOutput, ApiError> {
    let org = as_management(cx)?;
    let accounts = organization_accounts(cx, &org.id)?;
    // The token is the last account id handed out: ids are public within the organization, and
    // the caller can only page through its own.
    let start = match &input.next_token {
        None => 0,
        Some(t) => accounts
            .iter()
            .position(|a| &a.id == t)
            .map(|i| i + 1)
            .ok_or_else(|| {
                ApiError::new(
                    "InvalidInputException",
                    400,
                    "The provided NextToken is not valid.",
                )
            })?,
    };
    let max = input.max_results.unwrap_or(20).clamp(1, 20);
    let page: Vec<Account> = accounts.iter().skip(start).take(max).cloned().collect();
    let next_token = (start + page.len() < accounts.len())
        .then(|| page.last().map(|a| a.id.clone()))
        .flatten();
    Ok(ListAccountsOutput {
        accounts: page,
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAccountInput {
    account_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAccountOutput {
    account: Account,
}

fn describe_account(
    cx: &mut Context<'_>,
    input: DescribeAccountInput,
) -> Result<DescribeAccountOutput, ApiError> {
    let org = as_management(cx)?;
    let account: Account = cx
        .get_in("", ORG_ACCOUNT_KIND, &input.account_id)?
        .filter(|m: &Member| m.organization_id == org.id)
        .map(|m| m.account)
        .ok_or_else(|| {
            ApiError::new(
                "AccountNotFoundException",
                400,
                "You specified an account that doesn't exist.",
            )
        })?;
    Ok(DescribeAccountOutput { account })
}

/// Finishes every pending `CreateAccount`, each in its own transaction, as the Organizations
/// service. Returns how many it finished.
pub async fn complete_pending(store: &Store) -> Result<usize, StoreError> {
    let pending = store.read().scan("", PENDING_KIND)?;
    let mut done = 0;
    for (id, _) in pending {
        let finished = store.transact(move |t| complete_one(t, &id)).await?;
        done += usize::from(finished);
    }
    Ok(done)
}

fn complete_one(t: &mut Txn<'_>, request_id: &str) -> Result<bool, StoreError> {
    let Some(p) = t.get::<Pending>(&Key::global(PENDING_KIND, request_id))? else {
        return Ok(false);
    };
    t.delete(&Key::global(PENDING_KIND, request_id))?;
    let status_key = Key::new(&p.management_account_id, STATUS_KIND, request_id);
    let Some(mut status) = t.get::<CreateAccountStatus>(&status_key)? else {
        return Ok(false);
    };
    let now = time::OffsetDateTime::now_utc();
    let now_iso = billtrail_audit::format_time(now.unix_timestamp());
    let taken = t
        .scan::<Member>("", ORG_ACCOUNT_KIND)?
        .into_iter()
        .any(|(_, m)| m.account.email.eq_ignore_ascii_case(&p.email));
    if taken {
        status.state = "FAILED".into();
        status.failure_reason = Some("EMAIL_ALREADY_EXISTS".into());
    } else {
        let account_id = loop {
            let id = new_account_id();
            if t.get::<Member>(&Key::global(ORG_ACCOUNT_KIND, &id))?
                .is_none()
            {
                break id;
            }
        };
        let account = Account {
            id: account_id.clone(),
            arn: format!(
                "arn:aws:organizations::{}:account/{}/{account_id}",
                p.management_account_id, p.organization_id
            ),
            email: p.email.clone(),
            name: p.account_name.clone(),
            status: "ACTIVE".into(),
            state: "ACTIVE".into(),
            joined_method: "CREATED".into(),
            joined_timestamp: now.unix_timestamp() as f64,
        };
        let member = Member {
            account,
            organization_id: p.organization_id.clone(),
        };
        t.put(&Key::global(ORG_ACCOUNT_KIND, &account_id), &member)?;
        // The member's root user has no password until someone resets it, as with AWS.
        let unusable: [u8; 32] = rand::random();
        let profile = AccountProfile {
            account_name: p.account_name.clone(),
            email: p.email.clone(),
            password_hash: AccountProfile::hash_password(&hex_of(&unusable))
                .map_err(|_| StoreError::Database("password hashing failed".into()))?,
            created: now_iso.clone(),
        };
        t.put(&Key::new(&account_id, PROFILE_KIND, PROFILE_ID), &profile)?;
        let mut role = Role::organization_access(&p.management_account_id, &now_iso);
        role.role_name = p.role_name.clone();
        t.put(&Key::new(&account_id, ROLE_KIND, &role.role_name), &role)?;
        t.put(
            &Key::new(
                &account_id,
                IamAccessPreference::KIND,
                IamAccessPreference::ID,
            ),
            &IamAccessPreference {
                enabled: p.iam_user_access_to_billing,
            },
        )?;
        status.state = "SUCCEEDED".into();
        status.account_id = Some(account_id);
    }
    status.completed_timestamp = Some(now.unix_timestamp() as f64);
    t.put(&status_key, &status)?;
    // AWS records the outcome as a service event in the management account.
    let service = Principal {
        account_id: p.management_account_id.clone(),
        identity: Identity::AwsService {
            service: SERVICE.into(),
        },
        access_key_id: None,
        session: None,
    };
    let origin = Origin {
        source_ip: SERVICE.into(),
        user_agent: Some(SERVICE.into()),
        tls: None,
        event_type: EventType::AwsServiceEvent,
    };
    let call = CallInfo {
        event_source: SERVICE,
        event_name: "CreateAccountResult",
        region: "us-east-1",
        read_only: false,
        request_id: "",
        recipient_account_id: &p.management_account_id,
    };
    let mut c = Capture::new(&service, &origin, call, None);
    let mut details = serde_json::to_value(&status).unwrap_or_default();
    // The account name is sensitive in Organizations' model, as it is in CreateAccount's record.
    details["AccountName"] = json!(billtrail_audit::HIDDEN);
    c.service_event_details =
        Some(json!({ "createAccountStatus": billtrail_protocol::lower_camel_keys(&details) }));
    t.append(&capture(c, Outcome::Success { response: None }, Vec::new()))?;
    Ok(true)
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
