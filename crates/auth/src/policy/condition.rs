//! The `Condition` element: operators, set qualifiers, `IfExists`, and their
//! evaluation against the request context.
//!
//! Semantics follow the IAM User Guide ("IAM JSON policy elements: Condition
//! operators"):
//!
//! * Keys are matched case-insensitively; values per operator.
//! * Several values for one key in the policy are ORed; several keys in one
//!   operator block, and several blocks, are ANDed.
//! * A key missing from the context makes a positive operator false and a
//!   negated one (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`…) true;
//!   `…IfExists` makes any operator true; `ForAllValues:` is true and
//!   `ForAnyValue:` false.
//! * A key may appear several times in the context (a multivalued key such as
//!   `aws:TagKeys`); without a set qualifier any one value matching satisfies a
//!   positive operator, and none matching satisfies a negated one.

use std::net::IpAddr;

use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::glob::{self, context_values};

/// The base condition operators IAM knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl Operator {
    fn from_name(name: &str) -> Option<Operator> {
        use Operator::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "BinaryEquals" => BinaryEquals,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Null" => Null,
            _ => return None,
        })
    }

    /// Negated operators hold when the value matches *none* of the policy values.
    fn negated(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    pub(crate) fn is_date(self) -> bool {
        use Operator::*;
        matches!(
            self,
            DateEquals
                | DateNotEquals
                | DateLessThan
                | DateLessThanEquals
                | DateGreaterThan
                | DateGreaterThanEquals
        )
    }

    /// Whether policy variables are expanded in this operator's values
    /// (string and ARN operators, as IAM documents).
    fn takes_variables(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringEquals
                | StringNotEquals
                | StringEqualsIgnoreCase
                | StringNotEqualsIgnoreCase
                | StringLike
                | StringNotLike
                | ArnEquals
                | ArnLike
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// `ForAnyValue:` / `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetQualifier {
    Single,
    ForAnyValue,
    ForAllValues,
}

/// A full operator name such as `ForAnyValue:StringLikeIfExists`, split up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OperatorName {
    pub(crate) op: Operator,
    pub(crate) set: SetQualifier,
    pub(crate) if_exists: bool,
}

impl OperatorName {
    /// `None` for an operator IAM does not know.
    pub(crate) fn parse(name: &str) -> Option<OperatorName> {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (SetQualifier::ForAnyValue, rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (SetQualifier::ForAllValues, rest)
        } else {
            (SetQualifier::Single, name)
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(base) => (true, base),
            None => (false, rest),
        };
        Some(OperatorName {
            op: Operator::from_name(base)?,
            set,
            if_exists,
        })
    }
}

/// One `operator: { key: values }` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition {
    pub(crate) name: OperatorName,
    pub(crate) key: String,
    pub(crate) values: Vec<String>,
}

impl Condition {
    /// Evaluates the condition. `vars` says whether policy variables are
    /// expanded (policy language 2012-10-17).
    pub(crate) fn holds(&self, context: &[(&str, &str)], vars: bool) -> bool {
        let OperatorName { op, set, if_exists } = self.name;
        let present: Vec<&str> = context_values(context, &self.key).collect();

        if op == Operator::Null {
            // `"Null": {"k": "true"}` holds when k is absent; "false" when present.
            return self.values.iter().any(|v| match parse_bool(v) {
                Some(want_absent) => present.is_empty() == want_absent,
                None => false,
            });
        }

        if present.is_empty() {
            return if_exists
                || match set {
                    SetQualifier::ForAllValues => true,
                    SetQualifier::ForAnyValue => false,
                    SetQualifier::Single => op.negated(),
                };
        }

        let vars = (vars && op.takes_variables()).then_some(context);
        // For one context value: does it satisfy the operator (taking negation into account)?
        let satisfies = |value: &str| {
            let any = self
                .values
                .iter()
                .any(|p| value_matches(op, p, value, vars));
            any != op.negated()
        };
        match set {
            SetQualifier::ForAllValues => present.iter().all(|v| satisfies(v)),
            SetQualifier::ForAnyValue => present.iter().any(|v| satisfies(v)),
            SetQualifier::Single if op.negated() => present.iter().all(|v| satisfies(v)),
            SetQualifier::Single => present.iter().any(|v| satisfies(v)),
        }
    }
}

/// Does the context `value` match the policy value `policy` under the
/// (un-negated) operator?
fn value_matches(op: Operator, policy: &str, value: &str, vars: Option<&[(&str, &str)]>) -> bool {
    use Operator::*;
    match op {
        StringEquals | StringNotEquals => string_match(policy, value, vars, false, false),
        StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
            string_match(policy, value, vars, false, true)
        }
        StringLike | StringNotLike => string_match(policy, value, vars, true, false),
        NumericEquals | NumericNotEquals => numeric(policy, value, |a, b| a == b),
        NumericLessThan => numeric(policy, value, |p, v| v < p),
        NumericLessThanEquals => numeric(policy, value, |p, v| v <= p),
        NumericGreaterThan => numeric(policy, value, |p, v| v > p),
        NumericGreaterThanEquals => numeric(policy, value, |p, v| v >= p),
        DateEquals | DateNotEquals => date(policy, value, |p, v| v == p),
        DateLessThan => date(policy, value, |p, v| v < p),
        DateLessThanEquals => date(policy, value, |p, v| v <= p),
        DateGreaterThan => date(policy, value, |p, v| v > p),
        DateGreaterThanEquals => date(policy, value, |p, v| v >= p),
        Bool => match (parse_bool(policy), parse_bool(value)) {
            (Some(p), Some(v)) => p == v,
            _ => false,
        },
        BinaryEquals => policy == value,
        IpAddress | NotIpAddress => ip_in(policy, value),
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => arn_match(policy, value, vars),
        Null => false,
    }
}

fn string_match(
    policy: &str,
    value: &str,
    vars: Option<&[(&str, &str)]>,
    wild: bool,
    fold: bool,
) -> bool {
    if vars.is_none() && !wild {
        return if fold {
            policy.to_lowercase() == value.to_lowercase()
        } else {
            policy == value
        };
    }
    let Some(pattern) = glob::compile(policy, vars, wild, fold) else {
        return false;
    };
    let text: Vec<char> = if fold {
        value.to_lowercase().chars().collect()
    } else {
        value.chars().collect()
    };
    glob::matches(&pattern, &text)
}

/// `ArnEquals`/`ArnLike` (identical in IAM): the six colon-separated parts are
/// matched one by one, so a `*` never spans a `:` boundary of the ARN.
fn arn_match(policy: &str, value: &str, vars: Option<&[(&str, &str)]>) -> bool {
    let pattern_parts: Vec<&str> = policy.splitn(6, ':').collect();
    let value_parts: Vec<&str> = value.splitn(6, ':').collect();
    if value_parts.len() != 6 {
        return false;
    }
    if pattern_parts.len() != 6 {
        // A bare `*` matches every ARN.
        return policy == "*";
    }
    pattern_parts.iter().zip(&value_parts).all(|(p, v)| {
        let Some(tokens) = glob::compile(p, vars, true, false) else {
            return false;
        };
        let text: Vec<char> = v.chars().collect();
        glob::matches(&tokens, &text)
    })
}

fn numeric(policy: &str, value: &str, cmp: fn(f64, f64) -> bool) -> bool {
    match (policy.trim().parse::<f64>(), value.trim().parse::<f64>()) {
        (Ok(p), Ok(v)) if p.is_finite() && v.is_finite() => cmp(p, v),
        _ => false,
    }
}

fn date(policy: &str, value: &str, cmp: fn(i128, i128) -> bool) -> bool {
    match (parse_date(policy), parse_date(value)) {
        (Some(p), Some(v)) => cmp(p, v),
        _ => false,
    }
}

pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A date condition value as nanoseconds since the Unix epoch: epoch seconds
/// (`1700000000`) or ISO 8601 (`2024-01-31`, `2024-01-31T12:00:00Z`,
/// `2024-01-31T12:00:00+02:00`, `2024-01-31T12:00:00`, read as UTC).
pub(crate) fn parse_date(s: &str) -> Option<i128> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = s.parse().ok()?;
        return Some(i128::from(secs) * 1_000_000_000);
    }
    let upper = s.to_ascii_uppercase();
    let parsed = OffsetDateTime::parse(&upper, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&upper, &Iso8601::DEFAULT))
        .or_else(|_| PrimitiveDateTime::parse(&upper, &Iso8601::DEFAULT).map(|d| d.assume_utc()))
        .or_else(|_| Date::parse(&upper, &Iso8601::DEFAULT).map(|d| d.midnight().assume_utc()))
        .ok()?;
    Some(parsed.unix_timestamp_nanos())
}

/// Whether the address `value` is inside the CIDR block (or equal to the
/// address) `policy`.
fn ip_in(policy: &str, value: &str) -> bool {
    let Ok(addr) = value.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match policy.trim().split_once('/') {
        Some((net, bits)) => match bits.parse::<u32>() {
            Ok(bits) => (net, Some(bits)),
            Err(_) => return false,
        },
        None => (policy.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    let (net, addr, width) = match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => (u128::from(u32::from(n)), u128::from(u32::from(a)), 32),
        (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
        (IpAddr::V6(n), IpAddr::V4(a)) => match n.to_ipv4_mapped() {
            Some(n) => (u128::from(u32::from(n)), u128::from(u32::from(a)), 32),
            None => return false,
        },
        (IpAddr::V4(n), IpAddr::V6(a)) => match a.to_ipv4_mapped() {
            Some(a) => (u128::from(u32::from(n)), u128::from(u32::from(a)), 32),
            None => return false,
        },
    };
    let bits = bits.unwrap_or(width);
    if bits > width {
        return false;
    }
    let shift = width - bits;
    // `checked_shr` handles a /0 block (shift by the full width).
    net.checked_shr(shift).unwrap_or(0) == addr.checked_shr(shift).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(name: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            name: OperatorName::parse(name).unwrap(),
            key: key.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn operator_names() {
        let n = OperatorName::parse("ForAnyValue:StringLikeIfExists").unwrap();
        assert_eq!(n.op, Operator::StringLike);
        assert_eq!(n.set, SetQualifier::ForAnyValue);
        assert!(n.if_exists);
        assert!(OperatorName::parse("StringEqualz").is_none());
        assert!(OperatorName::parse("stringequals").is_none());
        assert!(OperatorName::parse("ForAnyValue:").is_none());
    }

    #[test]
    fn strings() {
        let ctx = [("aws:username", "Alice")];
        assert!(cond("StringEquals", "AWS:USERNAME", &["Alice"]).holds(&ctx, true));
        assert!(!cond("StringEquals", "aws:username", &["alice"]).holds(&ctx, true));
        assert!(cond("StringEqualsIgnoreCase", "aws:username", &["alice"]).holds(&ctx, true));
        assert!(cond("StringLike", "aws:username", &["bob", "Al*"]).holds(&ctx, true));
        assert!(cond("StringNotEquals", "aws:username", &["bob"]).holds(&ctx, true));
        assert!(!cond("StringNotLike", "aws:username", &["A*"]).holds(&ctx, true));
        // StringEquals: `*` is literal.
        assert!(!cond("StringEquals", "aws:username", &["*"]).holds(&ctx, true));
    }

    #[test]
    fn missing_keys() {
        let ctx: [(&str, &str); 0] = [];
        assert!(!cond("StringEquals", "aws:username", &["a"]).holds(&ctx, true));
        assert!(cond("StringNotEquals", "aws:username", &["a"]).holds(&ctx, true));
        assert!(cond("StringEqualsIfExists", "aws:username", &["a"]).holds(&ctx, true));
        assert!(cond("ForAllValues:StringEquals", "aws:TagKeys", &["a"]).holds(&ctx, true));
        assert!(!cond("ForAnyValue:StringEquals", "aws:TagKeys", &["a"]).holds(&ctx, true));
        assert!(cond("Null", "aws:username", &["true"]).holds(&ctx, true));
        assert!(!cond("Null", "aws:username", &["false"]).holds(&ctx, true));
        assert!(!cond("Bool", "aws:MultiFactorAuthPresent", &["true"]).holds(&ctx, true));
        assert!(cond("BoolIfExists", "aws:MultiFactorAuthPresent", &["true"]).holds(&ctx, true));
    }

    #[test]
    fn multivalued_keys() {
        let ctx = [("aws:TagKeys", "env"), ("aws:TagKeys", "team")];
        assert!(cond(
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            &["env", "team", "x"]
        )
        .holds(&ctx, true));
        assert!(!cond("ForAllValues:StringEquals", "aws:TagKeys", &["env"]).holds(&ctx, true));
        assert!(cond("ForAnyValue:StringEquals", "aws:TagKeys", &["team"]).holds(&ctx, true));
        assert!(!cond("ForAnyValue:StringEquals", "aws:TagKeys", &["cost"]).holds(&ctx, true));
        assert!(cond("ForAnyValue:StringNotEquals", "aws:TagKeys", &["env"]).holds(&ctx, true));
        assert!(!cond("StringNotEquals", "aws:TagKeys", &["env"]).holds(&ctx, true));
    }

    #[test]
    fn bools_numbers_dates() {
        let ctx = [
            ("aws:MultiFactorAuthPresent", "true"),
            ("aws:MultiFactorAuthAge", "300"),
            ("aws:CurrentTime", "2024-06-01T12:00:00Z"),
            ("aws:EpochTime", "1717243200"),
        ];
        assert!(cond("Bool", "aws:MultiFactorAuthPresent", &["TRUE"]).holds(&ctx, true));
        assert!(!cond("Bool", "aws:MultiFactorAuthPresent", &["false"]).holds(&ctx, true));
        assert!(cond("NumericLessThan", "aws:MultiFactorAuthAge", &["3600"]).holds(&ctx, true));
        assert!(!cond("NumericGreaterThan", "aws:MultiFactorAuthAge", &["3600"]).holds(&ctx, true));
        assert!(!cond("NumericEquals", "aws:MultiFactorAuthAge", &["abc"]).holds(&ctx, true));
        assert!(cond("DateGreaterThan", "aws:CurrentTime", &["2024-01-01"]).holds(&ctx, true));
        assert!(cond(
            "DateLessThan",
            "aws:CurrentTime",
            &["2024-06-01T14:00:00+01:00"]
        )
        .holds(&ctx, true));
        assert!(cond("DateEquals", "aws:EpochTime", &["2024-06-01T12:00:00Z"]).holds(&ctx, true));
        assert!(parse_date("not a date").is_none());
        assert!(parse_date("99999999999999999999999").is_none());
    }

    #[test]
    fn ip_addresses() {
        let ctx = [("aws:SourceIp", "203.0.113.7")];
        assert!(cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]).holds(&ctx, true));
        assert!(cond("IpAddress", "aws:SourceIp", &["203.0.113.7"]).holds(&ctx, true));
        assert!(cond("IpAddress", "aws:SourceIp", &["0.0.0.0/0"]).holds(&ctx, true));
        assert!(!cond("IpAddress", "aws:SourceIp", &["198.51.100.0/24"]).holds(&ctx, true));
        assert!(cond("NotIpAddress", "aws:SourceIp", &["198.51.100.0/24"]).holds(&ctx, true));
        assert!(!cond("IpAddress", "aws:SourceIp", &["203.0.113.0/33"]).holds(&ctx, true));
        let v6 = [("aws:SourceIp", "2001:db8::1")];
        assert!(cond("IpAddress", "aws:SourceIp", &["2001:db8::/32"]).holds(&v6, true));
        assert!(!cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]).holds(&v6, true));
    }

    #[test]
    fn arns() {
        let ctx = [("aws:PrincipalArn", "arn:aws:iam::123456789012:role/admin")];
        let key = "aws:PrincipalArn";
        assert!(cond("ArnLike", key, &["arn:aws:iam::*:role/*"]).holds(&ctx, true));
        assert!(
            cond("ArnEquals", key, &["arn:aws:iam::123456789012:role/admin"]).holds(&ctx, true)
        );
        assert!(!cond("ArnLike", key, &["arn:aws:iam::*:user/*"]).holds(&ctx, true));
        assert!(cond("ArnNotLike", key, &["arn:aws:iam::*:user/*"]).holds(&ctx, true));
        // A `*` in one part does not cross into the next.
        assert!(!cond("ArnLike", key, &["arn:aws:*:role/admin"]).holds(&ctx, true));
        let bad = [("aws:PrincipalArn", "not-an-arn")];
        assert!(!cond("ArnLike", key, &["*"]).holds(&bad, true));
    }

    #[test]
    fn variables_in_values() {
        let ctx = [("aws:username", "bob"), ("s3:prefix", "home/bob/x")];
        let c = cond("StringLike", "s3:prefix", &["home/${aws:username}/*"]);
        assert!(c.holds(&ctx, true));
        assert!(!c.holds(&ctx, false), "2008-10-17 has no variables");
    }
}
