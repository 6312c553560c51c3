//! The model-driven half of the AWS Query protocol: form parameters to a JSON input, a JSON
//! output to XML, and the Query spelling of error codes. [`crate::query`] is the public face.

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Number, Value};
use time::format_description::well_known::Rfc2822;
use time::macros::format_description;
use time::OffsetDateTime;

use super::validate::validation_message;
use super::{Kind, Member, ServiceModel, Shape, ShapeId, XmlTraits};
use super::{MAX_LISTED_ERRORS, MAX_QUOTED_CHARS};
use crate::json11::parse_timestamp;
use crate::{lower_camel, ApiError};

/// The most `.`-separated segments a parameter name may have to be looked at. Deeper names
/// cannot address any member of our models and are ignored; the bound also keeps the
/// parameter tree (and dropping it) shallow.
pub(crate) const MAX_SEGMENTS: usize = 64;

/// How deep decoding and encoding follow the model (IAM and STS need 6).
const MAX_MODEL_DEPTH: usize = 64;

/// How much of an untrusted action name is quoted back in an error message.
const MAX_QUOTED_ACTION: usize = 128;

// ---- error spellings ----

/// Codes every AWS Query service shares, by either spelling (the JSON 1.1 one our other
/// layers use, or the Query one), with the Query spelling and status.
fn common_error(code: &str) -> Option<(&'static str, u16)> {
    Some(match code {
        "AccessDenied" | "AccessDeniedException" => ("AccessDenied", 403),
        "ValidationError" | "ValidationException" | "SerializationException" => {
            ("ValidationError", 400)
        }
        "Throttling" | "ThrottlingException" => ("Throttling", 400),
        "InvalidAction" | "UnknownOperationException" => ("InvalidAction", 400),
        "MissingAction" => ("MissingAction", 400),
        "SignatureDoesNotMatch" | "InvalidSignatureException" => ("SignatureDoesNotMatch", 403),
        "IncompleteSignature" | "IncompleteSignatureException" => ("IncompleteSignature", 400),
        "MissingAuthenticationToken" | "MissingAuthenticationTokenException" => {
            ("MissingAuthenticationToken", 403)
        }
        "InvalidClientTokenId" | "UnrecognizedClientException" => ("InvalidClientTokenId", 403),
        // A request signed with expired temporary credentials. STS models an
        // `ExpiredTokenException` for expired SAML/web-identity tokens, which we never issue;
        // the signature check's expiry is `ExpiredToken` on every Query service.
        "ExpiredToken" | "ExpiredTokenException" => ("ExpiredToken", 400),
        "RequestExpired" => ("RequestExpired", 400),
        "InternalFailure" => ("InternalFailure", 500),
        "ServiceUnavailable" => ("ServiceUnavailable", 503),
        _ => return None,
    })
}

/// `error` with its code spelled as a Query service sends it: shared codes by
/// [`common_error`], the model's exceptions by their `error.code` and declared status, any
/// other code unchanged.
pub(crate) fn respell(model: &ServiceModel, error: ApiError) -> ApiError {
    if let Some((code, status)) = common_error(&error.code) {
        return ApiError::new(code, status, error.message);
    }
    match model.exception_shape(&error.code) {
        Some(shape) => {
            let code = shape.error_code.as_ref().unwrap_or(&shape.name).clone();
            let status = shape.error_status.unwrap_or(error.status);
            ApiError::new(code, status, error.message)
        }
        None => error,
    }
}

/// Whether the caller is at fault (`<Type>Sender</Type>`): the model's `senderFault` for its
/// exceptions, else a status below 500. `error` is already respelled.
pub(crate) fn is_sender_fault(model: &ServiceModel, error: &ApiError) -> bool {
    match model.exception_shape(&error.code) {
        Some(shape) => shape.sender_fault,
        None => error.status < 500,
    }
}

/// `MissingAction` (400): the request names no `Action`.
pub(crate) fn missing_action() -> ApiError {
    ApiError::new("MissingAction", 400, "Missing Action")
}

/// `InvalidAction` (400): the model has no such operation (or not in that version).
pub(crate) fn invalid_action(
    model: &ServiceModel,
    action: &str,
    version: Option<&str>,
) -> ApiError {
    let action: String = action.chars().take(MAX_QUOTED_ACTION).collect();
    let version: String = version
        .unwrap_or(model.api_version())
        .chars()
        .take(MAX_QUOTED_ACTION)
        .collect();
    ApiError::new(
        "InvalidAction",
        400,
        format!("Could not find operation {action} for version {version}"),
    )
}

// ---- traits of a reference, merged as botocore merges them ----

impl ServiceModel {
    /// The effective traits of a reference to `shape`: the reference's own, else the shape's.
    fn traits(&self, on_ref: &XmlTraits, shape: ShapeId) -> XmlTraits {
        let own = self.shape(shape).map(|s| &s.xml);
        XmlTraits {
            location_name: on_ref
                .location_name
                .clone()
                .or_else(|| own.and_then(|o| o.location_name.clone())),
            flattened: on_ref.flattened.or_else(|| own.and_then(|o| o.flattened)),
            timestamp_format: on_ref
                .timestamp_format
                .clone()
                .or_else(|| own.and_then(|o| o.timestamp_format.clone())),
        }
    }

    /// The name a structure member has on the wire (a parameter segment or an XML element),
    /// as botocore's `_member_key_name`: a flattened list is named after its items'
    /// `locationName` when they have one; otherwise the member's `locationName`, else its
    /// name.
    fn wire_name(&self, member: &Member) -> String {
        let traits = self.traits(&member.xml, member.shape);
        if let Some(Kind::List {
            member: item,
            member_xml,
            ..
        }) = self.shape(member.shape).map(|s| &s.kind)
        {
            if traits.flattened == Some(true) {
                if let Some(name) = self.traits(member_xml, *item).location_name {
                    return name;
                }
            }
        }
        traits.location_name.unwrap_or_else(|| member.name.clone())
    }
}

// ---- decoding ----

/// The parameters as a tree of `.`-separated name segments.
#[derive(Default)]
struct Node {
    value: Option<String>,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn insert(&mut self, name: &str, value: String) {
        if name.split('.').count() > MAX_SEGMENTS {
            return;
        }
        let mut node = self;
        for segment in name.split('.') {
            node = node.children.entry(segment.to_owned()).or_default();
        }
        node.value = Some(value);
    }

    /// The children whose names are list indexes (`1`, `2`, ...), in index order.
    fn indexed(&self) -> Vec<&Node> {
        let mut items: Vec<(u32, &Node)> = self
            .children
            .iter()
            .filter_map(|(k, v)| parse_index(k).map(|i| (i, v)))
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, v)| v).collect()
    }
}

/// A 1-based list index: decimal digits only, no sign, at least 1.
fn parse_index(segment: &str) -> Option<u32> {
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    segment.parse::<u32>().ok().filter(|i| *i >= 1)
}

struct Decoder<'m> {
    model: &'m ServiceModel,
    listed: Vec<String>,
    count: usize,
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        lower_camel(name)
    } else {
        format!("{path}.{}", lower_camel(name))
    }
}

impl ServiceModel {
    /// The operation's input as a JSON object, rebuilt from form parameters (`Action` and
    /// `Version` already taken out). Values that do not convert to their shape's type are one
    /// `ValidationError` listing them all.
    pub(crate) fn query_input(
        &self,
        operation: &str,
        params: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Map<String, Value>, ApiError> {
        let Some(input) = self.operation(operation).and_then(|op| op.input) else {
            return Ok(Map::new());
        };
        let mut root = Node::default();
        for (name, value) in params {
            root.insert(&name, value);
        }
        let mut d = Decoder {
            model: self,
            listed: Vec::new(),
            count: 0,
        };
        let map = d.structure(input, &root, "", 0);
        if d.count == 0 {
            Ok(map)
        } else {
            Err(ApiError::new(
                self.validation_code(),
                400,
                validation_message(d.count, &d.listed),
            ))
        }
    }
}

impl Decoder<'_> {
    fn bad(&mut self, shape: &Shape, text: &str, path: &str, type_name: &str) {
        self.count += 1;
        if self.listed.len() >= MAX_LISTED_ERRORS {
            return;
        }
        let quoted = if shape.sensitive {
            "Value".to_owned()
        } else {
            let mut q: String = text.chars().take(MAX_QUOTED_CHARS).collect();
            if text.chars().nth(MAX_QUOTED_CHARS).is_some() {
                q.push_str("...");
            }
            format!("Value '{q}'")
        };
        self.listed.push(format!(
            "{quoted} at '{path}' failed to satisfy constraint: Member must be of type {type_name}"
        ));
    }

    fn structure(
        &mut self,
        shape: ShapeId,
        node: &Node,
        path: &str,
        depth: usize,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        let Some(Kind::Structure { members }) = self.model.shape(shape).map(|s| &s.kind) else {
            return out;
        };
        for member in members {
            let Some(child) = node.children.get(&self.model.wire_name(member)) else {
                continue;
            };
            let traits = self.model.traits(&member.xml, member.shape);
            let path = join(path, &member.name);
            if let Some(v) = self.value(member.shape, &traits, child, &path, depth + 1) {
                out.insert(member.name.clone(), v);
            }
        }
        out
    }

    /// The value at `node` for a reference with the given (merged) traits; `None` when the
    /// parameters do not give it.
    fn value(
        &mut self,
        shape_id: ShapeId,
        traits: &XmlTraits,
        node: &Node,
        path: &str,
        depth: usize,
    ) -> Option<Value> {
        if depth > MAX_MODEL_DEPTH {
            return None;
        }
        let model = self.model;
        let shape = model.shape(shape_id)?;
        let flattened = traits.flattened == Some(true);
        match &shape.kind {
            Kind::Structure { .. } => {
                Some(Value::Object(self.structure(shape_id, node, path, depth)))
            }
            Kind::List {
                member, member_xml, ..
            } => {
                let item_traits = model.traits(member_xml, *member);
                let items_node = if flattened {
                    Some(node)
                } else {
                    let name = item_traits.location_name.as_deref().unwrap_or("member");
                    node.children.get(name)
                };
                let items = items_node.map(Node::indexed).unwrap_or_default();
                if items.is_empty() {
                    // botocore sends an empty list as `Name=`.
                    return (node.value.as_deref() == Some("")).then(|| Value::Array(Vec::new()));
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let item_path = format!("{path}.{}.member", i + 1);
                    let v = self.value(*member, &item_traits, item, &item_path, depth + 1);
                    out.push(v.unwrap_or(Value::Null));
                }
                Some(Value::Array(out))
            }
            Kind::Map {
                key,
                value,
                key_xml,
                value_xml,
                ..
            } => {
                let entries_node = if flattened {
                    Some(node)
                } else {
                    node.children.get("entry")
                };
                let key_traits = model.traits(key_xml, *key);
                let value_traits = model.traits(value_xml, *value);
                let key_name = key_traits.location_name.as_deref().unwrap_or("key");
                let value_name = value_traits.location_name.as_deref().unwrap_or("value");
                let mut out = Map::new();
                for entry in entries_node.map(Node::indexed).unwrap_or_default() {
                    let Some(k) = entry.children.get(key_name).and_then(|n| n.value.as_ref())
                    else {
                        continue;
                    };
                    let v = entry.children.get(value_name).and_then(|n| {
                        self.value(*value, &value_traits, n, &format!("{path}.{k}"), depth + 1)
                    });
                    out.insert(k.clone(), v.unwrap_or(Value::Null));
                }
                (!out.is_empty() || node.value.is_some()).then_some(Value::Object(out))
            }
            _ => {
                let text = node.value.as_deref()?;
                match scalar(shape, traits, text) {
                    Ok(v) => Some(v),
                    Err(type_name) => {
                        self.bad(shape, text, path, type_name);
                        None
                    }
                }
            }
        }
    }
}

/// A form value as the JSON the validator expects for the shape, or the type name it failed
/// to be.
fn scalar(shape: &Shape, traits: &XmlTraits, text: &str) -> Result<Value, &'static str> {
    match &shape.kind {
        Kind::String { .. } => Ok(Value::String(text.to_owned())),
        Kind::Integer { kind, .. } => {
            let (lo, hi) = kind.range();
            text.parse::<i64>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .map(Value::from)
                .ok_or(kind.type_name())
        }
        Kind::Float { double, .. } => {
            let name = if *double { "Double" } else { "Float" };
            match text {
                "NaN" | "Infinity" | "-Infinity" => Ok(Value::String(text.to_owned())),
                _ => text
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
                    .ok_or(name),
            }
        }
        Kind::Boolean => {
            if text.eq_ignore_ascii_case("true") {
                Ok(Value::Bool(true))
            } else if text.eq_ignore_ascii_case("false") {
                Ok(Value::Bool(false))
            } else {
                Err("Boolean")
            }
        }
        Kind::Timestamp => {
            let iso = Value::String(text.to_owned());
            if parse_timestamp(&iso).is_some() {
                return Ok(iso);
            }
            // `unixTimestamp` members (or a client that sends epoch seconds).
            if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
                let n = Value::Number(n);
                if parse_timestamp(&n).is_some() {
                    return Ok(n);
                }
            }
            // `rfc822` members.
            if traits.timestamp_format.as_deref() == Some("rfc822") {
                if let Ok(t) = OffsetDateTime::parse(text, &Rfc2822) {
                    return iso8601(t).map(Value::String).ok_or("Timestamp");
                }
            }
            Err("Timestamp")
        }
        Kind::Blob { .. } => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(|_| Value::String(text.to_owned()))
            .map_err(|_| "Blob"),
        Kind::Structure { .. } | Kind::List { .. } | Kind::Map { .. } => Err("Structure"),
    }
}

// ---- encoding ----

/// A timestamp as IAM and STS write it: ISO 8601, UTC, milliseconds, `Z`.
pub(crate) fn iso8601(t: OffsetDateTime) -> Option<String> {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.to_offset(time::UtcOffset::UTC).format(&fmt).ok()
}

/// `text` as XML character data: markup characters escaped, `\r` kept as a reference (a
/// parser would otherwise fold `\r\n` into `\n`), and characters XML 1.0 cannot carry at all
/// (most C0 controls, lone surrogates cannot occur in a `str`, U+FFFE/U+FFFF) replaced by
/// U+FFFD.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'.. => {
                out.push(c)
            }
            _ => out.push('\u{FFFD}'),
        }
    }
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Why an output could not be written; the detail is for the log, never the wire.
pub(crate) type EncodeError = Cow<'static, str>;

impl ServiceModel {
    /// Writes the operation's output members (the content of the `<Op>Result` element).
    pub(crate) fn query_output(
        &self,
        operation: &str,
        output: &Value,
        out: &mut String,
    ) -> Result<(), EncodeError> {
        let Some(shape) = self.operation(operation).and_then(|op| op.output) else {
            return Ok(());
        };
        match output {
            Value::Null => Ok(()),
            Value::Object(map) => self.write_members(shape, map, out, 0),
            _ => Err(format!("the output of {operation} is not an object").into()),
        }
    }

    fn write_members(
        &self,
        shape: ShapeId,
        map: &Map<String, Value>,
        out: &mut String,
        depth: usize,
    ) -> Result<(), EncodeError> {
        if depth > MAX_MODEL_DEPTH {
            return Err("the output nests too deeply".into());
        }
        let Some(Kind::Structure { members }) = self.shape(shape).map(|s| &s.kind) else {
            return Err("not a structure".into());
        };
        for member in members {
            let Some(value) = map.get(&member.name).filter(|v| !v.is_null()) else {
                continue;
            };
            let name = self.wire_name(member);
            let traits = self.traits(&member.xml, member.shape);
            self.write_named(member.shape, &traits, &name, value, out, depth + 1)
                .map_err(|e| Cow::Owned(format!("{}: {e}", member.name)))?;
        }
        Ok(())
    }

    /// Writes `value` as the element(s) `name` for a reference with the given traits.
    fn write_named(
        &self,
        shape_id: ShapeId,
        traits: &XmlTraits,
        name: &str,
        value: &Value,
        out: &mut String,
        depth: usize,
    ) -> Result<(), EncodeError> {
        if depth > MAX_MODEL_DEPTH {
            return Err("the output nests too deeply".into());
        }
        let shape = self.shape(shape_id).ok_or("dangling shape")?;
        let flattened = traits.flattened == Some(true);
        match (&shape.kind, value) {
            (Kind::Structure { .. }, Value::Object(map)) => {
                open(out, name);
                self.write_members(shape_id, map, out, depth)?;
                close(out, name);
            }
            (
                Kind::List {
                    member, member_xml, ..
                },
                Value::Array(items),
            ) => {
                let item_traits = self.traits(member_xml, *member);
                if flattened {
                    for item in items.iter().filter(|v| !v.is_null()) {
                        self.write_named(*member, &item_traits, name, item, out, depth + 1)?;
                    }
                } else {
                    let item_name = item_traits.location_name.as_deref().unwrap_or("member");
                    open(out, name);
                    for item in items.iter().filter(|v| !v.is_null()) {
                        self.write_named(*member, &item_traits, item_name, item, out, depth + 1)?;
                    }
                    close(out, name);
                }
            }
            (
                Kind::Map {
                    key,
                    value: value_shape,
                    key_xml,
                    value_xml,
                    ..
                },
                Value::Object(map),
            ) => {
                let key_traits = self.traits(key_xml, *key);
                let value_traits = self.traits(value_xml, *value_shape);
                let key_name = key_traits.location_name.as_deref().unwrap_or("key");
                let value_name = value_traits.location_name.as_deref().unwrap_or("value");
                if !flattened {
                    open(out, name);
                }
                for (k, v) in map.iter().filter(|(_, v)| !v.is_null()) {
                    open(out, if flattened { name } else { "entry" });
                    let k = Value::String(k.clone());
                    self.write_named(*key, &key_traits, key_name, &k, out, depth + 1)?;
                    self.write_named(*value_shape, &value_traits, value_name, v, out, depth + 1)?;
                    close(out, if flattened { name } else { "entry" });
                }
                if !flattened {
                    close(out, name);
                }
            }
            (kind, value) => {
                let text = scalar_text(kind, traits, value)?;
                open(out, name);
                escape_into(out, &text);
                close(out, name);
            }
        }
        Ok(())
    }
}

/// A scalar output value as element text.
fn scalar_text(kind: &Kind, traits: &XmlTraits, value: &Value) -> Result<String, EncodeError> {
    let wrong = |expected: &str| -> EncodeError {
        format!(
            "expected {expected}, found {}",
            crate::json11::token_name(value)
        )
        .into()
    };
    match (kind, value) {
        (Kind::String { .. }, Value::String(s)) | (Kind::Blob { .. }, Value::String(s)) => {
            Ok(s.clone())
        }
        (Kind::Integer { kind, .. }, Value::Number(n)) => {
            let (lo, hi) = kind.range();
            match n.as_i64() {
                Some(i) if (lo..=hi).contains(&i) => Ok(i.to_string()),
                _ => Err(wrong(kind.type_name())),
            }
        }
        (Kind::Float { .. }, Value::Number(n)) => n
            .as_f64()
            .map(|f| f.to_string())
            .ok_or_else(|| wrong("a number")),
        (Kind::Float { .. }, Value::String(s))
            if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") =>
        {
            Ok(s.clone())
        }
        (Kind::Boolean, Value::Bool(b)) => Ok(b.to_string()),
        (Kind::Timestamp, v) => {
            let t = parse_timestamp(v).ok_or_else(|| wrong("a timestamp"))?;
            match traits.timestamp_format.as_deref() {
                Some("unixTimestamp") => Ok(crate::json11::timestamp_value(t).to_string()),
                Some("rfc822") => {
                    let fmt = format_description!(
                        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
                    );
                    t.to_offset(time::UtcOffset::UTC)
                        .format(&fmt)
                        .map_err(|_| wrong("a timestamp"))
                }
                _ => iso8601(t).ok_or_else(|| wrong("a timestamp")),
            }
        }
        (Kind::String { .. }, _) => Err(wrong("a string")),
        (Kind::Blob { .. }, _) => Err(wrong("a base64 string")),
        (Kind::Integer { kind, .. }, _) => Err(wrong(kind.type_name())),
        (Kind::Float { .. }, _) => Err(wrong("a number")),
        (Kind::Boolean, _) => Err(wrong("a boolean")),
        (Kind::Structure { .. }, _) => Err(wrong("an object")),
        (Kind::List { .. }, _) => Err(wrong("an array")),
        (Kind::Map { .. }, _) => Err(wrong("an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_positive_decimal() {
        assert_eq!(parse_index("1"), Some(1));
        assert_eq!(parse_index("0010"), Some(10));
        for bad in ["", "0", "-1", "+1", "1a", "99999999999", "١"] {
            assert_eq!(parse_index(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn escaping_keeps_text_and_drops_what_xml_cannot_carry() {
        let mut out = String::new();
        escape_into(&mut out, "a<b>&\"c'\r\n\t\u{0}\u{1F600}\u{FFFF}");
        assert_eq!(
            out,
            "a&lt;b&gt;&amp;&quot;c'&#xD;\n\t\u{FFFD}\u{1F600}\u{FFFD}"
        );
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_454_022_144_869_123_456).unwrap();
        assert_eq!(iso8601(t).unwrap(), "2016-01-28T23:02:24.869Z");
    }
}
