//! [`SigV4Error`] and its mapping to AWS error codes and HTTP statuses.
//!
//! The mapping lives here, in one place. [`SigV4Error::code`] and
//! [`SigV4Error::status`] answer for the AWS JSON protocols (everything
//! billtrail serves over `X-Amz-Target`); [`SigV4Error::code_for`] and
//! [`SigV4Error::status_for`] answer for the Query protocol (STS, IAM) and for
//! S3, which spell the same failures differently. The variants are public, so a
//! caller with yet another mapping can `match` on them directly.

/// The message AWS sends with a signature mismatch.
pub const SIGNATURE_MISMATCH_MESSAGE: &str = "The request signature we calculated does not match \
the signature you provided. Check your AWS Secret Access Key and signing method. \
Consult the service documentation for details.";

/// Why a request's signature was not accepted (or could not be produced).
///
/// `Display` gives the message AWS would send, safe to return to the client:
/// it never contains the secret, the signing key or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header and no presigned-URL parameters.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,

    /// The `Authorization` header or the presigned parameters are malformed:
    /// missing or repeated components, bad credential scope, unsupported
    /// algorithm, unreadable date, `host` not signed, ...
    #[error("{0}")]
    IncompleteSignature(String),

    /// The signature does not match the request, or the claim contradicts the
    /// request (scope date is not the `X-Amz-Date` date, a signed header is
    /// absent). The message is AWS's.
    #[error("{0}")]
    InvalidSignature(String),

    /// `X-Amz-Date` is too far from the server clock, in either direction
    /// ("Signature expired: ..." / "Signature not yet current: ...").
    #[error("{0}")]
    SignatureExpired(String),

    /// A presigned URL used after `X-Amz-Date + X-Amz-Expires`.
    #[error("Request has expired")]
    PresignedExpired {
        /// When the URL stopped being valid, `yyyymmddThhmmssZ`.
        expired_at: String,
        /// The server time it was checked against, `yyyymmddThhmmssZ`.
        server_time: String,
    },

    /// `x-amz-content-sha256` is not the SHA-256 of the body that arrived.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadHashMismatch {
        /// The hash the client sent.
        claimed: String,
        /// The hash of the body received, lowercase hex.
        computed: String,
    },

    /// Signing failed (client side only: [`crate::sigv4::sign`] and
    /// [`crate::sigv4::Signer::presign`]); the message comes from `aws-sigv4`.
    #[error("could not sign the request: {0}")]
    Signing(String),
}

/// The AWS wire protocols, which name the same signature failures differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireProtocol {
    /// AWS JSON 1.0/1.1 (`X-Amz-Target`): CloudTrail, Billing, Organizations, ...
    Json,
    /// AWS Query (`Action=`): STS, IAM.
    Query,
    /// S3's REST-XML.
    S3,
}

impl SigV4Error {
    /// The AWS error code for the JSON protocols, e.g. `"InvalidSignatureException"`.
    pub fn code(&self) -> &'static str {
        self.code_for(WireProtocol::Json)
    }

    /// The HTTP status for the JSON protocols (400 for every client error).
    pub fn status(&self) -> u16 {
        self.status_for(WireProtocol::Json)
    }

    /// The AWS error code this failure has in `protocol`.
    pub fn code_for(&self, protocol: WireProtocol) -> &'static str {
        use WireProtocol::{Json, Query, S3};
        match (self, protocol) {
            (Self::MissingAuthenticationToken, Json) => "MissingAuthenticationTokenException",
            (Self::MissingAuthenticationToken, Query) => "MissingAuthenticationToken",
            (Self::MissingAuthenticationToken, S3) => "AccessDenied",

            (Self::IncompleteSignature(_), Json) => "IncompleteSignatureException",
            (Self::IncompleteSignature(_), Query) => "IncompleteSignature",
            (Self::IncompleteSignature(_), S3) => "AuthorizationHeaderMalformed",

            (Self::InvalidSignature(_), Json) => "InvalidSignatureException",
            (Self::InvalidSignature(_), Query | S3) => "SignatureDoesNotMatch",

            (Self::SignatureExpired(_), Json) => "InvalidSignatureException",
            (Self::SignatureExpired(_), Query) => "SignatureDoesNotMatch",
            (Self::SignatureExpired(_), S3) => "RequestTimeTooSkewed",

            (Self::PresignedExpired { .. }, Json) => "InvalidSignatureException",
            (Self::PresignedExpired { .. }, Query) => "RequestExpired",
            (Self::PresignedExpired { .. }, S3) => "AccessDenied",

            (Self::PayloadHashMismatch { .. }, Json) => "InvalidSignatureException",
            (Self::PayloadHashMismatch { .. }, Query) => "SignatureDoesNotMatch",
            (Self::PayloadHashMismatch { .. }, S3) => "XAmzContentSHA256Mismatch",

            (Self::Signing(_), Json | Query) => "InternalFailure",
            (Self::Signing(_), S3) => "InternalError",
        }
    }

    /// The HTTP status this failure has in `protocol`.
    pub fn status_for(&self, protocol: WireProtocol) -> u16 {
        use WireProtocol::{Json, Query, S3};
        match (self, protocol) {
            (Self::Signing(_), _) => 500,
            (_, Json) => 400,
            (Self::IncompleteSignature(_), Query | S3) => 400,
            (Self::PresignedExpired { .. }, Query) => 400,
            (Self::PayloadHashMismatch { .. }, S3) => 400,
            (_, Query | S3) => 403,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_protocol_is_400_with_exception_codes() {
        let cases = [
            (
                SigV4Error::MissingAuthenticationToken,
                "MissingAuthenticationTokenException",
            ),
            (
                SigV4Error::IncompleteSignature("x".into()),
                "IncompleteSignatureException",
            ),
            (
                SigV4Error::InvalidSignature("x".into()),
                "InvalidSignatureException",
            ),
            (
                SigV4Error::SignatureExpired("x".into()),
                "InvalidSignatureException",
            ),
        ];
        for (err, code) in cases {
            assert_eq!(err.code(), code);
            assert_eq!(err.status(), 400);
        }
    }

    #[test]
    fn query_and_s3_use_403_for_mismatch() {
        let err = SigV4Error::InvalidSignature(SIGNATURE_MISMATCH_MESSAGE.into());
        assert_eq!(err.code_for(WireProtocol::Query), "SignatureDoesNotMatch");
        assert_eq!(err.status_for(WireProtocol::Query), 403);
        assert_eq!(err.code_for(WireProtocol::S3), "SignatureDoesNotMatch");
        assert_eq!(err.status_for(WireProtocol::S3), 403);
        assert_eq!(err.to_string(), SIGNATURE_MISMATCH_MESSAGE);
    }

    #[test]
    fn signing_failure_is_a_server_error() {
        let err = SigV4Error::Signing("boom".into());
        assert_eq!(err.status(), 500);
        assert_eq!(err.status_for(WireProtocol::S3), 500);
    }
}
