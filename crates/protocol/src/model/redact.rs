//! Hiding `sensitive` values, and model-aware lower-camel-casing, for what gets recorded.

use serde_json::{Map, Value};

use super::{Kind, Member, ServiceModel, ShapeId};
use crate::{lower_camel, HIDDEN};

/// Beyond this depth a value is hidden whole rather than inspected: what cannot be checked is
/// not recorded. Parsed bodies never get here ([`crate::json11::MAX_DEPTH`] is 64).
const MAX_REDACT_DEPTH: usize = 128;

impl ServiceModel {
    /// A copy of `value` (the operation's input, or its output when `output` is true) in which
    /// every member whose shape is marked `"sensitive": true`, at any depth and including list
    /// and map elements, is replaced by the string [`HIDDEN`] (`HIDDEN_DUE_TO_SECURITY_REASONS`).
    ///
    /// * `null` stays `null` (there is nothing to hide); members not in the model are copied.
    /// * A sensitive member is hidden whatever its JSON type, so a malformed request that
    ///   failed validation is redacted just as well.
    /// * Keys match member names exactly or after lower-camel-casing both, so the same call
    ///   works on a request and on CloudTrail-style `requestParameters`.
    /// * An unknown operation, or one without that input/output, returns a copy.
    pub fn redact(&self, operation: &str, output: bool, value: &Value) -> Value {
        match self.io_shape(operation, output) {
            Some(shape) => self.redact_shape(shape, value, 0),
            None => value.clone(),
        }
    }

    /// A copy of `value` (as for [`ServiceModel::redact`]) with the operation's member names
    /// lower-camel-cased at every depth, as CloudTrail writes `requestParameters` and
    /// `responseElements`; unlike [`crate::lower_camel_keys`], keys of map-typed members (user
    /// data such as tag keys) and keys not in the model are left as they are.
    pub fn lower_camel_members(&self, operation: &str, output: bool, value: &Value) -> Value {
        match self.io_shape(operation, output) {
            Some(shape) => self.camel_shape(shape, value, 0),
            None => value.clone(),
        }
    }

    fn io_shape(&self, operation: &str, output: bool) -> Option<ShapeId> {
        let op = self.operation(operation)?;
        if output {
            op.output
        } else {
            op.input
        }
    }

    pub(super) fn redact_shape(&self, shape: ShapeId, value: &Value, depth: usize) -> Value {
        if value.is_null() {
            return Value::Null;
        }
        let Some(s) = self.shape(shape) else {
            return value.clone();
        };
        if s.sensitive || depth > MAX_REDACT_DEPTH {
            return Value::String(HIDDEN.to_owned());
        }
        match (&s.kind, value) {
            (Kind::Structure { members }, Value::Object(map)) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = match find_member(members, k) {
                            Some(m) => self.redact_shape(m.shape, v, depth + 1),
                            None => v.clone(),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            (Kind::List { member, .. }, Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|item| self.redact_shape(*member, item, depth + 1))
                    .collect(),
            ),
            (Kind::Map { key, value: vs, .. }, Value::Object(map)) => {
                if self.shape(*key).is_some_and(|k| k.sensitive) {
                    return Value::String(HIDDEN.to_owned());
                }
                Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), self.redact_shape(*vs, v, depth + 1)))
                        .collect(),
                )
            }
            // A container shape given a value of another JSON type, or a scalar: nothing in
            // it can be matched to a sensitive member.
            _ => value.clone(),
        }
    }

    fn camel_shape(&self, shape: ShapeId, value: &Value, depth: usize) -> Value {
        let Some(s) = self.shape(shape) else {
            return value.clone();
        };
        if depth > MAX_REDACT_DEPTH {
            return value.clone();
        }
        match (&s.kind, value) {
            (Kind::Structure { members }, Value::Object(map)) => Value::Object(
                map.iter()
                    .map(|(k, v)| match find_member(members, k) {
                        Some(m) => (lower_camel(k), self.camel_shape(m.shape, v, depth + 1)),
                        None => (k.clone(), v.clone()),
                    })
                    .collect::<Map<_, _>>(),
            ),
            (Kind::List { member, .. }, Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|item| self.camel_shape(*member, item, depth + 1))
                    .collect(),
            ),
            (Kind::Map { value: vs, .. }, Value::Object(map)) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.camel_shape(*vs, v, depth + 1)))
                    .collect(),
            ),
            _ => value.clone(),
        }
    }
}

fn find_member<'a>(members: &'a [Member], key: &str) -> Option<&'a Member> {
    members.iter().find(|m| m.name == key).or_else(|| {
        let key = lower_camel(key);
        members.iter().find(|m| lower_camel(&m.name) == key)
    })
}
