//! Lower-camel-casing of member names, as CloudTrail writes `requestParameters` and as AWS
//! writes member paths in validation messages.

use serde_json::{Map, Value};

/// `"LookupAttributes"` → `"lookupAttributes"`, `"S3BucketName"` → `"s3BucketName"`: only the
/// first character is lower-cased, as AWS does (so `"ARN"` → `"aRN"`). Already lower-camel
/// names are unchanged.
pub fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if first.is_uppercase() => first.to_lowercase().chain(chars).collect(),
        _ => name.to_owned(),
    }
}

/// Lower-camel-cases every object key, recursively (`{"LookupAttributes":[{"AttributeKey":…}]}`
/// → `{"lookupAttributes":[{"attributeKey":…}]}`). Values are unchanged. Key order is kept;
/// if two keys collide after casing, the later one wins.
///
/// This does not know the model, so it also re-cases keys of map-typed members (user data
/// such as tag maps); [`crate::ServiceModel::lower_camel_members`] re-cases member names only.
pub fn lower_camel_keys(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (lower_camel(k), lower_camel_keys(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(lower_camel_keys).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_letter_only() {
        assert_eq!(lower_camel("LookupAttributes"), "lookupAttributes");
        assert_eq!(lower_camel("S3BucketName"), "s3BucketName");
        assert_eq!(lower_camel("ARN"), "aRN");
        assert_eq!(lower_camel("fullName"), "fullName");
        assert_eq!(lower_camel(""), "");
        assert_eq!(lower_camel("Ñame"), "ñame");
    }

    #[test]
    fn keys_recursively() {
        let v = json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "X"}],
                       "MaxResults": 5, "Nested": {"Inner": ["Keep", {"Deep": null}]}});
        assert_eq!(
            lower_camel_keys(&v),
            json!({"lookupAttributes": [{"attributeKey": "EventName", "attributeValue": "X"}],
                   "maxResults": 5, "nested": {"inner": ["Keep", {"deep": null}]}})
        );
        assert_eq!(lower_camel_keys(&json!("Str")), json!("Str"));
    }
}
