//! `PutEventSelectors` and `GetEventSelectors`: which events a trail logs.
//!
//! Basic selectors (at most 5) and advanced selectors replace each other. billtrail records
//! only management events, so a selector for data events is accepted (and shown) but takes
//! nothing; delivery applies the rules in [`billtrail_trail::select`].

use billtrail_protocol::ApiError;
use billtrail_trail::{AdvancedEventSelector, AdvancedFieldSelector, EventSelector, Selectors};
use serde::Deserialize;
use serde_json::{json, Value};

use super::trails::{ct_error, find_trail, save, Access, TRAIL_RESOURCE};
use crate::Context;

const MAX_BASIC: usize = 5;
/// Values of all advanced conditions of a trail together.
const MAX_ADVANCED_VALUES: usize = 500;
/// Data resources of all basic selectors of a trail together.
const MAX_DATA_RESOURCES: usize = 250;
const DATA_RESOURCE_TYPES: &[&str] = &[
    "AWS::S3::Object",
    "AWS::Lambda::Function",
    "AWS::DynamoDB::Table",
];
const CATEGORIES: &[&str] = &["Management", "Data", "NetworkActivity"];
/// Fields a management-event selector may test.
const MANAGEMENT_FIELDS: &[&str] = &["eventCategory", "eventSource", "eventName", "readOnly"];
/// Fields a data or network-activity selector may test.
const OTHER_FIELDS: &[&str] = &[
    "eventCategory",
    "eventSource",
    "eventName",
    "eventType",
    "readOnly",
    "resources.type",
    "resources.ARN",
    "userIdentity.arn",
    "sessionCredentialFromConsole",
    "errorCode",
    "vpcEndpointId",
];

fn invalid(message: impl Into<String>) -> ApiError {
    ct_error("InvalidEventSelectorsException", message)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutEventSelectorsInput {
    trail_name: String,
    event_selectors: Option<Vec<EventSelector>>,
    advanced_event_selectors: Option<Vec<AdvancedEventSelector>>,
}

pub(super) fn put_event_selectors(
    cx: &mut Context<'_>,
    input: PutEventSelectorsInput,
) -> Result<Value, ApiError> {
    let mut trail = find_trail(cx, &input.trail_name, Access::Write)?;
    cx.add_resource(TRAIL_RESOURCE, trail.arn.clone());
    trail.selectors = match (input.event_selectors, input.advanced_event_selectors) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "Specify either EventSelectors or AdvancedEventSelectors, not both.",
            ))
        }
        (None, None) => return Err(invalid("Specify EventSelectors or AdvancedEventSelectors.")),
        (Some(basic), None) => {
            check_basic(&basic)?;
            Selectors::Basic(basic)
        }
        (None, Some(advanced)) => {
            check_advanced(&advanced)?;
            Selectors::Advanced(advanced)
        }
    };
    save(cx, &trail)?;
    Ok(answer(&trail.arn, &trail.selectors))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetEventSelectorsInput {
    trail_name: String,
}

pub(super) fn get_event_selectors(
    cx: &mut Context<'_>,
    input: GetEventSelectorsInput,
) -> Result<Value, ApiError> {
    let trail = find_trail(cx, &input.trail_name, Access::Read)?;
    cx.add_resource(TRAIL_RESOURCE, trail.arn.clone());
    Ok(answer(&trail.arn, &trail.selectors))
}

fn answer(arn: &str, selectors: &Selectors) -> Value {
    match selectors {
        Selectors::Default => json!({
            "TrailARN": arn,
            "EventSelectors": [EventSelector::default()],
        }),
        Selectors::Basic(list) => json!({ "TrailARN": arn, "EventSelectors": list }),
        Selectors::Advanced(list) => json!({ "TrailARN": arn, "AdvancedEventSelectors": list }),
    }
}

fn check_basic(list: &[EventSelector]) -> Result<(), ApiError> {
    if list.len() > MAX_BASIC {
        return Err(invalid(format!(
            "A trail can have at most {MAX_BASIC} event selectors; {} were given.",
            list.len()
        )));
    }
    let mut values = 0usize;
    for s in list {
        for r in &s.data_resources {
            let ty = r.r#type.as_deref().unwrap_or_default();
            if !DATA_RESOURCE_TYPES.contains(&ty) {
                return Err(invalid(format!(
                    "Invalid data resource type {ty:?}: use one of {}, or advanced event selectors.",
                    DATA_RESOURCE_TYPES.join(", ")
                )));
            }
            let n = r.values.as_ref().map_or(0, Vec::len);
            if n == 0 {
                return Err(invalid(format!(
                    "The data resource of type {ty} has no values."
                )));
            }
            values += n;
        }
        if s.exclude_management_event_sources
            .iter()
            .any(String::is_empty)
        {
            return Err(invalid("An excluded event source must not be empty."));
        }
    }
    if values > MAX_DATA_RESOURCES {
        return Err(invalid(format!(
            "A trail can have at most {MAX_DATA_RESOURCES} data resource values; {values} were given."
        )));
    }
    Ok(())
}

fn operators(f: &AdvancedFieldSelector) -> [(&'static str, &Option<Vec<String>>); 6] {
    [
        ("Equals", &f.equals),
        ("StartsWith", &f.starts_with),
        ("EndsWith", &f.ends_with),
        ("NotEquals", &f.not_equals),
        ("NotStartsWith", &f.not_starts_with),
        ("NotEndsWith", &f.not_ends_with),
    ]
}

fn check_advanced(list: &[AdvancedEventSelector]) -> Result<(), ApiError> {
    if list.is_empty() {
        return Err(invalid("Specify at least one advanced event selector."));
    }
    let mut values = 0usize;
    for s in list {
        let named = s.name.as_deref().unwrap_or("(unnamed)");
        let category = s
            .field_selectors
            .iter()
            .find(|f| f.field == "eventCategory")
            .ok_or_else(|| {
                invalid(format!(
                    "Advanced event selector {named} must have an eventCategory field selector."
                ))
            })?;
        let category = match category.equals.as_deref() {
            Some([c])
                if CATEGORIES.contains(&c.as_str())
                    && operators(category)
                        .iter()
                        .filter(|(_, v)| v.is_some())
                        .count()
                        == 1 =>
            {
                c.as_str()
            }
            _ => {
                return Err(invalid(format!(
                    "In advanced event selector {named}, eventCategory must be Equals one of {}.",
                    CATEGORIES.join(", ")
                )))
            }
        };
        let allowed = if category == "Management" {
            MANAGEMENT_FIELDS
        } else {
            OTHER_FIELDS
        };
        let mut fields: Vec<&str> = Vec::new();
        for f in &s.field_selectors {
            if !allowed.contains(&f.field.as_str()) {
                return Err(invalid(format!(
                    "Field {} is not supported for {category} events in advanced event selector {named}.",
                    f.field
                )));
            }
            if fields.contains(&f.field.as_str()) {
                return Err(invalid(format!(
                    "Field {} appears more than once in advanced event selector {named}.",
                    f.field
                )));
            }
            fields.push(&f.field);
            let given: Vec<(&str, &Vec<String>)> = operators(f)
                .into_iter()
                .filter_map(|(op, v)| v.as_ref().map(|v| (op, v)))
                .collect();
            if given.is_empty() {
                return Err(invalid(format!(
                    "Field selector {} in advanced event selector {named} has no operator.",
                    f.field
                )));
            }
            if f.field == "readOnly" {
                let ok = matches!(given.as_slice(), [("Equals", v)]
                    if matches!(v.as_slice(), [x] if x == "true" || x == "false"));
                if !ok {
                    return Err(invalid(format!(
                        "In advanced event selector {named}, readOnly must be Equals true or false."
                    )));
                }
            }
            values += given.iter().map(|(_, v)| v.len()).sum::<usize>();
        }
    }
    if values > MAX_ADVANCED_VALUES {
        return Err(invalid(format!(
            "Advanced event selectors can have at most {MAX_ADVANCED_VALUES} condition values in all; {values} were given."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adv(v: serde_json::Value) -> Vec<AdvancedEventSelector> {
        serde_json::from_value(v).expect("selectors")
    }

    #[test]
    fn advanced_selectors_are_checked() {
        let ok = adv(json!([{
            "Name": "writes",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "readOnly", "Equals": ["false"]},
                {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
                {"Field": "eventName", "StartsWith": ["Set"], "NotEndsWith": ["Address"]}
            ]
        }]));
        assert!(check_advanced(&ok).is_ok());
        for bad in [
            json!([{"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Other"]}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management", "Data"]}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                       {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                       {"Field": "readOnly", "Equals": ["maybe"]}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                       {"Field": "readOnly", "NotEquals": ["true"]}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                       {"Field": "eventName"}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                       {"Field": "eventName", "Equals": ["A"]},
                                       {"Field": "eventName", "Equals": ["B"]}]}]),
            json!([]),
        ] {
            let e = check_advanced(&adv(bad.clone())).expect_err("refused");
            assert_eq!(e.code, "InvalidEventSelectorsException", "{bad}");
        }
        let many: Vec<String> = (0..501).map(|i| format!("E{i}")).collect();
        let e = check_advanced(&adv(json!([{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]},
            {"Field": "eventName", "Equals": many}
        ]}])))
        .expect_err("too many values");
        assert!(e.message.contains("500"));
        let data = adv(json!([{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}
        ]}]));
        assert!(check_advanced(&data).is_ok(), "data selectors are accepted");
    }

    #[test]
    fn basic_selectors_are_checked() {
        let one: Vec<EventSelector> =
            serde_json::from_value(json!([{"ReadWriteType": "WriteOnly"}])).expect("selectors");
        assert!(check_basic(&one).is_ok());
        let six = vec![EventSelector::default(); 6];
        assert!(check_basic(&six).is_err());
        let bad_type: Vec<EventSelector> = serde_json::from_value(json!([
            {"DataResources": [{"Type": "AWS::EC2::Instance", "Values": ["x"]}]}
        ]))
        .expect("selectors");
        assert!(check_basic(&bad_type).is_err());
        let s3: Vec<EventSelector> = serde_json::from_value(json!([
            {"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::b/"]}]}
        ]))
        .expect("selectors");
        assert!(check_basic(&s3).is_ok());
    }
}
