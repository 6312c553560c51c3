//! The IAM actions that govern billtrail's 63 billing operations, as data.
//!
//! Every operation of `models/billing-operations.tsv` (the CloudTrail event
//! names of the Billing, Tax Settings, Customer Verification and Purchase
//! Orders consoles) is listed once, keyed by event source and event name, with
//! the fine-grained IAM action(s) AWS uses since the 2023 migration away from
//! `aws-portal:*`. The table, and why each row is what it is, is
//! `ACTIONS.md` beside this file; the sources are
//! `/work/shared/reference/iam-actions.md` §2 and its appendix.
//!
//! The table is data, not code, so that the authorizer can evaluate every
//! action an operation needs ([`BillingOperation::actions`]: all must be
//! allowed), build the resource ARN ([`ResourceType::arn`]), and apply the
//! root-only rule ([`BillingOperation::root_only`]) before any policy is read.

/// What the IAM action is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// The action has no resource type: `"*"`.
    Any,
    /// `arn:aws:purchase-orders::<account>:purchase-order/<id>` (no region).
    PurchaseOrder,
    /// `arn:aws:cur:<region>:<account>:definition/<report name>`.
    CurReportDefinition,
}

impl ResourceType {
    /// The resource ARN for `account`, `region` and the resource's `name`
    /// (purchase-order id or report name); `"*"` for [`ResourceType::Any`].
    pub fn arn(self, account: &str, region: &str, name: &str) -> String {
        match self {
            ResourceType::Any => "*".to_owned(),
            ResourceType::PurchaseOrder => {
                format!("arn:aws:purchase-orders::{account}:purchase-order/{name}")
            }
            ResourceType::CurReportDefinition => {
                format!("arn:aws:cur:{region}:{account}:definition/{name}")
            }
        }
    }
}

/// Whether only the root user may perform the operation, whatever the policies say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootOnly {
    No,
    /// Always (CloseAccount from the Account page, SetIAMAccessPreference,
    /// SetSecurityQuestions).
    Always,
    /// Only when the call changes the root e-mail address or password
    /// (SetAccountPreferences); renaming the account is an ordinary action.
    EmailAndPassword,
}

/// How sure the mapping is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confidence {
    High,
    Medium,
    Low,
}

/// Where a row of the table comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// An AWS source ties the operation to the action.
    Documented,
    /// billtrail's choice, from the action descriptions and the console page.
    Inferred(Confidence),
}

/// One billing operation and the IAM authorization it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingOperation {
    pub event_name: &'static str,
    pub event_source: &'static str,
    /// Every action the call needs, all of which must be allowed; the first is
    /// the primary one, named in `AccessDenied` messages.
    pub actions: &'static [&'static str],
    /// The pre-2023 `aws-portal` / legacy `purchase-orders` action(s) that
    /// governed the same console interaction, for reference.
    pub legacy: &'static [&'static str],
    pub resource: ResourceType,
    pub root_only: RootOnly,
    pub basis: Basis,
}

const fn op(
    event_name: &'static str,
    event_source: &'static str,
    actions: &'static [&'static str],
    legacy: &'static [&'static str],
    resource: ResourceType,
    root_only: RootOnly,
    basis: Basis,
) -> BillingOperation {
    BillingOperation {
        event_name,
        event_source,
        actions,
        legacy,
        resource,
        root_only,
        basis,
    }
}

/// The primary IAM action of the billing operation `event_name` on
/// `event_source` (e.g. `billingconsole.amazonaws.com`), or `None` for an
/// operation that is not one of the 63.
pub fn billing_action(event_source: &str, event_name: &str) -> Option<&'static str> {
    billing_operation(event_source, event_name)?
        .actions
        .first()
        .copied()
}

/// The full table row of a billing operation.
pub fn billing_operation(
    event_source: &str,
    event_name: &str,
) -> Option<&'static BillingOperation> {
    BILLING_OPERATIONS
        .iter()
        .find(|o| o.event_source == event_source && o.event_name == event_name)
}

/// All 63 billing operations, in the order of `models/billing-operations.tsv`.
pub fn billing_operations() -> &'static [BillingOperation] {
    &BILLING_OPERATIONS
}

static BILLING_OPERATIONS: [BillingOperation; 63] = [
    op(
        "AddPurchaseOrder",
        "purchase-orders.amazonaws.com",
        &["purchase-orders:AddPurchaseOrder"],
        &["purchase-orders:ModifyPurchaseOrders"],
        ResourceType::PurchaseOrder,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "AcceptFxPaymentCurrencyTermsAndConditions",
        "billingconsole.amazonaws.com",
        &["payments:UpdatePaymentPreferences"],
        &["aws-portal:ModifyAccount"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "BatchGetTaxExemptions",
        "taxconsole.amazonaws.com",
        &["tax:GetExemptions"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "CloseAccount",
        "billingconsole.amazonaws.com",
        &["account:CloseAccount"],
        &["aws-portal:ModifyAccount"],
        ResourceType::Any,
        RootOnly::Always,
        Basis::Documented,
    ),
    op(
        "CreateCustomerCase",
        "taxconsole.amazonaws.com",
        &[
            "tax:UpdateExemptions",
            "support:CreateCase",
            "support:AddAttachmentsToSet",
        ],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "CreateCustomerVerificationDetails",
        "customer-verification.amazonaws.com",
        &["customer-verification:CreateCustomerVerificationDetails"],
        &[],
        ResourceType::Any,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "CreateOrigamiReportPreference",
        "billingconsole.amazonaws.com",
        &["cur:PutReportDefinition"],
        &["aws-portal:ViewBilling"],
        ResourceType::CurReportDefinition,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "DeletePurchaseOrder",
        "purchase-orders.amazonaws.com",
        &["purchase-orders:DeletePurchaseOrder"],
        &["purchase-orders:ModifyPurchaseOrders"],
        ResourceType::PurchaseOrder,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "DeleteOrigamiReportPreferences",
        "billingconsole.amazonaws.com",
        &["cur:DeleteReportDefinition"],
        &["aws-portal:ViewBilling"],
        ResourceType::CurReportDefinition,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "DownloadCommercialInvoice",
        "billingconsole.amazonaws.com",
        &["invoicing:GetInvoicePDF"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "DownloadECSVForBillingPeriod",
        "billingconsole.amazonaws.com",
        &["cur:GetClassicReport"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "DownloadRegistrationDocument",
        "billingconsole.amazonaws.com",
        &["tax:GetTaxRegistrationDocument"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "DownloadTaxInvoice",
        "billingconsole.amazonaws.com",
        &["invoicing:GetInvoicePDF"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "EnableBillingAlerts",
        "billingconsole.amazonaws.com",
        &["billing:UpdateBillingPreferences"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "FindECSVForBillingPeriod",
        "billingconsole.amazonaws.com",
        &["cur:GetClassicReport"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "GetAccountEDPStatus",
        "billingconsole.amazonaws.com",
        &["billing:GetBillingData"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Low),
    ),
    op(
        "GetAddresses",
        "billingconsole.amazonaws.com",
        &["account:GetContactInformation"],
        &["aws-portal:ViewAccount"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "GetAllAccounts",
        "billingconsole.amazonaws.com",
        &["consolidatedbilling:ListLinkedAccounts"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "GetAllAccountDetails",
        "billingconsole.amazonaws.com",
        &["consolidatedbilling:ListLinkedAccounts"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "GetBillsForBillingPeriod",
        "billingconsole.amazonaws.com",
        &["billing:GetBillingDetails"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "GetBillsForLinkedAccount",
        "billingconsole.amazonaws.com",
        &["billing:GetBillingDetails"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "GetCommercialInvoicesForBillingPeriod",
        "billingconsole.amazonaws.com",
        &["invoicing:ListInvoiceSummaries"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "GetConsolidatedBillingFamilySummary",
        "billingconsole.amazonaws.com",
        &[
            "consolidatedbilling:ListLinkedAccounts",
            "billing:GetBillingData",
        ],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "GetCustomerVerificationEligibility",
        "customer-verification.amazonaws.com",
        &["customer-verification:GetCustomerVerificationEligibility"],
        &[],
        ResourceType::Any,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "GetCustomerVerificationDetails",
        "customer-verification.amazonaws.com",
        &["customer-verification:GetCustomerVerificationDetails"],
        &[],
        ResourceType::Any,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "GetLinkedAccountNames",
        "billingconsole.amazonaws.com",
        &["consolidatedbilling:ListLinkedAccounts"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "GetPurchaseOrder",
        "purchase-orders.amazonaws.com",
        &["purchase-orders:GetPurchaseOrder"],
        &["purchase-orders:ViewPurchaseOrders"],
        ResourceType::PurchaseOrder,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "GetSupportedCountryCodes",
        "billingconsole.amazonaws.com",
        &["tax:ListTaxRegistrations"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Low),
    ),
    op(
        "GetTaxExemptionTypes",
        "taxconsole.amazonaws.com",
        &["tax:GetExemptions"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "GetTaxInheritance",
        "billingconsole.amazonaws.com",
        &["tax:GetTaxInheritance"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "GetTaxInvoicesMetadata",
        "billingconsole.amazonaws.com",
        &["invoicing:ListInvoiceSummaries"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "GetTaxRegistration",
        "billingconsole.amazonaws.com",
        &["tax:GetTaxRegistration"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "GetTotal",
        "billingconsole.amazonaws.com",
        &["billing:GetBillingData"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "GetTotalAmountForForecast",
        "billingconsole.amazonaws.com",
        &["ce:GetCostForecast"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "ListCostAllocationTags",
        "billingconsole.amazonaws.com",
        &["ce:ListCostAllocationTags"],
        &["aws-portal:ViewBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "ListPurchaseOrders",
        "purchase-orders.amazonaws.com",
        &["purchase-orders:ListPurchaseOrders"],
        &["purchase-orders:ViewPurchaseOrders"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "ListPurchaseOrderInvoices",
        "purchase-orders.amazonaws.com",
        &["purchase-orders:ListPurchaseOrderInvoices"],
        &["purchase-orders:ViewPurchaseOrders"],
        ResourceType::PurchaseOrder,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "ListTagsForResource",
        "purchase-orders.amazonaws.com",
        &["purchase-orders:ListTagsForResource"],
        &[],
        ResourceType::PurchaseOrder,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "PreviewTaxRegistrationChange",
        "billingconsole.amazonaws.com",
        &["tax:PutTaxRegistration"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "RedeemPromoCode",
        "billingconsole.amazonaws.com",
        &["billing:RedeemCredits"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "SetAccountContractMetadata",
        "billingconsole.amazonaws.com",
        &["billing:PutContractInformation"],
        &["aws-portal:ModifyAccount"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "SetAccountPreferences",
        "billingconsole.amazonaws.com",
        &["account:PutAccountName"],
        &["aws-portal:ModifyAccount"],
        ResourceType::Any,
        RootOnly::EmailAndPassword,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "SetAdditionalContacts",
        "billingconsole.amazonaws.com",
        &["account:PutAlternateContact"],
        &["aws-portal:ModifyAccount"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "SetContactAddress",
        "billingconsole.amazonaws.com",
        &["account:PutContactInformation"],
        &["aws-portal:ModifyAccount"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "SetCreatedByOptIn",
        "billingconsole.amazonaws.com",
        &["ce:UpdateCostAllocationTagsStatus"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "SetCreditSharing",
        "billingconsole.amazonaws.com",
        &["billing:UpdateBillingPreferences"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "SetFreetierBudgetsPreference",
        "billingconsole.amazonaws.com",
        &["freetier:PutFreeTierAlertPreference"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "SetFxPaymentCurrency",
        "billingconsole.amazonaws.com",
        &["payments:UpdatePaymentPreferences"],
        &["aws-portal:ModifyAccount"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "SetIAMAccessPreference",
        "billingconsole.amazonaws.com",
        &["billing:UpdateIAMAccessPreference"],
        &["aws-portal:ModifyAccount"],
        ResourceType::Any,
        RootOnly::Always,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "SetPANInformation",
        "billingconsole.amazonaws.com",
        &["tax:PutTaxRegistration"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "SetPayInformation",
        "billingconsole.amazonaws.com",
        &["payments:UpdatePaymentPreferences"],
        &["aws-portal:ModifyPaymentMethods"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Medium),
    ),
    op(
        "SetRISharing",
        "billingconsole.amazonaws.com",
        &["billing:UpdateBillingPreferences"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "SetSecurityQuestions",
        "billingconsole.amazonaws.com",
        &["account:PutChallengeQuestions"],
        &["aws-portal:ModifyAccount"],
        ResourceType::Any,
        RootOnly::Always,
        Basis::Documented,
    ),
    op(
        "SetTagKeysState",
        "billingconsole.amazonaws.com",
        &["ce:UpdateCostAllocationTagsStatus"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "SetTaxInheritance",
        "billingconsole.amazonaws.com",
        &["tax:PutTaxInheritance"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "SetTaxRegistration",
        "billingconsole.amazonaws.com",
        &["tax:PutTaxRegistration"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "TagResource",
        "purchase-orders.amazonaws.com",
        &["purchase-orders:TagResource"],
        &[],
        ResourceType::PurchaseOrder,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "UntagResource",
        "purchase-orders.amazonaws.com",
        &["purchase-orders:UntagResource"],
        &[],
        ResourceType::PurchaseOrder,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "UpdateCustomerVerificationDetails",
        "customer-verification.amazonaws.com",
        &["customer-verification:UpdateCustomerVerificationDetails"],
        &[],
        ResourceType::Any,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "UpdateOrigamiReportPreference",
        "billingconsole.amazonaws.com",
        &["cur:ModifyReportDefinition"],
        &["aws-portal:ViewBilling"],
        ResourceType::CurReportDefinition,
        RootOnly::No,
        Basis::Inferred(Confidence::High),
    ),
    op(
        "UpdatePurchaseOrder",
        "purchase-orders.amazonaws.com",
        &["purchase-orders:UpdatePurchaseOrder"],
        &["purchase-orders:ModifyPurchaseOrders"],
        ResourceType::PurchaseOrder,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "UpdatePurchaseOrderStatus",
        "purchase-orders.amazonaws.com",
        &["purchase-orders:UpdatePurchaseOrderStatus"],
        &["purchase-orders:ModifyPurchaseOrders"],
        ResourceType::PurchaseOrder,
        RootOnly::No,
        Basis::Documented,
    ),
    op(
        "ValidateAddress",
        "billingconsole.amazonaws.com",
        &["tax:PutTaxRegistration"],
        &["aws-portal:ModifyBilling"],
        ResourceType::Any,
        RootOnly::No,
        Basis::Inferred(Confidence::Low),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{evaluate, managed_policy, Decision, Request};

    /// The operations file shipped for the AWS CLI; the table must cover it.
    const TSV: &str = include_str!("../../../../models/billing-operations.tsv");

    fn rows() -> Vec<(&'static str, &'static str)> {
        TSV.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let mut f = l.split('\t');
                (f.next().unwrap(), f.next().unwrap())
            })
            .collect()
    }

    #[test]
    fn every_operation_of_the_tsv_has_an_action() {
        let rows = rows();
        assert_eq!(rows.len(), 63);
        for (name, source) in &rows {
            let action = billing_action(source, name)
                .unwrap_or_else(|| panic!("no IAM action for {source} {name}"));
            let (vendor, rest) = action.split_once(':').expect("vendor prefix");
            assert!(!vendor.is_empty() && !rest.is_empty(), "{action}");
            assert!(
                vendor.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{action}"
            );
        }
        // Same set, same order, no extras.
        let table: Vec<_> = billing_operations()
            .iter()
            .map(|o| (o.event_name, o.event_source))
            .collect();
        assert_eq!(table, rows);
    }

    #[test]
    fn every_action_has_a_vendor_prefix_and_parses_in_a_policy() {
        for op in billing_operations() {
            assert!(!op.actions.is_empty(), "{}", op.event_name);
            for action in op.actions.iter().chain(op.legacy) {
                let (vendor, name) = action.split_once(':').expect("vendor prefix");
                assert!(
                    !vendor.is_empty() && !name.is_empty() && !name.contains(':'),
                    "{action}"
                );
                let doc = format!(
                    r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{action}","Resource":"*"}}}}"#
                );
                crate::policy::PolicyDocument::parse(&doc).expect(action);
            }
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(
            billing_action("billingconsole.amazonaws.com", "SetContactAddress"),
            Some("account:PutContactInformation")
        );
        assert_eq!(
            billing_action("taxconsole.amazonaws.com", "BatchGetTaxExemptions"),
            Some("tax:GetExemptions")
        );
        assert_eq!(
            billing_action("purchase-orders.amazonaws.com", "TagResource"),
            Some("purchase-orders:TagResource")
        );
        assert_eq!(
            billing_action("billingconsole.amazonaws.com", "TagResource"),
            None
        );
        assert_eq!(billing_action("billingconsole.amazonaws.com", "Nope"), None);
        let case = billing_operation("taxconsole.amazonaws.com", "CreateCustomerCase").unwrap();
        assert_eq!(case.actions.len(), 3);
        let close = billing_operation("billingconsole.amazonaws.com", "CloseAccount").unwrap();
        assert_eq!(close.root_only, RootOnly::Always);
        let po = billing_operation("purchase-orders.amazonaws.com", "GetPurchaseOrder").unwrap();
        assert_eq!(
            po.resource.arn("123456789012", "us-east-1", "PO-1"),
            "arn:aws:purchase-orders::123456789012:purchase-order/PO-1"
        );
        let cur = billing_operation(
            "billingconsole.amazonaws.com",
            "CreateOrigamiReportPreference",
        )
        .unwrap();
        assert_eq!(
            cur.resource.arn("123456789012", "us-east-1", "daily"),
            "arn:aws:cur:us-east-1:123456789012:definition/daily"
        );
    }

    /// Reference §4.1: which shipped policies allow each operation's primary action.
    #[test]
    fn managed_policies_agree_with_the_reference_table() {
        let allows = |policy: &str, op: &BillingOperation| {
            let doc = managed_policy(policy).unwrap();
            let resource = op.resource.arn("123456789012", "us-east-1", "x");
            op.actions.iter().all(|action| {
                evaluate(
                    &[doc],
                    &Request {
                        action,
                        resource: &resource,
                        context: &[],
                    },
                ) == Decision::Allow
            })
        };
        let count = |policy: &str| {
            billing_operations()
                .iter()
                .filter(|o| allows(policy, o))
                .count()
        };
        assert_eq!(count("arn:aws:iam::aws:policy/AdministratorAccess"), 63);
        // Counted from the "yes" cells of reference §4.1.
        assert_eq!(count("arn:aws:iam::aws:policy/ReadOnlyAccess"), 28);
        assert_eq!(count("arn:aws:iam::aws:policy/job-function/Billing"), 52);
        assert_eq!(
            count("arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess"),
            22
        );
        assert_eq!(
            count("arn:aws:iam::aws:policy/AWSPurchaseOrdersServiceRolePolicy"),
            14
        );
    }
}
