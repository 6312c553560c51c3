//! Synthetic but realistic CloudTrail records for the lookup benchmark's store.
//!
//! The world is fixed by a seed and the management account id: the 63 billing operations of the
//! seed's list plus `LookupEvents`, with a skewed popularity (a few operations make most of the
//! traffic, some are rare); the root user, a dozen IAM users and a few assumed-role sessions,
//! each with its access keys; purchase orders, cost and usage reports and invoices as resources;
//! a few percent of failed calls. Records are spread evenly over the last 80 days, oldest first
//! (as a server appends them), and mostly belong to the management account in `us-east-1`; the
//! rest is noise the lookups must skip: `LookupEvents` in other regions and calls in member
//! accounts. The JSON has the field order and shape billtrail writes for calls over plain HTTP
//! (no `tlsDetails`), 600 to 900 bytes.

use billtrail_store::NewEvent;
use rand::distributions::WeightedIndex;
use rand::prelude::*;
use rand::rngs::StdRng;

/// `(eventName, eventSource, readOnly)`: the seed's billing operations, and `LookupEvents`.
pub const OPERATIONS: &[(&str, &str, bool)] = &[
    ("AddPurchaseOrder", "purchase-orders.amazonaws.com", false),
    (
        "AcceptFxPaymentCurrencyTermsAndConditions",
        "billingconsole.amazonaws.com",
        false,
    ),
    ("BatchGetTaxExemptions", "taxconsole.amazonaws.com", true),
    ("CloseAccount", "billingconsole.amazonaws.com", false),
    ("CreateCustomerCase", "taxconsole.amazonaws.com", false),
    (
        "CreateCustomerVerificationDetails",
        "customer-verification.amazonaws.com",
        false,
    ),
    (
        "CreateOrigamiReportPreference",
        "billingconsole.amazonaws.com",
        false,
    ),
    (
        "DeletePurchaseOrder",
        "purchase-orders.amazonaws.com",
        false,
    ),
    (
        "DeleteOrigamiReportPreferences",
        "billingconsole.amazonaws.com",
        false,
    ),
    (
        "DownloadCommercialInvoice",
        "billingconsole.amazonaws.com",
        true,
    ),
    (
        "DownloadECSVForBillingPeriod",
        "billingconsole.amazonaws.com",
        true,
    ),
    (
        "DownloadRegistrationDocument",
        "billingconsole.amazonaws.com",
        true,
    ),
    ("DownloadTaxInvoice", "billingconsole.amazonaws.com", true),
    ("EnableBillingAlerts", "billingconsole.amazonaws.com", false),
    (
        "FindECSVForBillingPeriod",
        "billingconsole.amazonaws.com",
        true,
    ),
    ("GetAccountEDPStatus", "billingconsole.amazonaws.com", true),
    ("GetAddresses", "billingconsole.amazonaws.com", true),
    ("GetAllAccounts", "billingconsole.amazonaws.com", true),
    ("GetAllAccountDetails", "billingconsole.amazonaws.com", true),
    (
        "GetBillsForBillingPeriod",
        "billingconsole.amazonaws.com",
        true,
    ),
    (
        "GetBillsForLinkedAccount",
        "billingconsole.amazonaws.com",
        true,
    ),
    (
        "GetCommercialInvoicesForBillingPeriod",
        "billingconsole.amazonaws.com",
        true,
    ),
    (
        "GetConsolidatedBillingFamilySummary",
        "billingconsole.amazonaws.com",
        true,
    ),
    (
        "GetCustomerVerificationEligibility",
        "customer-verification.amazonaws.com",
        true,
    ),
    (
        "GetCustomerVerificationDetails",
        "customer-verification.amazonaws.com",
        true,
    ),
    (
        "GetLinkedAccountNames",
        "billingconsole.amazonaws.com",
        true,
    ),
    ("GetPurchaseOrder", "purchase-orders.amazonaws.com", true),
    (
        "GetSupportedCountryCodes",
        "billingconsole.amazonaws.com",
        true,
    ),
    ("GetTaxExemptionTypes", "taxconsole.amazonaws.com", true),
    ("GetTaxInheritance", "billingconsole.amazonaws.com", true),
    (
        "GetTaxInvoicesMetadata",
        "billingconsole.amazonaws.com",
        true,
    ),
    ("GetTaxRegistration", "billingconsole.amazonaws.com", true),
    ("GetTotal", "billingconsole.amazonaws.com", true),
    (
        "GetTotalAmountForForecast",
        "billingconsole.amazonaws.com",
        true,
    ),
    (
        "ListCostAllocationTags",
        "billingconsole.amazonaws.com",
        true,
    ),
    ("ListPurchaseOrders", "purchase-orders.amazonaws.com", true),
    (
        "ListPurchaseOrderInvoices",
        "purchase-orders.amazonaws.com",
        true,
    ),
    ("ListTagsForResource", "purchase-orders.amazonaws.com", true),
    (
        "PreviewTaxRegistrationChange",
        "billingconsole.amazonaws.com",
        true,
    ),
    ("RedeemPromoCode", "billingconsole.amazonaws.com", false),
    (
        "SetAccountContractMetadata",
        "billingconsole.amazonaws.com",
        false,
    ),
    (
        "SetAccountPreferences",
        "billingconsole.amazonaws.com",
        false,
    ),
    (
        "SetAdditionalContacts",
        "billingconsole.amazonaws.com",
        false,
    ),
    ("SetContactAddress", "billingconsole.amazonaws.com", false),
    ("SetCreatedByOptIn", "billingconsole.amazonaws.com", false),
    ("SetCreditSharing", "billingconsole.amazonaws.com", false),
    (
        "SetFreetierBudgetsPreference",
        "billingconsole.amazonaws.com",
        false,
    ),
    (
        "SetFxPaymentCurrency",
        "billingconsole.amazonaws.com",
        false,
    ),
    (
        "SetIAMAccessPreference",
        "billingconsole.amazonaws.com",
        false,
    ),
    ("SetPANInformation", "billingconsole.amazonaws.com", false),
    ("SetPayInformation", "billingconsole.amazonaws.com", false),
    ("SetRISharing", "billingconsole.amazonaws.com", false),
    (
        "SetSecurityQuestions",
        "billingconsole.amazonaws.com",
        false,
    ),
    ("SetTagKeysState", "billingconsole.amazonaws.com", false),
    ("SetTaxInheritance", "billingconsole.amazonaws.com", false),
    ("SetTaxRegistration", "billingconsole.amazonaws.com", false),
    ("TagResource", "purchase-orders.amazonaws.com", false),
    ("UntagResource", "purchase-orders.amazonaws.com", false),
    (
        "UpdateCustomerVerificationDetails",
        "customer-verification.amazonaws.com",
        false,
    ),
    (
        "UpdateOrigamiReportPreference",
        "billingconsole.amazonaws.com",
        false,
    ),
    (
        "UpdatePurchaseOrder",
        "purchase-orders.amazonaws.com",
        false,
    ),
    (
        "UpdatePurchaseOrderStatus",
        "purchase-orders.amazonaws.com",
        false,
    ),
    ("ValidateAddress", "billingconsole.amazonaws.com", true),
    ("LookupEvents", "cloudtrail.amazonaws.com", true),
];

/// The event sources of [`OPERATIONS`].
pub const SOURCES: &[&str] = &[
    "billingconsole.amazonaws.com",
    "taxconsole.amazonaws.com",
    "purchase-orders.amazonaws.com",
    "customer-verification.amazonaws.com",
    "cloudtrail.amazonaws.com",
];

pub const PURCHASE_ORDER: &str = "AWS::PurchaseOrders::PurchaseOrder";
pub const REPORT: &str = "AWS::CUR::ReportDefinition";
pub const INVOICE: &str = "AWS::Billing::Invoice";
pub const RESOURCE_TYPES: &[&str] = &[PURCHASE_ORDER, REPORT, INVOICE];

const PURCHASE_ORDERS: u32 = 4000;
const REPORTS: u32 = 12;
const INVOICES: u32 = 3000;

/// The region of the lookups; the others only hold noise.
pub const REGION: &str = "us-east-1";
const OTHER_REGIONS: &[&str] = &["us-west-2", "eu-west-1", "ap-southeast-2"];

const USER_AGENTS: &[&str] = &[
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.79 lang/python#3.12.2",
    "AWS Internal",
    "aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1 md/GOARCH#amd64",
    "Terraform/1.7.5 terraform-provider-aws/5.41.0",
];

/// Who calls.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `LookupEvents`' `Username`.
    pub username: String,
    pub keys: Vec<String>,
    kind: ActorKind,
    weight: u32,
}

#[derive(Debug, Clone)]
enum ActorKind {
    Root,
    IamUser { id: String },
    Role { role: String, id: String },
}

/// Everything the records are drawn from. Deterministic for a seed and account.
pub struct World {
    pub account_id: String,
    pub members: Vec<String>,
    pub actors: Vec<Actor>,
    actor_pick: WeightedIndex<u32>,
    op_pick: WeightedIndex<u32>,
    ips: Vec<String>,
}

fn key(rng: &mut StdRng, prefix: &str) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut s = String::from(prefix);
    for _ in 0..16 {
        s.push(char::from(ALPHA[rng.gen_range(0..ALPHA.len())]));
    }
    s
}

impl World {
    pub fn new(account_id: &str, seed: u64) -> World {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut actors = vec![Actor {
            username: "root".into(),
            keys: vec![key(&mut rng, "AKIA"), key(&mut rng, "AKIA")],
            kind: ActorKind::Root,
            weight: 30,
        }];
        let users = [
            "alice",
            "bob",
            "carol",
            "dave",
            "erin",
            "frank",
            "grace",
            "heidi",
            "finance-bot",
            "cost-exporter",
            "tax-admin",
            "procurement",
        ];
        for (i, u) in users.iter().enumerate() {
            let n = 1 + i % 2;
            actors.push(Actor {
                username: (*u).into(),
                keys: (0..n).map(|_| key(&mut rng, "AKIA")).collect(),
                kind: ActorKind::IamUser {
                    id: key(&mut rng, "AIDA"),
                },
                weight: if i < 4 { 8 } else { 3 },
            });
        }
        let roles = [
            ("BillingReadOnly", "billing-reporter"),
            ("FinanceAdmin", "jdoe@example.com"),
            ("CostExplorerLambda", "cost-sync"),
            ("OrganizationAccountAccessRole", "ci-deploy"),
        ];
        for (role, session) in roles {
            actors.push(Actor {
                username: session.into(),
                keys: (0..20).map(|_| key(&mut rng, "ASIA")).collect(),
                kind: ActorKind::Role {
                    role: role.into(),
                    id: key(&mut rng, "AROA"),
                },
                weight: 6,
            });
        }
        let members = (0..3)
            .map(|_| {
                let first = rng.gen_range(1..=9u8);
                let rest: String = (0..11)
                    .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
                    .collect();
                format!("{first}{rest}")
            })
            .collect();
        // A skewed popularity: LookupEvents and a few reads dominate; writes are rarer, and a few
        // operations (closing the account, PAN details) hardly ever happen.
        let weights: Vec<u32> = OPERATIONS
            .iter()
            .enumerate()
            .map(|(i, (name, _, read_only))| match *name {
                "LookupEvents" => 2000,
                "GetAddresses" | "GetBillsForBillingPeriod" | "GetTotal" => 800,
                "CloseAccount" | "SetPANInformation" | "SetSecurityQuestions" => 1,
                _ if *read_only => 40 + 60 * (i as u32 % 5),
                _ => 8 + 6 * (i as u32 % 4),
            })
            .collect();
        let ips = (0..24)
            .map(|i| match i % 3 {
                0 => format!("203.0.113.{}", 10 + i),
                1 => format!("198.51.100.{}", 20 + i),
                _ => format!("192.0.2.{}", 30 + i),
            })
            .collect();
        World {
            account_id: account_id.into(),
            members,
            actor_pick: WeightedIndex::new(actors.iter().map(|a| a.weight))
                .expect("actor weights are positive"),
            actors,
            op_pick: WeightedIndex::new(weights).expect("operation weights are positive"),
            ips,
        }
    }

    /// Every access key id of the management account's actors.
    pub fn access_keys(&self) -> Vec<&str> {
        self.actors
            .iter()
            .flat_map(|a| a.keys.iter().map(String::as_str))
            .collect()
    }
}

/// Appends records `next..total` in time order over `[start, end]`.
pub struct Generator {
    world: World,
    rng: StdRng,
    start: i64,
    end: i64,
    total: u64,
    next: u64,
}

impl Generator {
    pub fn new(world: World, seed: u64, start: i64, end: i64, total: u64) -> Generator {
        Generator {
            world,
            rng: StdRng::seed_from_u64(seed ^ 0x5eed_0fe7_e475),
            start,
            end,
            total,
            next: 0,
        }
    }

    pub fn remaining(&self) -> u64 {
        self.total - self.next
    }

    /// The next `n` records (fewer at the end).
    pub fn batch(&mut self, n: usize) -> Vec<NewEvent> {
        let n = (n as u64).min(self.remaining()) as usize;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.one());
        }
        out
    }

    fn one(&mut self) -> NewEvent {
        let i = self.next;
        self.next += 1;
        let span = (self.end - self.start).max(1) as u128;
        let t = self.start + (i as u128 * span / self.total.max(1) as u128) as i64;
        let rng = &mut self.rng;
        let w = &self.world;
        let roll: u32 = rng.gen_range(0..100);
        let (account, region, op) = if roll < 4 {
            // LookupEvents in another region of the management account.
            let region = OTHER_REGIONS[rng.gen_range(0..OTHER_REGIONS.len())];
            (w.account_id.as_str(), region, OPERATIONS.len() - 1)
        } else if roll < 10 {
            let m = &w.members[rng.gen_range(0..w.members.len())];
            (m.as_str(), REGION, w.op_pick.sample(rng))
        } else {
            (w.account_id.as_str(), REGION, w.op_pick.sample(rng))
        };
        let (name, source, read_only) = OPERATIONS[op];
        let actor = &w.actors[w.actor_pick.sample(rng)];
        let key = &actor.keys[rng.gen_range(0..actor.keys.len())];
        let failed = rng.gen_range(0..100) < 2;
        let resources = if failed {
            Vec::new()
        } else {
            resources_of(name, account, rng)
        };
        let event_id = uuid::Builder::from_random_bytes(rng.gen()).into_uuid();
        let request_id = uuid::Builder::from_random_bytes(rng.gen()).into_uuid();
        let record = record_json(&RecordParts {
            account,
            actor,
            key,
            time: t,
            source,
            name,
            region,
            ip: &w.ips[rng.gen_range(0..w.ips.len())],
            user_agent: USER_AGENTS[rng.gen_range(0..USER_AGENTS.len())],
            failed,
            read_only,
            request_id: &request_id.to_string(),
            event_id: &event_id.to_string(),
            resources: &resources,
            params: params_of(name, t, rng),
        });
        NewEvent {
            account_id: account.into(),
            region: region.into(),
            event_time: t,
            event_id: event_id.to_string(),
            event_name: name.into(),
            event_source: source.into(),
            read_only,
            username: Some(actor.username.clone()),
            access_key_id: Some(key.clone()),
            resources: resources
                .into_iter()
                .map(|(ty, arn)| (Some(ty.to_string()), arn))
                .collect(),
            management: true,
            record,
        }
    }
}

/// One successful `SetContactAddress` call by the root user of `world`'s management account at
/// `time`, as billtrail records it (the delivery benchmark's records).
pub fn set_contact_address(world: &World, rng: &mut StdRng, time: i64) -> NewEvent {
    let (name, source, read_only) = ("SetContactAddress", "billingconsole.amazonaws.com", false);
    let root = world
        .actors
        .iter()
        .find(|a| matches!(a.kind, ActorKind::Root))
        .unwrap_or(&world.actors[0]);
    let key = &root.keys[rng.gen_range(0..root.keys.len())];
    let event_id = uuid::Builder::from_random_bytes(rng.gen()).into_uuid();
    let request_id = uuid::Builder::from_random_bytes(rng.gen()).into_uuid();
    let account = world.account_id.as_str();
    let record = record_json(&RecordParts {
        account,
        actor: root,
        key,
        time,
        source,
        name,
        region: REGION,
        ip: &world.ips[rng.gen_range(0..world.ips.len())],
        user_agent: USER_AGENTS[rng.gen_range(0..USER_AGENTS.len())],
        failed: false,
        read_only,
        request_id: &request_id.to_string(),
        event_id: &event_id.to_string(),
        resources: &[],
        params: params_of(name, time, rng),
    });
    NewEvent {
        account_id: account.into(),
        region: REGION.into(),
        event_time: time,
        event_id: event_id.to_string(),
        event_name: name.into(),
        event_source: source.into(),
        read_only,
        username: Some(root.username.clone()),
        access_key_id: Some(key.clone()),
        resources: Vec::new(),
        management: true,
        record,
    }
}

/// The resources a call of `name` touches: `(type, ARN)`.
fn resources_of(name: &str, account: &str, rng: &mut StdRng) -> Vec<(&'static str, String)> {
    let po = |rng: &mut StdRng| {
        (
            PURCHASE_ORDER,
            purchase_order_arn(account, rng.gen_range(0..PURCHASE_ORDERS)),
        )
    };
    match name {
        "AddPurchaseOrder"
        | "DeletePurchaseOrder"
        | "GetPurchaseOrder"
        | "UpdatePurchaseOrder"
        | "UpdatePurchaseOrderStatus"
        | "ListPurchaseOrderInvoices"
        | "TagResource"
        | "UntagResource"
        | "ListTagsForResource" => vec![po(rng)],
        "CreateOrigamiReportPreference"
        | "UpdateOrigamiReportPreference"
        | "DeleteOrigamiReportPreferences" => vec![(
            REPORT,
            format!(
                "arn:aws:cur:us-east-1:{account}:definition/cur-report-{}",
                rng.gen_range(0..REPORTS)
            ),
        )],
        "DownloadTaxInvoice" | "DownloadCommercialInvoice" => {
            let n = 1 + rng.gen_range(0..2);
            (0..n)
                .map(|_| (INVOICE, invoice_arn(account, rng.gen_range(0..INVOICES))))
                .collect()
        }
        _ => Vec::new(),
    }
}

pub fn purchase_order_arn(account: &str, n: u32) -> String {
    format!("arn:aws:purchase-orders::{account}:purchase-order/po-{n:08x}")
}

pub fn invoice_arn(account: &str, n: u32) -> String {
    format!("arn:aws:billing::{account}:invoice/EUINUS24-{n:06}")
}

fn billing_period(t: i64, rng: &mut StdRng) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(t - rng.gen_range(0..3) * 31 * 86400)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// `requestParameters`, as JSON text.
fn params_of(name: &str, t: i64, rng: &mut StdRng) -> String {
    match name {
        "SetContactAddress" => r#"{"website":"https://example.com","city":"Seattle","postalCode":"98108","fullName":"Jane Doe","districtOrCounty":null,"phoneNumber":"206-555-0100","countryCode":"US","addressLine1":"Nowhere Estates","addressLine2":"100 Main Street","company":"AnyCompany","state":"Washington","addressLine3":"Anytown, USA","secondaryPhone":"206-555-0101"}"#.into(),
        "SetAccountPreferences" => r#"{"accountName":"management","email":"billing@example.com","password":"HIDDEN_DUE_TO_SECURITY_REASONS"}"#.into(),
        "LookupEvents" => {
            let (k, v) = match rng.gen_range(0..4) {
                0 => ("EventName", "GetAddresses"),
                1 => ("Username", "root"),
                2 => ("ReadOnly", "false"),
                _ => ("EventSource", "billingconsole.amazonaws.com"),
            };
            format!(r#"{{"lookupAttributes":[{{"attributeKey":"{k}","attributeValue":"{v}"}}],"maxResults":50}}"#)
        }
        n if n.contains("BillingPeriod") || n.starts_with("GetBills") || n == "GetTotal" || n == "GetTotalAmountForForecast" => {
            format!(r#"{{"billingPeriod":"{}","includeCredits":true}}"#, billing_period(t, rng))
        }
        n if n.contains("PurchaseOrder") || n.ends_with("Resource") => format!(
            r#"{{"purchaseOrderId":"po-{:08x}","maxResults":25}}"#,
            rng.gen_range(0..PURCHASE_ORDERS)
        ),
        n if n.starts_with("Set") || n.starts_with("Update") || n.starts_with("Create") => {
            r#"{"preference":{"enabled":true,"notificationEmail":"finance@example.com"}}"#.into()
        }
        _ => "null".into(),
    }
}

struct RecordParts<'a> {
    account: &'a str,
    actor: &'a Actor,
    key: &'a str,
    time: i64,
    source: &'a str,
    name: &'a str,
    region: &'a str,
    ip: &'a str,
    user_agent: &'a str,
    failed: bool,
    read_only: bool,
    request_id: &'a str,
    event_id: &'a str,
    resources: &'a [(&'static str, String)],
    params: String,
}

fn iso(t: i64) -> String {
    let d =
        time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// The compact record, in billtrail's field order. Every value is plain ASCII without quotes or
/// backslashes, so no escaping is needed.
fn record_json(p: &RecordParts<'_>) -> String {
    let acct = p.account;
    let identity = match &p.actor.kind {
        ActorKind::Root => format!(
            r#"{{"type":"Root","principalId":"{acct}","arn":"arn:aws:iam::{acct}:root","accountId":"{acct}","accessKeyId":"{}"}}"#,
            p.key
        ),
        ActorKind::IamUser { id } => format!(
            r#"{{"type":"IAMUser","principalId":"{id}","arn":"arn:aws:iam::{acct}:user/{u}","accountId":"{acct}","accessKeyId":"{k}","userName":"{u}"}}"#,
            u = p.actor.username,
            k = p.key
        ),
        ActorKind::Role { role, id } => format!(
            r#"{{"type":"AssumedRole","principalId":"{id}:{s}","arn":"arn:aws:sts::{acct}:assumed-role/{role}/{s}","accountId":"{acct}","accessKeyId":"{k}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"{id}","arn":"arn:aws:iam::{acct}:role/{role}","accountId":"{acct}","userName":"{role}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"{c}","mfaAuthenticated":"false"}}}}}}"#,
            s = p.actor.username,
            k = p.key,
            c = iso(p.time - 600)
        ),
    };
    let error = if p.failed {
        format!(
            r#","errorCode":"AccessDenied","errorMessage":"User is not authorized to perform {}:{}""#,
            p.source.trim_end_matches(".amazonaws.com"),
            p.name
        )
    } else {
        String::new()
    };
    let response = if p.read_only || p.failed {
        "null"
    } else {
        r#"{"status":"SUCCEEDED"}"#
    };
    let resources = if p.resources.is_empty() {
        String::new()
    } else {
        let items: Vec<String> = p
            .resources
            .iter()
            .map(|(ty, arn)| format!(r#"{{"ARN":"{arn}","accountId":"{acct}","type":"{ty}"}}"#))
            .collect();
        format!(r#","resources":[{}]"#, items.join(","))
    };
    format!(
        r#"{{"eventVersion":"1.11","userIdentity":{identity},"eventTime":"{time}","eventSource":"{source}","eventName":"{name}","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"{ua}"{error},"requestParameters":{params},"responseElements":{response},"requestID":"{rid}","eventID":"{eid}","readOnly":{ro}{resources},"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{acct}","eventCategory":"Management"}}"#,
        time = iso(p.time),
        source = p.source,
        name = p.name,
        region = p.region,
        ip = p.ip,
        ua = p.user_agent,
        params = p.params,
        rid = p.request_id,
        eid = p.event_id,
        ro = p.read_only,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_valid_json_of_realistic_size() {
        let world = World::new("123456789012", 7);
        let mut g = Generator::new(world, 7, 1_700_000_000, 1_700_000_000 + 80 * 86400, 5000);
        let batch = g.batch(5000);
        assert_eq!(batch.len(), 5000);
        let mut total = 0;
        for e in &batch {
            let v: serde_json::Value = serde_json::from_str(&e.record).expect("valid JSON");
            assert_eq!(v["eventName"], e.event_name.as_str());
            assert_eq!(v["eventID"], e.event_id.as_str());
            assert_eq!(v["recipientAccountId"], e.account_id.as_str());
            total += e.record.len();
        }
        let avg = total / batch.len();
        eprintln!("average record: {avg} bytes");
        assert!((600..=900).contains(&avg), "average record is {avg} bytes");
        assert!(batch.windows(2).all(|w| w[0].event_time <= w[1].event_time));
        assert!(batch.iter().any(|e| !e.resources.is_empty()));
        assert_eq!(g.remaining(), 0);
    }

    #[test]
    fn the_world_is_deterministic() {
        let a = World::new("123456789012", 42);
        let b = World::new("123456789012", 42);
        assert_eq!(a.access_keys(), b.access_keys());
        assert_eq!(a.members, b.members);
        assert_eq!(OPERATIONS.len(), 64);
    }
}
