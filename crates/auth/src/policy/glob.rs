//! IAM wildcards (`*`, `?`) and policy variables (`${aws:username}`).
//!
//! A pattern is compiled to tokens before matching so that the text a policy
//! variable expands to is always literal: `${*}` is a literal `*`, and a user
//! named `a*` does not turn `arn:…:user/${aws:username}` into a wildcard.

/// One token of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(char),
    /// `*`: any run of characters, including none.
    Many,
    /// `?`: exactly one character.
    One,
}

/// All values of a context key, compared case-insensitively as IAM does.
pub(crate) fn context_values<'c>(
    context: &'c [(&'c str, &'c str)],
    key: &'c str,
) -> impl Iterator<Item = &'c str> + 'c {
    context
        .iter()
        .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| *v)
}

fn push_lit(out: &mut Vec<Tok>, c: char, fold: bool) {
    if fold {
        out.extend(c.to_lowercase().map(Tok::Lit));
    } else {
        out.push(Tok::Lit(c));
    }
}

/// Compiles `pattern`. With `vars`, policy variables are expanded from that
/// context (policy language 2012-10-17); without, `${…}` is plain text
/// (2008-10-17). `wild` says whether `*` and `?` are wildcards (they are not in
/// `StringEquals`). `fold` lowercases the literals, for case-insensitive
/// matching against lowercased text.
///
/// Returns `None` when a variable names a key that is absent from the context
/// (or has several values) and gives no default: such a pattern matches
/// nothing, which is what IAM does.
pub(crate) fn compile(
    pattern: &str,
    vars: Option<&[(&str, &str)]>,
    wild: bool,
    fold: bool,
) -> Option<Vec<Tok>> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if let (Some(context), true) = (vars, rest.starts_with("${")) {
            if let Some(end) = rest.find('}') {
                let inner = rest.get(2..end).unwrap_or("");
                expand(inner, context, &mut out, fold)?;
                rest = rest.get(end + 1..).unwrap_or("");
                continue;
            }
        }
        match c {
            '*' if wild => out.push(Tok::Many),
            '?' if wild => out.push(Tok::One),
            _ => push_lit(&mut out, c, fold),
        }
        rest = rest.get(c.len_utf8()..).unwrap_or("");
    }
    Some(out)
}

/// Expands the inside of one `${…}`.
fn expand(inner: &str, context: &[(&str, &str)], out: &mut Vec<Tok>, fold: bool) -> Option<()> {
    let inner = inner.trim();
    if let "*" | "?" | "$" = inner {
        inner.chars().for_each(|c| out.push(Tok::Lit(c)));
        return Some(());
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => (key.trim(), parse_default(default)),
        None => (inner, None),
    };
    let mut values = context_values(context, key);
    let value = match (values.next(), values.next()) {
        (Some(only), None) => only,
        (None, _) => default?,
        // A multivalued key cannot be a policy variable.
        (Some(_), Some(_)) => return None,
    };
    value.chars().for_each(|c| push_lit(out, c, fold));
    Some(())
}

/// `'value'` (single quotes, spaces around allowed) → `value`.
fn parse_default(text: &str) -> Option<&str> {
    text.trim().strip_prefix('\'')?.strip_suffix('\'')
}

/// Whether `text` matches the compiled pattern. Iterative with one backtrack
/// point, so it is linear-ish and never recurses, whatever the input.
pub(crate) fn matches(pattern: &[Tok], text: &[char]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // Where the last `*` was, and how much text it has swallowed so far.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Tok::Many) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Tok::One) => {
                p += 1;
                t += 1;
            }
            Some(Tok::Lit(c)) if text.get(t) == Some(c) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while let Some(Tok::Many) = pattern.get(p) {
        p += 1;
    }
    p == pattern.len()
}

/// Whether `s` contains a character that makes it a pattern rather than a literal.
pub(crate) fn is_literal(s: &str, vars: bool) -> bool {
    let wild = s.contains(['*', '?']);
    let variable = vars && s.contains("${");
    !wild && !variable
}

/// One-shot helper: does `text` match the wildcard `pattern`?
#[cfg(test)]
pub(crate) fn glob(pattern: &str, text: &str, fold: bool) -> bool {
    if fold {
        let text: Vec<char> = text.to_lowercase().chars().collect();
        compile(pattern, None, true, true).is_some_and(|p| matches(&p, &text))
    } else {
        let text: Vec<char> = text.chars().collect();
        compile(pattern, None, true, false).is_some_and(|p| matches(&p, &text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        glob(p, t, false)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", ""));
        assert!(m("*", "anything:at/all"));
        assert!(m("a*c", "abbbc"));
        assert!(m("a*c", "ac"));
        assert!(!m("a*c", "ab"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*View*", "aws-portal:ViewBilling"));
        assert!(m("a*b*c*d", "axxbyyczzd"));
        assert!(!m("a*b*c*d", "axxbyyczz"));
        assert!(m("**?", "x"));
        assert!(!m("", "x"));
        assert!(m("", ""));
    }

    #[test]
    fn case_folding() {
        assert!(glob("AWS-PORTAL:view*", "aws-portal:ViewBilling", true));
        assert!(!glob("AWS-PORTAL:view*", "aws-portal:ViewBilling", false));
    }

    #[test]
    fn pathological_patterns_are_fast() {
        let text = "a".repeat(5_000);
        let pattern = format!("{}b", "*a".repeat(2_000));
        assert!(!m(&pattern, &text));
    }

    #[test]
    fn variables_expand_literally() {
        let ctx = [("aws:username", "a*b")];
        let p = compile("u/${aws:username}", Some(&ctx), true, false).unwrap();
        let t: Vec<char> = "u/a*b".chars().collect();
        assert!(matches(&p, &t));
        let t: Vec<char> = "u/axxb".chars().collect();
        assert!(!matches(&p, &t), "a value's * is not a wildcard");
    }

    #[test]
    fn variable_defaults_escapes_and_missing_keys() {
        let ctx = [("aws:username", "bob")];
        let lits = |p: &str| -> Option<String> {
            compile(p, Some(&ctx), true, false).map(|v| {
                v.iter()
                    .map(|t| match t {
                        Tok::Lit(c) => *c,
                        Tok::Many => '⋆',
                        Tok::One => '¿',
                    })
                    .collect()
            })
        };
        assert_eq!(lits("${AWS:UserName}").as_deref(), Some("bob"));
        assert_eq!(
            lits("${aws:PrincipalTag/team, 'none'}").as_deref(),
            Some("none")
        );
        assert_eq!(lits("${aws:PrincipalTag/team}"), None);
        assert_eq!(lits("${*}${?}${$}*").as_deref(), Some("*?$⋆"));
        assert_eq!(lits("${unclosed").as_deref(), Some("$\u{7b}unclosed"));
        // Without variables (2008-10-17) `${…}` is plain text.
        let p = compile("${aws:username}", None, true, false).unwrap();
        assert_eq!(p.len(), "${aws:username}".len());
    }

    #[test]
    fn multivalued_keys_are_not_variables() {
        let ctx = [("aws:TagKeys", "a"), ("aws:TagKeys", "b")];
        assert_eq!(compile("${aws:TagKeys}", Some(&ctx), true, false), None);
    }
}
