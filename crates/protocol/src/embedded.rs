//! The service models this server speaks, embedded at build time and parsed once.
//!
//! * `billingconsole`: `models/billingconsole/2018-05-30/service-2.json` at the repository
//!   root, the same file the AWS CLI loads through `AWS_DATA_PATH`, so the server and the
//!   client can never disagree about a shape.
//! * `cloudtrail`: `crates/protocol/models/cloudtrail.json`, the subset of botocore's
//!   `cloudtrail/2013-11-01` we serve, written by `models/subset.py` (server-side only; the CLI
//!   has botocore's own model).
//! * `iam` and `sts`: `crates/protocol/models/iam.json` and `sts.json`, the subsets of
//!   botocore's `iam/2010-05-08` and `sts/2011-06-15` we serve over AWS Query, written by
//!   `models/subset.py` from the pinned botocore (server-side only, like `cloudtrail`).
//!
//! All are covered by tests, so a model that does not load fails the build's tests, not a
//! running server.

use std::sync::OnceLock;

use crate::ServiceModel;

/// The text of the shipped `billingconsole` model.
pub const BILLINGCONSOLE_JSON: &str =
    include_str!("../../../models/billingconsole/2018-05-30/service-2.json");

/// The text of the server-side `cloudtrail` model.
pub const CLOUDTRAIL_JSON: &str = include_str!("../models/cloudtrail.json");

/// The text of the server-side `iam` model (AWS Query).
pub const IAM_JSON: &str = include_str!("../models/iam.json");

/// The text of the server-side `sts` model (AWS Query).
pub const STS_JSON: &str = include_str!("../models/sts.json");

fn load(cell: &'static OnceLock<ServiceModel>, text: &str, name: &str) -> &'static ServiceModel {
    cell.get_or_init(|| match ServiceModel::from_json(text) {
        Ok(model) => model,
        // The text is compiled in and loaded by the tests: this is a build defect, not input.
        #[allow(clippy::panic)]
        Err(e) => panic!("the embedded {name} model does not load: {e}"),
    })
}

/// The `billingconsole` (2018-05-30) model, target prefix `AWSBillingConsoleService`.
pub fn billingconsole_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    load(&MODEL, BILLINGCONSOLE_JSON, "billingconsole")
}

/// The `cloudtrail` (2013-11-01) model subset, target prefix
/// `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101`.
pub fn cloudtrail_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    load(&MODEL, CLOUDTRAIL_JSON, "cloudtrail")
}

/// The `iam` (2010-05-08) model subset: AWS Query, namespace
/// `https://iam.amazonaws.com/doc/2010-05-08/`.
pub fn iam_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    load(&MODEL, IAM_JSON, "iam")
}

/// The `sts` (2011-06-15) model subset: AWS Query, namespace
/// `https://sts.amazonaws.com/doc/2011-06-15/`.
pub fn sts_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    load(&MODEL, STS_JSON, "sts")
}

/// The text of the server-side `organizations` model subset.
pub const ORGANIZATIONS_JSON: &str = include_str!("../models/organizations.json");

/// The `organizations` (2016-11-28) model subset, target prefix `AWSOrganizationsV20161128`.
pub fn organizations_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    load(&MODEL, ORGANIZATIONS_JSON, "organizations")
}
