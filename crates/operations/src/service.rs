//! The services we serve and the closed table of their operations.

use billtrail_protocol::{lower_camel_keys, ApiError, ServiceModel};
use serde_json::{Map, Value};

use crate::{Decoder, Handler};

/// A service: one SigV4 signing name, one model, one CloudTrail event source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    BillingConsole,
    CloudTrail,
    Organizations,
    Iam,
    Sts,
}

/// How a service's requests and answers travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// AWS JSON 1.1: `X-Amz-Target`, JSON bodies.
    Json,
    /// AWS Query: form-encoded `Action=`, XML answers.
    Query,
}

impl Service {
    pub const ALL: [Service; 5] = [
        Service::BillingConsole,
        Service::CloudTrail,
        Service::Organizations,
        Service::Iam,
        Service::Sts,
    ];

    pub fn protocol(self) -> Protocol {
        match self {
            Service::Iam | Service::Sts => Protocol::Query,
            _ => Protocol::Json,
        }
    }

    /// The access-denied error in the service's own spelling.
    pub fn access_denied(self, message: String) -> ApiError {
        match self.protocol() {
            Protocol::Json => ApiError::access_denied(message),
            Protocol::Query => ApiError::new("AccessDenied", 403, message),
        }
    }

    /// The service selected by a SigV4 credential scope's service name.
    pub fn from_signing_name(name: &str) -> Option<Service> {
        Service::ALL
            .into_iter()
            .find(|s| s.model().signing_name() == name)
    }

    pub fn model(self) -> &'static ServiceModel {
        match self {
            Service::BillingConsole => billtrail_protocol::billingconsole_model(),
            Service::CloudTrail => billtrail_protocol::cloudtrail_model(),
            Service::Organizations => billtrail_protocol::organizations_model(),
            Service::Iam => billtrail_protocol::iam_model(),
            Service::Sts => billtrail_protocol::sts_model(),
        }
    }

    pub fn event_source(self) -> &'static str {
        match self {
            Service::BillingConsole => "billingconsole.amazonaws.com",
            Service::CloudTrail => "cloudtrail.amazonaws.com",
            Service::Organizations => "organizations.amazonaws.com",
            Service::Iam => "iam.amazonaws.com",
            Service::Sts => "sts.amazonaws.com",
        }
    }

    /// Global services record every call in us-east-1, whatever region the client signed for.
    pub fn recording_region(self, signed_region: &str) -> String {
        match self {
            Service::BillingConsole | Service::Organizations | Service::Iam | Service::Sts => {
                "us-east-1".to_string()
            }
            Service::CloudTrail => signed_region.to_string(),
        }
    }

    fn operations(self) -> &'static [OpSpec] {
        match self {
            Service::BillingConsole => crate::billing_console::OPERATIONS,
            Service::CloudTrail => crate::cloudtrail::OPERATIONS,
            Service::Organizations => crate::organizations::OPERATIONS,
            Service::Iam => crate::iam::OPERATIONS,
            Service::Sts => crate::sts::OPERATIONS,
        }
    }

    /// `requestParameters` for a call, before redaction. The billing consoles record every input
    /// member, `null` when not sent (as the seed's example records show); AWS services record
    /// what was sent, with lower-camel-case names.
    pub(crate) fn request_parameters(self, op: &str, input: &Map<String, Value>) -> Value {
        match self {
            Service::BillingConsole => {
                let members = self.model().input_members(op);
                // Sized up front: growing a map member by member rehashed it three times for
                // SetContactAddress's 13 members, a quarter of this function's time.
                let mut out = Map::with_capacity(members.len());
                for member in members {
                    out.insert(
                        member.to_string(),
                        input.get(member).cloned().unwrap_or(Value::Null),
                    );
                }
                Value::Object(out)
            }
            _ => lower_camel_keys(&Value::Object(input.clone())),
        }
    }

    /// `responseElements` for a successful write, from its (redacted) output: the billing
    /// consoles record their answer as is, AWS services with lower-camel-case names.
    pub(crate) fn response_elements(self, output: Value) -> Value {
        match self {
            Service::BillingConsole => output,
            _ => lower_camel_keys(&output),
        }
    }

    /// True for the four billing consoles' services, which the IAM-access-to-billing preference
    /// gates.
    pub fn is_billing(self) -> bool {
        matches!(self, Service::BillingConsole)
    }
}

/// One operation: everything the pipeline needs to run, authorize and record it.
pub struct OpSpec {
    pub service: Service,
    pub name: &'static str,
    /// From `billing-operations.tsv` for the billing services.
    pub read_only: bool,
    /// The IAM action a policy must allow.
    pub action: &'static str,
    /// The input member that names an S3 bucket whose existence the handler needs: the
    /// pipeline asks the object store before running the handler (which cannot: it runs
    /// synchronously inside the store's transaction), and the handler reads the answer with
    /// [`Context::bucket_exists`](crate::Context::bucket_exists).
    pub bucket_member: Option<&'static str>,
    /// Reads the validated input into the handler's type.
    pub(crate) decode: Decoder,
    pub(crate) handler: Handler,
}

impl std::fmt::Debug for OpSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpSpec")
            .field("service", &self.service)
            .field("name", &self.name)
            .field("read_only", &self.read_only)
            .field("action", &self.action)
            .finish()
    }
}

/// The operation `name` of `service`, if we serve it.
pub fn find(service: Service, name: &str) -> Option<&'static OpSpec> {
    service.operations().iter().find(|op| op.name == name)
}

/// Every operation of every service.
pub fn all_operations() -> impl Iterator<Item = &'static OpSpec> {
    Service::ALL.into_iter().flat_map(|s| s.operations().iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table and the model must name the same operations: an operation in one but not the
    /// other would be unreachable or unvalidated.
    #[test]
    fn every_model_operation_has_a_handler_and_back() {
        for service in Service::ALL {
            let model: Vec<&str> = service.model().operation_names().collect();
            for name in &model {
                assert!(
                    find(service, name).is_some(),
                    "{service:?} {name} has no handler"
                );
            }
            for op in service.operations() {
                assert!(
                    model.contains(&op.name),
                    "{service:?} {} is not in the model",
                    op.name
                );
                assert_eq!(op.service, service);
            }
        }
    }

    /// The billing operations' event sources and read-only flags are the seed's.
    #[test]
    fn billing_operations_match_the_seed_table() {
        let table = include_str!("../../../models/billing-operations.tsv");
        let rows: Vec<Vec<&str>> = table
            .lines()
            .skip(1)
            .map(|l| l.split('\t').collect())
            .collect();
        let billing = all_operations().filter(|o| o.service.is_billing());
        let mut checked = 0;
        for op in billing {
            let row = rows
                .iter()
                .find(|r| r.first() == Some(&op.name))
                .unwrap_or_else(|| panic!("{} is not in the seed's table", op.name));
            assert_eq!(
                row.get(1),
                Some(&op.service.event_source()),
                "{} event source",
                op.name
            );
            assert_eq!(
                row.get(2) == Some(&"true"),
                op.read_only,
                "{} read-only",
                op.name
            );
            checked += 1;
        }
        assert!(checked >= 5);
    }
}
