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
        let mut copy = value.clone();
        self.redact_in_place(operation, output, &mut copy);
        copy
    }

    /// [`ServiceModel::redact`] without the copy: `value` itself is changed.
    pub fn redact_in_place(&self, operation: &str, output: bool, value: &mut Value) {
        if let Some(shape) = self.io_shape(operation, output) {
            self.redact_shape_in_place(shape, value, 0);
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
        let mut copy = value.clone();
        self.redact_shape_in_place(shape, &mut copy, depth);
        copy
    }

    fn redact_shape_in_place(&self, shape: ShapeId, value: &mut Value, depth: usize) {
        if value.is_null() {
            return;
        }
        let Some(s) = self.shape(shape) else {
            return;
        };
        if s.sensitive || depth > MAX_REDACT_DEPTH {
            *value = Value::String(HIDDEN.to_owned());
            return;
        }
        match (&s.kind, value) {
            (Kind::Structure { members }, Value::Object(map)) => {
                for (k, v) in map.iter_mut() {
                    if let Some(m) = find_member(members, k) {
                        self.redact_shape_in_place(m.shape, v, depth + 1);
                    }
                }
            }
            (Kind::List { member, .. }, Value::Array(items)) => {
                for item in items {
                    self.redact_shape_in_place(*member, item, depth + 1);
                }
            }
            (Kind::Map { key, value: vs, .. }, value @ Value::Object(_)) => {
                if self.shape(*key).is_some_and(|k| k.sensitive) {
                    *value = Value::String(HIDDEN.to_owned());
                    return;
                }
                if let Value::Object(map) = value {
                    for v in map.values_mut() {
                        self.redact_shape_in_place(*vs, v, depth + 1);
                    }
                }
            }
            // A container shape given a value of another JSON type, or a scalar: nothing in
            // it can be matched to a sensitive member.
            _ => {}
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
