//! botocore-format service models (`service-2.json`): loading, and the questions the server
//! asks of them.
//!
//! A model is checked once when it is loaded: every shape reference resolves, every `required`
//! name is a member, every bound is a number of the right kind and every `pattern` compiles.
//! After that, validation and redaction cannot meet a dangling reference.
//!
//! Only what the wire needs is kept: types, members, `required`, `min`/`max`, `pattern`,
//! `enum`, `sensitive`, the error traits of exception shapes (`code`, `httpStatusCode`,
//! `senderFault`), and the XML/Query serialization traits (`xmlNamespace`, `resultWrapper`,
//! `locationName`, `flattened`, `timestampFormat`). Documentation is ignored.
//!
//! Patterns are Java regular expressions (AWS validates with `java.util.regex`): they are
//! compiled with the `regex` crate after Java's ASCII-only `\w`, `\d` and `\s` (and their
//! negations) are spelled out as ASCII classes, so `[\w+=,.@-]+` rejects `é` as AWS does
//! while `\p{L}` still matches every letter.

pub(crate) mod query;
mod redact;
mod validate;

pub use validate::{MAX_LISTED_ERRORS, MAX_QUOTED_CHARS};

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::ApiError;

/// Why a model could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The text is not JSON, or not shaped like a botocore model.
    #[error("service model is not valid: {0}")]
    Syntax(String),
    /// The model is well-formed JSON but inconsistent (e.g. a dangling shape reference).
    #[error("service model is not valid at {at}: {problem}")]
    Invalid {
        /// Where: `shapes.<Name>`, `operations.<Name>` or `metadata`.
        at: String,
        /// What is wrong.
        problem: String,
    },
}

fn invalid(at: impl Into<String>, problem: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        at: at.into(),
        problem: problem.into(),
    }
}

/// A botocore-format service model, parsed and checked.
#[derive(Debug)]
pub struct ServiceModel {
    metadata: Metadata,
    operations: Vec<Operation>,
    operation_index: HashMap<String, usize>,
    shapes: Vec<Shape>,
}

#[derive(Debug)]
struct Metadata {
    api_version: String,
    endpoint_prefix: String,
    protocol: String,
    service_id: String,
    service_full_name: String,
    signing_name: String,
    target_prefix: String,
    xml_namespace: String,
}

#[derive(Debug)]
struct Operation {
    name: String,
    input: Option<ShapeId>,
    output: Option<ShapeId>,
    /// `output.resultWrapper` (Query): the element that wraps the output in the response.
    result_wrapper: Option<String>,
    errors: Vec<ShapeId>,
}

/// Index into `ServiceModel::shapes`; valid by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShapeId(usize);

#[derive(Debug)]
struct Shape {
    name: String,
    kind: Kind,
    sensitive: bool,
    /// `Some(status)` for shapes marked `"exception": true`.
    error_status: Option<u16>,
    /// `error.code`: the code Query services send for this exception (e.g. `NoSuchEntity`
    /// for `NoSuchEntityException`); `None` means the shape name.
    error_code: Option<String>,
    /// `error.senderFault`: the caller is at fault (`<Type>Sender</Type>`).
    sender_fault: bool,
    /// The serialization traits a shape may carry itself (a member reference overrides them).
    xml: XmlTraits,
}

/// `locationName`, `flattened` and `timestampFormat`, on a shape or a reference to one.
#[derive(Debug, Clone, Default)]
struct XmlTraits {
    location_name: Option<String>,
    flattened: Option<bool>,
    timestamp_format: Option<String>,
}

#[derive(Debug)]
struct Member {
    name: String,
    shape: ShapeId,
    required: bool,
    /// The traits on the member reference.
    xml: XmlTraits,
}

/// Length bounds (strings, blobs, lists, maps) in characters, bytes or entries.
#[derive(Debug, Default, Clone, Copy)]
struct Length {
    min: Option<u64>,
    max: Option<u64>,
}

#[derive(Debug)]
struct Pattern {
    source: String,
    regex: regex::Regex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntKind {
    Byte,
    Short,
    Integer,
    Long,
}

impl IntKind {
    fn range(self) -> (i64, i64) {
        match self {
            IntKind::Byte => (i8::MIN.into(), i8::MAX.into()),
            IntKind::Short => (i16::MIN.into(), i16::MAX.into()),
            IntKind::Integer => (i32::MIN.into(), i32::MAX.into()),
            IntKind::Long => (i64::MIN, i64::MAX),
        }
    }
    fn type_name(self) -> &'static str {
        match self {
            IntKind::Byte => "Byte",
            IntKind::Short => "Short",
            IntKind::Integer => "Integer",
            IntKind::Long => "Long",
        }
    }
}

#[derive(Debug)]
enum Kind {
    Structure {
        members: Vec<Member>,
    },
    List {
        member: ShapeId,
        length: Length,
        /// The traits on the `member` reference (its `locationName` names list items).
        member_xml: XmlTraits,
    },
    Map {
        key: ShapeId,
        value: ShapeId,
        length: Length,
        /// The `locationName`s of the `key` and `value` references (default `key`, `value`).
        key_xml: XmlTraits,
        value_xml: XmlTraits,
    },
    String {
        length: Length,
        pattern: Option<Pattern>,
        enum_values: Vec<String>,
    },
    Integer {
        kind: IntKind,
        min: Option<i64>,
        max: Option<i64>,
    },
    Float {
        double: bool,
        min: Option<f64>,
        max: Option<f64>,
    },
    Boolean,
    Timestamp,
    Blob {
        length: Length,
    },
}

// ---- the raw JSON, as botocore writes it ----

#[derive(Deserialize)]
struct RawModel {
    metadata: RawMetadata,
    #[serde(default)]
    operations: Map<String, Value>,
    #[serde(default)]
    shapes: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetadata {
    api_version: String,
    endpoint_prefix: String,
    protocol: String,
    #[serde(default)]
    service_id: Option<String>,
    #[serde(default)]
    service_full_name: Option<String>,
    #[serde(default)]
    signing_name: Option<String>,
    #[serde(default)]
    target_prefix: Option<String>,
    #[serde(default)]
    xml_namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRef {
    shape: String,
    #[serde(default)]
    location_name: Option<String>,
    #[serde(default)]
    flattened: Option<bool>,
    #[serde(default)]
    timestamp_format: Option<String>,
    #[serde(default)]
    result_wrapper: Option<String>,
}

impl RawRef {
    fn xml(&self) -> XmlTraits {
        XmlTraits {
            location_name: self.location_name.clone(),
            flattened: self.flattened,
            timestamp_format: self.timestamp_format.clone(),
        }
    }
}

#[derive(Deserialize)]
struct RawOperation {
    #[serde(default)]
    input: Option<RawRef>,
    #[serde(default)]
    output: Option<RawRef>,
    #[serde(default)]
    errors: Vec<RawRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawErrorTrait {
    #[serde(default)]
    http_status_code: Option<u16>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    sender_fault: bool,
}

#[derive(Deserialize)]
struct RawShape {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    members: Map<String, Value>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    member: Option<RawRef>,
    #[serde(default)]
    key: Option<RawRef>,
    #[serde(default)]
    value: Option<RawRef>,
    #[serde(default)]
    min: Option<serde_json::Number>,
    #[serde(default)]
    max: Option<serde_json::Number>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default, rename = "enum")]
    enum_values: Vec<String>,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    exception: bool,
    #[serde(default)]
    fault: bool,
    #[serde(default)]
    error: Option<RawErrorTrait>,
    #[serde(default, rename = "locationName")]
    location_name: Option<String>,
    #[serde(default)]
    flattened: Option<bool>,
    #[serde(default, rename = "timestampFormat")]
    timestamp_format: Option<String>,
}

impl ServiceModel {
    /// Parses and checks a botocore `service-2.json`.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let raw: RawModel =
            serde_json::from_str(text).map_err(|e| ModelError::Syntax(e.to_string()))?;

        let ids: HashMap<&str, ShapeId> = raw
            .shapes
            .keys()
            .enumerate()
            .map(|(i, name)| (name.as_str(), ShapeId(i)))
            .collect();
        let resolve = |at: &str, r: &RawRef| {
            ids.get(r.shape.as_str())
                .copied()
                .ok_or_else(|| invalid(at, format!("unknown shape '{}'", r.shape)))
        };

        let mut shapes = Vec::with_capacity(raw.shapes.len());
        for (name, value) in &raw.shapes {
            let at = format!("shapes.{name}");
            let rs: RawShape = serde_json::from_value(value.clone())
                .map_err(|e| invalid(at.as_str(), e.to_string()))?;
            shapes.push(build_shape(name, &at, rs, &resolve)?);
        }

        let mut operations = Vec::with_capacity(raw.operations.len());
        let mut operation_index = HashMap::new();
        for (name, value) in &raw.operations {
            let at = format!("operations.{name}");
            let ro: RawOperation = serde_json::from_value(value.clone())
                .map_err(|e| invalid(at.as_str(), e.to_string()))?;
            let structure = |r: &Option<RawRef>| -> Result<Option<ShapeId>, ModelError> {
                let Some(r) = r else { return Ok(None) };
                let id = resolve(&at, r)?;
                match shapes.get(id.0).map(|s: &Shape| &s.kind) {
                    Some(Kind::Structure { .. }) => Ok(Some(id)),
                    _ => Err(invalid(
                        at.as_str(),
                        format!("'{}' is not a structure", r.shape),
                    )),
                }
            };
            let input = structure(&ro.input)?;
            let output = structure(&ro.output)?;
            let mut errors = Vec::with_capacity(ro.errors.len());
            for r in &ro.errors {
                let id = resolve(&at, r)?;
                if shapes.get(id.0).and_then(|s| s.error_status).is_none() {
                    return Err(invalid(
                        at.as_str(),
                        format!("error '{}' is not an exception shape", r.shape),
                    ));
                }
                errors.push(id);
            }
            operation_index.insert(name.clone(), operations.len());
            operations.push(Operation {
                name: name.clone(),
                input,
                output,
                result_wrapper: ro.output.as_ref().and_then(|r| r.result_wrapper.clone()),
                errors,
            });
        }

        let m = raw.metadata;
        if m.protocol == "json" && m.target_prefix.as_deref().unwrap_or("").is_empty() {
            return Err(invalid(
                "metadata",
                "a json-protocol model needs a targetPrefix",
            ));
        }
        if m.protocol == "query" && m.xml_namespace.as_deref().unwrap_or("").is_empty() {
            return Err(invalid(
                "metadata",
                "a query-protocol model needs an xmlNamespace",
            ));
        }
        let metadata = Metadata {
            xml_namespace: m.xml_namespace.unwrap_or_default(),
            signing_name: m.signing_name.unwrap_or_else(|| m.endpoint_prefix.clone()),
            service_id: m.service_id.unwrap_or_default(),
            service_full_name: m.service_full_name.unwrap_or_default(),
            target_prefix: m.target_prefix.unwrap_or_default(),
            api_version: m.api_version,
            endpoint_prefix: m.endpoint_prefix,
            protocol: m.protocol,
        };
        Ok(ServiceModel {
            metadata,
            operations,
            operation_index,
            shapes,
        })
    }

    /// `metadata.targetPrefix`, e.g. `AWSBillingConsoleService`.
    pub fn target_prefix(&self) -> &str {
        &self.metadata.target_prefix
    }

    /// `metadata.signingName` (botocore's default: the endpoint prefix).
    pub fn signing_name(&self) -> &str {
        &self.metadata.signing_name
    }

    /// `metadata.apiVersion`, e.g. `2018-05-30`.
    pub fn api_version(&self) -> &str {
        &self.metadata.api_version
    }

    /// `metadata.endpointPrefix`.
    pub fn endpoint_prefix(&self) -> &str {
        &self.metadata.endpoint_prefix
    }

    /// `metadata.protocol`, e.g. `json` or `query`.
    pub fn protocol(&self) -> &str {
        &self.metadata.protocol
    }

    /// Whether the model speaks the AWS Query protocol (IAM, STS): form-encoded requests, XML
    /// responses, and Query error spellings (`ValidationError`, `InvalidAction`, the shapes'
    /// `error.code`).
    pub fn is_query(&self) -> bool {
        self.metadata.protocol == "query"
    }

    /// `metadata.xmlNamespace` (Query/XML models), e.g.
    /// `https://iam.amazonaws.com/doc/2010-05-08/`; empty when absent.
    pub fn xml_namespace(&self) -> &str {
        &self.metadata.xml_namespace
    }

    /// The `resultWrapper` of the operation's output (e.g. `CreateUserResult`), if any.
    pub fn result_wrapper(&self, operation: &str) -> Option<&str> {
        self.operation(operation)?.result_wrapper.as_deref()
    }

    /// Whether the operation has an output shape.
    pub fn has_output(&self, operation: &str) -> bool {
        self.operation(operation)
            .is_some_and(|op| op.output.is_some())
    }

    /// `metadata.serviceId` (empty when absent).
    pub fn service_id(&self) -> &str {
        &self.metadata.service_id
    }

    /// `metadata.serviceFullName` (empty when absent).
    pub fn service_full_name(&self) -> &str {
        &self.metadata.service_full_name
    }

    /// The operation names, in model order.
    pub fn operation_names(&self) -> impl Iterator<Item = &str> {
        self.operations.iter().map(|o| o.name.as_str())
    }

    /// Whether the model has this operation (case-sensitive, as targets are).
    pub fn has_operation(&self, name: &str) -> bool {
        self.operation_index.contains_key(name)
    }

    /// The error codes (exception shape names) the operation declares, in model order.
    pub fn operation_errors(&self, operation: &str) -> Vec<&str> {
        self.operation(operation)
            .map(|op| {
                op.errors
                    .iter()
                    .filter_map(|id| self.shape(*id))
                    .map(|s| s.name.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The names of the operation's top-level input members, in model order (empty for an
    /// unknown operation or one without input).
    pub fn input_members(&self, operation: &str) -> Vec<&str> {
        self.operation(operation)
            .and_then(|op| op.input)
            .and_then(|id| self.shape(id))
            .map(|s| match &s.kind {
                Kind::Structure { members } => members.iter().map(|m| m.name.as_str()).collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default()
    }

    /// An error with the HTTP status this model declares for `code` (its exception shape's
    /// `error.httpStatusCode`), or 400 when the model does not declare it. `code` may be the
    /// shape name or the shape's `error.code`.
    ///
    /// For a Query model the code is spelled as the wire has it, by
    /// [`crate::query::wire_error`]: the shape's `error.code` (`error("NoSuchEntityException",
    /// ..)` is `NoSuchEntity`, 404), and the codes all Query services share by their Query
    /// names (`AccessDeniedException` is `AccessDenied`, 403). A JSON model keeps `code` as
    /// given.
    pub fn error(
        &self,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> ApiError {
        let code = code.into();
        if self.is_query() {
            return query::respell(self, ApiError::new(code, 400, message));
        }
        let status = self
            .exception_shape(&code)
            .and_then(|s| s.error_status)
            .unwrap_or(400);
        ApiError::new(code, status, message)
    }

    /// The exception shape whose name or `error.code` is `code`.
    fn exception_shape(&self, code: &str) -> Option<&Shape> {
        let exceptions = || self.shapes.iter().filter(|s| s.error_status.is_some());
        exceptions()
            .find(|s| s.name == code)
            .or_else(|| exceptions().find(|s| s.error_code.as_deref() == Some(code)))
    }

    /// The code of constraint violations: `ValidationError` for Query models (IAM, STS),
    /// `ValidationException` for JSON ones.
    pub fn validation_code(&self) -> &'static str {
        if self.is_query() {
            "ValidationError"
        } else {
            "ValidationException"
        }
    }

    fn operation(&self, name: &str) -> Option<&Operation> {
        self.operation_index
            .get(name)
            .and_then(|i| self.operations.get(*i))
    }

    fn shape(&self, id: ShapeId) -> Option<&Shape> {
        self.shapes.get(id.0)
    }
}

fn build_shape(
    name: &str,
    at: &str,
    rs: RawShape,
    resolve: &impl Fn(&str, &RawRef) -> Result<ShapeId, ModelError>,
) -> Result<Shape, ModelError> {
    let length = || -> Result<Length, ModelError> {
        let bound = |n: &Option<serde_json::Number>| match n {
            None => Ok(None),
            Some(n) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| invalid(at, format!("length bound {n} is not a whole number"))),
        };
        Ok(Length {
            min: bound(&rs.min)?,
            max: bound(&rs.max)?,
        })
    };
    let is_container = matches!(rs.ty.as_str(), "structure" | "list" | "map");
    if !is_container && (!rs.members.is_empty() || rs.member.is_some()) {
        return Err(invalid(
            at,
            format!("a {} shape cannot have members", rs.ty),
        ));
    }
    let kind = match rs.ty.as_str() {
        "structure" => {
            let mut members = Vec::with_capacity(rs.members.len());
            for (member_name, value) in &rs.members {
                let r: RawRef = serde_json::from_value(value.clone())
                    .map_err(|e| invalid(format!("{at}.{member_name}"), e.to_string()))?;
                members.push(Member {
                    name: member_name.clone(),
                    shape: resolve(&format!("{at}.{member_name}"), &r)?,
                    required: rs.required.contains(member_name),
                    xml: r.xml(),
                });
            }
            if let Some(missing) = rs.required.iter().find(|r| !rs.members.contains_key(*r)) {
                return Err(invalid(at, format!("required '{missing}' is not a member")));
            }
            Kind::Structure { members }
        }
        "list" => {
            let member = rs
                .member
                .as_ref()
                .ok_or_else(|| invalid(at, "a list needs a member"))?;
            Kind::List {
                member: resolve(at, member)?,
                length: length()?,
                member_xml: member.xml(),
            }
        }
        "map" => {
            let key = rs
                .key
                .as_ref()
                .ok_or_else(|| invalid(at, "a map needs a key"))?;
            let value = rs
                .value
                .as_ref()
                .ok_or_else(|| invalid(at, "a map needs a value"))?;
            Kind::Map {
                key: resolve(at, key)?,
                value: resolve(at, value)?,
                length: length()?,
                key_xml: key.xml(),
                value_xml: value.xml(),
            }
        }
        "string" => Kind::String {
            length: length()?,
            pattern: match &rs.pattern {
                None => None,
                Some(source) => Some(Pattern {
                    // AWS checks a pattern against the whole value (Java `matches`).
                    regex: regex::Regex::new(&format!("^(?:{})$", java_to_rust_regex(source)))
                        .map_err(|e| invalid(at, format!("pattern does not compile: {e}")))?,
                    source: source.clone(),
                }),
            },
            enum_values: rs.enum_values.clone(),
        },
        "byte" | "short" | "integer" | "long" => {
            let kind = match rs.ty.as_str() {
                "byte" => IntKind::Byte,
                "short" => IntKind::Short,
                "integer" => IntKind::Integer,
                _ => IntKind::Long,
            };
            let bound = |n: &Option<serde_json::Number>| match n {
                None => Ok(None),
                Some(n) => n
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| invalid(at, format!("range bound {n} is not an integer"))),
            };
            Kind::Integer {
                kind,
                min: bound(&rs.min)?,
                max: bound(&rs.max)?,
            }
        }
        "float" | "double" => Kind::Float {
            double: rs.ty == "double",
            min: rs.min.as_ref().and_then(serde_json::Number::as_f64),
            max: rs.max.as_ref().and_then(serde_json::Number::as_f64),
        },
        "boolean" => Kind::Boolean,
        "timestamp" => Kind::Timestamp,
        "blob" => Kind::Blob { length: length()? },
        other => return Err(invalid(at, format!("unknown shape type '{other}'"))),
    };
    if !rs.enum_values.is_empty() && !matches!(kind, Kind::String { .. }) {
        return Err(invalid(at, "only strings can have an enum"));
    }
    let (error_status, error_code, sender_fault) = if rs.exception {
        let default = if rs.fault { 500 } else { 400 };
        let status = rs
            .error
            .as_ref()
            .and_then(|e| e.http_status_code)
            .unwrap_or(default);
        let code = rs.error.as_ref().and_then(|e| e.code.clone());
        let sender = rs.error.as_ref().is_some_and(|e| e.sender_fault);
        (Some(status), code, sender)
    } else {
        (None, None, false)
    };
    Ok(Shape {
        name: name.to_owned(),
        kind,
        sensitive: rs.sensitive,
        error_status,
        error_code,
        sender_fault,
        xml: XmlTraits {
            location_name: rs.location_name,
            flattened: rs.flattened,
            timestamp_format: rs.timestamp_format,
        },
    })
}

/// A Java regular expression as the `regex` crate reads it: Java's `\w`, `\d` and `\s`
/// (ASCII-only unless a flag says otherwise, and AWS sets none) and their negations become
/// ASCII classes; everything else (`\uXXXX`, `\p{L}`, classes, escapes) means the same in
/// both.
fn java_to_rust_regex(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 16);
    let mut class_depth = 0usize;
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let ascii = match next {
                    'w' => Some("word"),
                    'W' => Some("^word"),
                    'd' => Some("digit"),
                    'D' => Some("^digit"),
                    's' => Some("space"),
                    'S' => Some("^space"),
                    _ => None,
                };
                match ascii {
                    Some(name) if class_depth > 0 => {
                        out.push_str("[:");
                        out.push_str(name);
                        out.push_str(":]");
                    }
                    Some(name) => {
                        out.push_str("[[:");
                        out.push_str(name);
                        out.push_str(":]]");
                    }
                    None => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' => {
                class_depth += 1;
                out.push(c);
            }
            ']' => {
                class_depth = class_depth.saturating_sub(1);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"{
      "version": "2.0",
      "metadata": {"apiVersion": "2020-01-01", "endpointPrefix": "tiny", "protocol": "json",
                   "jsonVersion": "1.1", "targetPrefix": "Tiny", "serviceId": "Tiny"},
      "operations": {
        "Zeta": {"name": "Zeta", "input": {"shape": "In"}, "errors": [{"shape": "Boom"}]},
        "Alpha": {"name": "Alpha"}
      },
      "shapes": {
        "In": {"type": "structure", "required": ["b"], "members": {"b": {"shape": "S"}, "a": {"shape": "S"}}},
        "S": {"type": "string", "documentation": "<p>x</p>"},
        "Boom": {"type": "structure", "members": {}, "exception": true, "error": {"httpStatusCode": 409}}
      }
    }"#;

    #[test]
    fn loads_tiny_model() {
        let m = ServiceModel::from_json(TINY).unwrap();
        assert_eq!(m.operation_names().collect::<Vec<_>>(), ["Zeta", "Alpha"]);
        assert_eq!(m.input_members("Zeta"), ["b", "a"]);
        assert!(m.input_members("Alpha").is_empty());
        assert!(m.input_members("Nope").is_empty());
        assert_eq!(m.signing_name(), "tiny", "defaults to the endpoint prefix");
        assert_eq!(m.operation_errors("Zeta"), ["Boom"]);
        assert_eq!(m.error("Boom", "x").status, 409);
        assert_eq!(m.error("Other", "x").status, 400);
    }

    fn broken(from: &str, to: &str) -> ModelError {
        let text = TINY.replacen(from, to, 1);
        assert_ne!(text, TINY, "replacement {from:?} not applied");
        ServiceModel::from_json(&text).unwrap_err()
    }

    #[test]
    fn rejects_inconsistent_models() {
        assert!(matches!(
            ServiceModel::from_json("{"),
            Err(ModelError::Syntax(_))
        ));
        let cases = [
            (
                r#""b": {"shape": "S"}"#,
                r#""b": {"shape": "Nope"}"#,
                "unknown shape 'Nope'",
            ),
            (
                r#""required": ["b"]"#,
                r#""required": ["c"]"#,
                "required 'c'",
            ),
            (
                r#""type": "string""#,
                r#""type": "strang""#,
                "unknown shape type",
            ),
            (
                r#""type": "string""#,
                r#""type": "string", "pattern": "(""#,
                "pattern",
            ),
            (
                r#""type": "string""#,
                r#""type": "string", "min": -1"#,
                "whole number",
            ),
            (
                r#"{"shape": "Boom"}"#,
                r#"{"shape": "S"}"#,
                "not an exception",
            ),
            (
                r#""input": {"shape": "In"}"#,
                r#""input": {"shape": "S"}"#,
                "not a structure",
            ),
            (r#""targetPrefix": "Tiny","#, "", "targetPrefix"),
        ];
        for (from, to, needle) in cases {
            let e = broken(from, to);
            assert!(e.to_string().contains(needle), "{needle}: {e}");
        }
    }

    #[test]
    fn query_models_need_a_namespace() {
        let query = TINY.replacen(r#""protocol": "json""#, r#""protocol": "query""#, 1);
        let e = ServiceModel::from_json(&query).unwrap_err();
        assert!(e.to_string().contains("xmlNamespace"), "{e}");
        let query = query.replacen(
            r#""targetPrefix": "Tiny","#,
            r#""xmlNamespace": "https://tiny/","#,
            1,
        );
        let m = ServiceModel::from_json(&query).unwrap();
        assert!(m.is_query());
        assert_eq!(m.xml_namespace(), "https://tiny/");
        assert_eq!(m.validation_code(), "ValidationError");
        assert_eq!(m.error("Boom", "x").status, 409);
    }

    #[test]
    fn java_patterns_become_rust_patterns() {
        let cases = [
            (r"[\w+=,.@-]+", r"[[:word:]+=,.@-]+"),
            (r"\w*", r"[[:word:]]*"),
            (r"[\d]*", r"[[:digit:]]*"),
            (r"\D\S\W", r"[[:^digit:]][[:^space:]][[:^word:]]"),
            (r"[^\s]", r"[^[:space:]]"),
            (r"\\w", r"\\w"),
            (
                r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+",
                r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+",
            ),
            (
                r"[\u0009\u000A\u000D\u0020-\u00FF]+",
                r"[\u0009\u000A\u000D\u0020-\u00FF]+",
            ),
            ("trailing\\", "trailing\\"),
        ];
        for (java, rust) in cases {
            assert_eq!(java_to_rust_regex(java), rust, "{java}");
        }
        let word = regex::Regex::new(&java_to_rust_regex(r"^[\w]+$")).unwrap();
        assert!(word.is_match("abc_09") && !word.is_match("\u{e9}"));
    }
}
