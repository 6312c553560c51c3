//! How the SQLite backend stores a record's JSON: compressed with LZ4 against a dictionary of
//! what records have in common (field names, services, identity shapes, user agents).
//!
//! Records were most of the pages each commit wrote to the write-ahead log (a record of 892
//! bytes filled a quarter of a 4 KiB page), and the checkpointer copies those pages again. With
//! the dictionary that record takes 263 bytes; compressing costs about 1.2 us and decompressing
//! 0.2 us. The billtrail-bench api run measured 29 log writes per commit before and 17.5 after,
//! and half the checkpoint copying; the commit's wait on the disk shrank much less than its
//! bytes did.
//!
//! A stored value is either TEXT (the JSON itself: records written before this format, or too
//! large for it) or a BLOB: a format byte, the JSON's length (u32, little-endian) and the LZ4
//! block. [`DICTIONARY_V1`] must never change: records written with it are read with it.
//! Another dictionary would come with another format byte.

use rusqlite::types::{ToSqlOutput, ValueRef};

/// The format byte of an LZ4 block compressed against [`DICTIONARY_V1`].
const LZ4_DICTIONARY_V1: u8 = 1;

/// Skeletons of typical records, in the order billtrail writes their fields.
const DICTIONARY_V1: &[u8] = include_bytes!("record-dictionary-v1.json");

/// No record is this large (CloudTrail cuts records at 256 KiB); a length above it is corrupt.
const MAX_RECORD: usize = 16 << 20;

/// How a record is stored: see the module notes.
pub(crate) enum Stored<'a> {
    Text(&'a str),
    Compressed(Vec<u8>),
}

impl rusqlite::ToSql for Stored<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Stored::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Stored::Compressed(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

pub(crate) fn encode(record: &str) -> Stored<'_> {
    let Ok(len) = u32::try_from(record.len()) else {
        return Stored::Text(record);
    };
    if record.len() > MAX_RECORD {
        return Stored::Text(record);
    }
    let mut out = vec![0u8; 5 + lz4_flex::block::get_maximum_output_size(record.len())];
    out[0] = LZ4_DICTIONARY_V1;
    out[1..5].copy_from_slice(&len.to_le_bytes());
    match lz4_flex::block::compress_into_with_dict(record.as_bytes(), &mut out[5..], DICTIONARY_V1)
    {
        Ok(n) => {
            out.truncate(5 + n);
            Stored::Compressed(out)
        }
        // The buffer is as large as LZ4 can need, so this does not happen; the JSON itself is
        // always a valid way to store a record.
        Err(_) => Stored::Text(record),
    }
}

/// Why a stored record could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("stored record: {0}")]
pub(crate) struct Corrupt(String);

pub(crate) fn decode(stored: ValueRef<'_>) -> Result<String, Corrupt> {
    let bytes = match stored {
        ValueRef::Text(t) => return utf8(t.to_vec()),
        ValueRef::Blob(b) => b,
        other => return Err(Corrupt(format!("a {:?} value", other.data_type()))),
    };
    let (Some(&LZ4_DICTIONARY_V1), Some(len), Some(block)) =
        (bytes.first(), bytes.get(1..5), bytes.get(5..))
    else {
        return Err(Corrupt(format!(
            "unknown format {:?}",
            bytes.first().copied()
        )));
    };
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if len > MAX_RECORD {
        return Err(Corrupt(format!("a length of {len} bytes")));
    }
    let json = lz4_flex::block::decompress_with_dict(block, len, DICTIONARY_V1)
        .map_err(|e| Corrupt(e.to_string()))?;
    if json.len() != len {
        return Err(Corrupt(format!(
            "{} bytes where {len} were stored",
            json.len()
        )));
    }
    utf8(json)
}

fn utf8(bytes: Vec<u8>) -> Result<String, Corrupt> {
    String::from_utf8(bytes).map_err(|_| Corrupt("not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"eventVersion":"1.11","userIdentity":{"type":"Root","principalId":"100919820337","arn":"arn:aws:iam::100919820337:root","accountId":"100919820337","accessKeyId":"AKIAMIDTIZZIOKC5SM33"},"eventTime":"2026-11-25T22:15:03Z","eventSource":"billingconsole.amazonaws.com","eventName":"SetContactAddress","awsRegion":"us-east-1","sourceIPAddress":"127.0.0.1","requestParameters":{"website":null,"city":"Seattle","postalCode":"98108","fullName":"Jane Doe","districtOrCounty":null,"phoneNumber":"206-555-0100","countryCode":"US","addressLine1":"1 Main St","addressLine2":null,"company":null,"state":"WA","addressLine3":null,"secondaryPhone":null},"responseElements":null,"requestID":"cc6d9d46-534a-40a1-968d-69ee8c8c8bc0","eventID":"01a214c6-cee8-76f7-ba72-e9edb8014985","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"100919820337","eventCategory":"Management"}"#;

    fn stored(s: &Stored<'_>) -> Vec<u8> {
        match s {
            Stored::Text(t) => t.as_bytes().to_vec(),
            Stored::Compressed(b) => b.clone(),
        }
    }

    #[test]
    fn records_round_trip_and_shrink() {
        let enc = encode(RECORD);
        let Stored::Compressed(blob) = &enc else {
            panic!("a record is stored compressed");
        };
        assert!(blob.len() < RECORD.len() / 3, "{} bytes", blob.len());
        assert_eq!(decode(ValueRef::Blob(blob)).unwrap(), RECORD);
        for record in ["", "{}", "é", &"x".repeat(100_000)] {
            let s = stored(&encode(record));
            assert_eq!(decode(ValueRef::Blob(&s)).unwrap(), record);
        }
    }

    #[test]
    fn records_stored_as_text_read_as_they_are() {
        assert_eq!(decode(ValueRef::Text(RECORD.as_bytes())).unwrap(), RECORD);
    }

    /// What a record written by this version looks like on disk must stay readable: this pins
    /// the format byte, the dictionary and the block format together.
    #[test]
    fn a_stored_record_of_this_format_still_decodes() {
        let pinned = include_bytes!("../tests/fixtures/record-v1.bin");
        assert_eq!(decode(ValueRef::Blob(pinned)).unwrap(), RECORD);
    }

    #[test]
    fn corrupt_values_are_errors_not_panics() {
        let good = stored(&encode(RECORD));
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![1],
            vec![2, 0, 0, 0, 0],
            vec![1, 255, 255, 255, 255, 0],
        ];
        for cut in [5, 6, 20, good.len() - 1] {
            cases.push(good[..cut].to_vec());
        }
        let mut flipped = good.clone();
        flipped[1] ^= 0x40;
        cases.push(flipped);
        for case in cases {
            assert!(decode(ValueRef::Blob(&case)).is_err(), "{case:?}");
        }
        assert!(decode(ValueRef::Integer(1)).is_err());
        assert!(decode(ValueRef::Text(&[0xff, 0xfe])).is_err());
    }
}
