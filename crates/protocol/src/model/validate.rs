//! Checking a request against an operation's input shape, with AWS's messages.
//!
//! Two kinds of failure, as AWS JSON services report them:
//!
//! * a value of the wrong JSON type stops at once with a `SerializationException`
//!   (`"STRING_VALUE can not be converted to Integer"`,
//!   `"Start of structure or map found where not expected."`);
//! * constraint violations are collected over the whole input and reported together in one
//!   `ValidationException`:
//!   `"2 validation errors detected: Value null at 'fullName' failed to satisfy constraint:
//!   Member must not be null; Value 'usa' at 'countryCode' failed to satisfy constraint: …"`.
//!
//! Paths use lower-camel member names and 1-based list indexes with `.member`
//! (`lookupAttributes.1.member.attributeKey`). Unknown members are ignored and JSON `null` is
//! the same as absent, as in AWS. A `sensitive` value is never quoted (`"Value at 'password'
//! failed …"`). At most [`MAX_LISTED_ERRORS`] violations are spelled out (the count stays exact)
//! and a quoted value is cut at [`MAX_QUOTED_CHARS`] characters, so a large request cannot
//! make a larger error message (which is also recorded in CloudTrail).

use base64::Engine as _;
use serde_json::{Map, Value};

use super::{IntKind, Kind, Length, ServiceModel, ShapeId};
use crate::json11::{parse_timestamp, token_name};
use crate::{lower_camel, ApiError};

/// The most violations spelled out in one `ValidationException` message.
pub const MAX_LISTED_ERRORS: usize = 25;
/// The most characters of one value quoted in a validation message.
pub const MAX_QUOTED_CHARS: usize = 1024;
/// Validation stops descending past this depth (only reachable by values built in code;
/// [`crate::json11::parse_body`] bounds parsed bodies at 64).
const MAX_VALIDATION_DEPTH: usize = 128;

impl ServiceModel {
    /// Validates a request against the operation's input shape, AWS-style.
    ///
    /// * An unknown operation is an `UnknownOperationException`.
    /// * A wrong JSON type for a member stops at once with a `SerializationException`
    ///   (`"NUMBER_VALUE can not be converted to String"`, `"Start of structure or map found
    ///   where not expected."`, `"Start of list found where not expected"`).
    /// * Missing required members and length, range, enum and pattern violations are one
    ///   `ValidationException` listing them all, in model order:
    ///   `"2 validation errors detected: Value null at 'fullName' failed to satisfy constraint:
    ///   Member must not be null; Value 'usa' at 'countryCode' failed to satisfy constraint:
    ///   Member must have length less than or equal to 2"`. Paths use lower-camel member names
    ///   and 1-based list indexes (`lookupAttributes.1.member.attributeKey`). Map entries are
    ///   reported as `Map keys must satisfy constraint: [...]` / `Map value must satisfy
    ///   constraint: [...]`.
    /// * Unknown members are ignored; JSON `null` is the same as absent.
    /// * A `sensitive` value is never quoted (`"Value at 'password' failed …"`), at most
    ///   [`MAX_LISTED_ERRORS`] violations are spelled out (the count stays exact) and quoted
    ///   values are cut at [`MAX_QUOTED_CHARS`] characters.
    /// * String lengths count Unicode characters; patterns must match the whole value.
    /// * Timestamps accept epoch seconds (fraction allowed) or an ISO-8601 string; blobs must be
    ///   base64 strings (length bounds count decoded bytes); integers must be integral numbers
    ///   in range of their type; floats also accept `"NaN"`, `"Infinity"`, `"-Infinity"`.
    ///
    /// A Query model (IAM, STS; see [`ServiceModel::is_query`]) answers in Query's words: the
    /// violations are one `ValidationError` (same message), a wrong type is a `ValidationError`
    /// too (Query has no `SerializationException`; [`crate::query::decode`] already typed every
    /// value), and an unknown operation is `InvalidAction`.
    pub fn validate_input(
        &self,
        operation: &str,
        input: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        let Some(op) = self.operation(operation) else {
            if self.is_query() {
                return Err(super::query::invalid_action(self, operation, None));
            }
            return Err(ApiError::unknown_operation(format!(
                "Unknown operation: {operation}"
            )));
        };
        let Some(input_shape) = op.input else {
            return Ok(());
        };
        let mut v = Validator {
            model: self,
            listed: Vec::new(),
            count: 0,
        };
        v.structure(input_shape, input, "", 0).map_err(|e| {
            if self.is_query() {
                ApiError::new(self.validation_code(), 400, e.message)
            } else {
                e
            }
        })?;
        if v.count == 0 {
            return Ok(());
        }
        Err(ApiError::new(
            self.validation_code(),
            400,
            validation_message(v.count, &v.listed),
        ))
    }
}

/// `"<n> validation error(s) detected: <listed violations joined by '; '>"`.
pub(super) fn validation_message(count: usize, listed: &[String]) -> String {
    let noun = if count == 1 { "error" } else { "errors" };
    format!("{count} validation {noun} detected: {}", listed.join("; "))
}

struct Validator<'m> {
    model: &'m ServiceModel,
    /// The first [`MAX_LISTED_ERRORS`] violations, spelled out.
    listed: Vec<String>,
    /// All violations.
    count: usize,
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        lower_camel(name)
    } else {
        format!("{path}.{}", lower_camel(name))
    }
}

fn wrong_type(value: &Value, expected: &str) -> ApiError {
    ApiError::serialization(match value {
        Value::Object(_) => "Start of structure or map found where not expected.".to_owned(),
        Value::Array(_) => "Start of list found where not expected".to_owned(),
        other => format!("{} can not be converted to {expected}", token_name(other)),
    })
}

impl Validator<'_> {
    fn violation(&mut self, shape: ShapeId, value: Option<&Value>, path: &str, constraint: &str) {
        self.count += 1;
        if self.listed.len() >= MAX_LISTED_ERRORS {
            return;
        }
        let sensitive = self.model.shape(shape).is_some_and(|s| s.sensitive);
        let quoted = match value {
            None => "Value null".to_owned(),
            Some(_) if sensitive => "Value".to_owned(),
            Some(v) => format!("Value '{}'", self.quote(shape, v)),
        };
        self.listed.push(format!(
            "{quoted} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// The value as AWS quotes it (strings bare, lists as `[a, b]`), with sensitive parts
    /// hidden and cut at [`MAX_QUOTED_CHARS`].
    fn quote(&self, shape: ShapeId, value: &Value) -> String {
        let mut out = String::new();
        render(&self.model.redact_shape(shape, value, 0), &mut out);
        if out.chars().count() > MAX_QUOTED_CHARS {
            out = out.chars().take(MAX_QUOTED_CHARS).collect();
            out.push_str("...");
        }
        out
    }

    fn structure(
        &mut self,
        shape: ShapeId,
        map: &Map<String, Value>,
        path: &str,
        depth: usize,
    ) -> Result<(), ApiError> {
        let Some(Kind::Structure { members }) = self.model.shape(shape).map(|s| &s.kind) else {
            return Ok(());
        };
        for member in members {
            let member_path = join(path, &member.name);
            match map.get(&member.name) {
                None | Some(Value::Null) => {
                    if member.required {
                        self.violation(member.shape, None, &member_path, "Member must not be null");
                    }
                }
                Some(value) => self.value(member.shape, value, &member_path, depth + 1)?,
            }
        }
        Ok(())
    }

    fn value(
        &mut self,
        shape_id: ShapeId,
        value: &Value,
        path: &str,
        depth: usize,
    ) -> Result<(), ApiError> {
        if depth > MAX_VALIDATION_DEPTH {
            return Err(ApiError::serialization(
                "The request nests values too deeply.",
            ));
        }
        let Some(shape) = self.model.shape(shape_id) else {
            return Ok(());
        };
        match &shape.kind {
            Kind::Structure { .. } => match value {
                Value::Object(map) => self.structure(shape_id, map, path, depth)?,
                other => return Err(wrong_type(other, "Structure")),
            },
            Kind::List { member, length, .. } => {
                let Value::Array(items) = value else {
                    return Err(wrong_type(value, "List"));
                };
                self.length(shape_id, value, path, *length, items.len());
                for (i, item) in items.iter().enumerate() {
                    let item_path = format!("{path}.{}.member", i + 1);
                    if item.is_null() {
                        self.violation(*member, None, &item_path, "Member must not be null");
                    } else {
                        self.value(*member, item, &item_path, depth + 1)?;
                    }
                }
            }
            Kind::Map {
                key,
                value: value_shape,
                length,
                ..
            } => {
                let Value::Object(map) = value else {
                    return Err(wrong_type(value, "Map"));
                };
                self.length(shape_id, value, path, *length, map.len());
                self.map_entries(shape_id, *key, *value_shape, map, value, path, depth)?;
            }
            _ => {
                let constraints = self.scalar(shape_id, value)?;
                for c in constraints {
                    self.violation(shape_id, Some(value), path, &c);
                }
            }
        }
        Ok(())
    }

    fn length(&mut self, shape: ShapeId, value: &Value, path: &str, bounds: Length, len: usize) {
        for c in length_violations(bounds, len) {
            self.violation(shape, Some(value), path, &c);
        }
    }

    /// Map entries, reported as Coral does: one message for all bad keys
    /// (`Map keys must satisfy constraint: [...]`) and one for all bad scalar values
    /// (`Map value must satisfy constraint: [...]`). Structured values are validated in place
    /// under `<path>.<key>`.
    #[allow(clippy::too_many_arguments)]
    fn map_entries(
        &mut self,
        shape: ShapeId,
        key_shape: ShapeId,
        value_shape: ShapeId,
        map: &Map<String, Value>,
        whole: &Value,
        path: &str,
        depth: usize,
    ) -> Result<(), ApiError> {
        let value_is_scalar = !matches!(
            self.model.shape(value_shape).map(|s| &s.kind),
            Some(Kind::Structure { .. } | Kind::List { .. } | Kind::Map { .. })
        );
        let (mut key_problems, mut value_problems) = (Vec::new(), Vec::new());
        for (k, v) in map {
            for c in self.scalar(key_shape, &Value::String(k.clone()))? {
                if !key_problems.contains(&c) {
                    key_problems.push(c);
                }
            }
            if v.is_null() {
                let c = "Member must not be null".to_owned();
                if !value_problems.contains(&c) {
                    value_problems.push(c);
                }
            } else if value_is_scalar {
                for c in self.scalar(value_shape, v)? {
                    if !value_problems.contains(&c) {
                        value_problems.push(c);
                    }
                }
            } else {
                self.value(value_shape, v, &format!("{path}.{k}"), depth + 1)?;
            }
        }
        if !key_problems.is_empty() {
            let c = format!(
                "Map keys must satisfy constraint: [{}]",
                key_problems.join(", ")
            );
            self.violation(shape, Some(whole), path, &c);
        }
        if !value_problems.is_empty() {
            let c = format!(
                "Map value must satisfy constraint: [{}]",
                value_problems.join(", ")
            );
            self.violation(shape, Some(whole), path, &c);
        }
        Ok(())
    }

    /// Type-checks a scalar (a wrong type is an error) and returns its constraint violations.
    fn scalar(&self, shape_id: ShapeId, value: &Value) -> Result<Vec<String>, ApiError> {
        let Some(shape) = self.model.shape(shape_id) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        match &shape.kind {
            Kind::String {
                length,
                pattern,
                enum_values,
            } => {
                let Value::String(s) = value else {
                    return Err(wrong_type(value, "String"));
                };
                out.extend(length_violations(*length, s.chars().count()));
                if let Some(p) = pattern {
                    if !p.regex.is_match(s) {
                        out.push(format!(
                            "Member must satisfy regular expression pattern: {}",
                            p.source
                        ));
                    }
                }
                if !enum_values.is_empty() && !enum_values.iter().any(|e| e == s) {
                    out.push(format!(
                        "Member must satisfy enum value set: [{}]",
                        enum_values.join(", ")
                    ));
                }
            }
            Kind::Integer { kind, min, max } => {
                let n = integer(value, *kind).ok_or_else(|| wrong_type(value, kind.type_name()))?;
                if let Some(min) = min.filter(|m| n < *m) {
                    out.push(format!(
                        "Member must have value greater than or equal to {min}"
                    ));
                }
                if let Some(max) = max.filter(|m| n > *m) {
                    out.push(format!(
                        "Member must have value less than or equal to {max}"
                    ));
                }
            }
            Kind::Float { double, min, max } => {
                let expected = if *double { "Double" } else { "Float" };
                let n = float(value).ok_or_else(|| wrong_type(value, expected))?;
                if let Some(min) = min.filter(|m| n < *m) {
                    out.push(format!(
                        "Member must have value greater than or equal to {min}"
                    ));
                }
                if let Some(max) = max.filter(|m| n > *m) {
                    out.push(format!(
                        "Member must have value less than or equal to {max}"
                    ));
                }
            }
            Kind::Boolean => {
                if !value.is_boolean() {
                    return Err(wrong_type(value, "Boolean"));
                }
            }
            Kind::Timestamp => {
                if parse_timestamp(value).is_none() {
                    return Err(wrong_type(value, "Timestamp"));
                }
            }
            Kind::Blob { length } => {
                let Value::String(s) = value else {
                    return Err(wrong_type(value, "Blob"));
                };
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|_| {
                        ApiError::serialization(
                            "STRING_VALUE can not be converted to Blob: it is not valid base64",
                        )
                    })?;
                out.extend(length_violations(*length, bytes.len()));
            }
            Kind::Structure { .. } => return Err(wrong_type(value, "Structure")),
            Kind::List { .. } => return Err(wrong_type(value, "List")),
            Kind::Map { .. } => return Err(wrong_type(value, "Map")),
        }
        Ok(out)
    }
}

fn length_violations(bounds: Length, len: usize) -> Vec<String> {
    let len = u64::try_from(len).unwrap_or(u64::MAX);
    let mut out = Vec::new();
    if let Some(min) = bounds.min.filter(|m| len < *m) {
        out.push(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    if let Some(max) = bounds.max.filter(|m| len > *m) {
        out.push(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    out
}

/// An integral JSON number within the type's range (`5` and `5.0` are both 5).
fn integer(value: &Value, kind: IntKind) -> Option<i64> {
    let Value::Number(n) = value else { return None };
    let i = match n.as_i64() {
        Some(i) => i,
        None => {
            let f = n.as_f64()?;
            // Beyond ±2^53 a float no longer says which integer was meant.
            if f.fract() != 0.0 || f.abs() > 9_007_199_254_740_992.0 {
                return None;
            }
            f as i64
        }
    };
    let (lo, hi) = kind.range();
    (lo..=hi).contains(&i).then_some(i)
}

/// A JSON number, or the strings `NaN`, `Infinity`, `-Infinity` (Smithy's JSON encoding of
/// non-finite floats).
fn float(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// Java-style rendering, as AWS quotes values: strings bare, lists `[a, b]`, structures and
/// maps `{k=v, k2=v2}`.
fn render(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(item, out);
                if out.len() > MAX_QUOTED_CHARS * 4 {
                    break;
                }
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                render(v, out);
                if out.len() > MAX_QUOTED_CHARS * 4 {
                    break;
                }
            }
            out.push('}');
        }
    }
}
