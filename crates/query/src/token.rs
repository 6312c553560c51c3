//! `NextToken`: a position in a result, sealed so that it only works for the query it came from.
//!
//! A token is `base64url(payload) "." base64url(HMAC-SHA256(key, payload))`, where the payload
//! holds the cursor and a SHA-256 fingerprint of the query (account, region, filters, time
//! bounds). Opening a token checks the MAC in constant time and that the fingerprint matches the
//! query it is presented with, so a token can be neither forged, altered, nor replayed against
//! another account, region or query.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use billtrail_protocol::ApiError;
use billtrail_store::{Cursor, EventQuery};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The server's key for sealing tokens. Keep it secret and stable across restarts, or tokens
/// handed out before a restart stop working.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(***)")
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// Cursor: event time and sequence number of the last event handed out.
    t: i64,
    s: u64,
    /// Fingerprint of the query, hex.
    q: String,
}

impl TokenKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        TokenKey(bytes)
    }

    pub fn random() -> Self {
        TokenKey(rand::random())
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length, so this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }

    /// Seals `cursor` for continuing `query`.
    pub fn seal(&self, cursor: Cursor, query: &EventQuery) -> String {
        let payload = Payload {
            t: cursor.event_time,
            s: cursor.seq,
            q: fingerprint(query),
        };
        let bytes = serde_json::to_vec(&payload).unwrap_or_default();
        let mut mac = self.mac();
        mac.update(&bytes);
        let tag = mac.finalize().into_bytes();
        format!("{}.{}", B64.encode(&bytes), B64.encode(tag))
    }

    /// Opens a token presented with `query`, returning where to continue.
    pub fn open(&self, token: &str, query: &EventQuery) -> Result<Cursor, ApiError> {
        let bad = || ApiError::new("InvalidNextTokenException", 400, "Invalid NextToken.");
        let (payload, tag) = token.split_once('.').ok_or_else(bad)?;
        let bytes = B64.decode(payload).map_err(|_| bad())?;
        let tag = B64.decode(tag).map_err(|_| bad())?;
        let mut mac = self.mac();
        mac.update(&bytes);
        mac.verify_slice(&tag).map_err(|_| bad())?;
        let p: Payload = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if p.q != fingerprint(query) {
            return Err(bad());
        }
        Ok(Cursor {
            event_time: p.t,
            seq: p.s,
        })
    }
}

/// The query without its cursor, page size and start bound, hashed. The start bound is left out
/// because retention moves it with the clock; the page size may change between pages.
fn fingerprint(q: &EventQuery) -> String {
    let mut h = Sha256::new();
    let parts = serde_json::json!([
        q.account_id,
        q.region,
        q.filters,
        q.end_time,
        q.management_only
    ]);
    h.update(parts.to_string().as_bytes());
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use billtrail_store::EventFilter;

    fn q(account: &str) -> EventQuery {
        EventQuery {
            account_id: account.into(),
            region: "us-east-1".into(),
            filters: vec![EventFilter::EventName("GetAddresses".into())],
            start_time: Some(1),
            end_time: None,
            before: None,
            management_only: true,
            limit: 51,
        }
    }

    #[test]
    fn a_token_opens_for_its_own_query_only() {
        let key = TokenKey::random();
        let c = Cursor {
            event_time: 5,
            seq: 9,
        };
        let t = key.seal(c, &q("111111111111"));
        assert_eq!(key.open(&t, &q("111111111111")).expect("opens"), c);
        assert!(key.open(&t, &q("222222222222")).is_err(), "another account");
        let mut other = q("111111111111");
        other.filters = vec![EventFilter::EventName("SetContactAddress".into())];
        assert!(key.open(&t, &other).is_err(), "another query");
        assert!(
            TokenKey::random().open(&t, &q("111111111111")).is_err(),
            "another key"
        );
    }

    #[test]
    fn altered_tokens_are_refused() {
        let key = TokenKey::random();
        let t = key.seal(
            Cursor {
                event_time: 5,
                seq: 9,
            },
            &q("111111111111"),
        );
        for i in 0..t.len() {
            let mut b = t.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            if let Ok(s) = String::from_utf8(b) {
                if s != t {
                    assert!(key.open(&s, &q("111111111111")).is_err(), "flip at {i}");
                }
            }
        }
        for junk in ["", ".", "abc", "a.b.c", "😀.😀"] {
            assert!(key.open(junk, &q("111111111111")).is_err());
        }
    }
}
