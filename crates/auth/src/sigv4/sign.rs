//! The client side: sign requests for billtrail's own CLI with `aws-sigv4`.
//!
//! Signing is delegated to the `aws-sigv4` crate (the AWS SDK for Rust's
//! signer) rather than to our verifier's canonicalization, so the tests that
//! sign with it and verify with us check the two against each other.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    self, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::HeaderMap;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use time::OffsetDateTime;

use super::SigV4Error;
use crate::SecretKey;

/// RFC 3986 unreserved characters pass; everything else is `%XX`-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Who signs and for which scope.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    /// The access key id.
    pub access_key_id: &'a str,
    /// Its secret.
    pub secret: &'a SecretKey,
    /// The session token of temporary credentials, if any.
    pub session_token: Option<&'a str>,
    /// The region of the credential scope, e.g. `"us-east-1"`.
    pub region: &'a str,
    /// The service of the credential scope, e.g. `"cloudtrail"` or `"s3"`.
    pub service: &'a str,
}

impl Signer<'_> {
    /// Signs a request and returns the headers to add to it: `authorization`,
    /// `x-amz-date`, `x-amz-security-token` (with a session token) and, for
    /// S3, `x-amz-content-sha256`. Names are lowercase.
    ///
    /// `url` is the full, already percent-encoded URL the request goes to; its
    /// authority is signed as `host` unless `headers` has a `host` header.
    pub fn sign(
        &self,
        method: &str,
        url: &str,
        headers: &HeaderMap,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<Vec<(String, String)>, SigV4Error> {
        let mut settings = self.settings();
        if self.is_s3() {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let output = self.run(
            method,
            url,
            headers,
            SignableBody::Bytes(body),
            settings,
            now,
        )?;
        let (instructions, _signature) = output.into_parts();
        Ok(instructions
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect())
    }

    /// Presigns a request: returns `url` with the `X-Amz-*` query parameters
    /// added, valid for `expires_in` from `now` (AWS allows at most 7 days).
    /// The body is not signed: `UNSIGNED-PAYLOAD` for S3, the empty body for
    /// other services, as the AWS SDKs do.
    pub fn presign(
        &self,
        method: &str,
        url: &str,
        headers: &HeaderMap,
        now: OffsetDateTime,
        expires_in: Duration,
    ) -> Result<String, SigV4Error> {
        let mut settings = self.settings();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires_in);
        let body = if self.is_s3() {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Bytes(&[])
        };
        let output = self.run(method, url, headers, body, settings, now)?;
        let (instructions, _signature) = output.into_parts();
        let (url, fragment) = url
            .split_once('#')
            .map_or((url, None), |(u, f)| (u, Some(f)));
        let mut out = String::from(url);
        let mut separator = if url.contains('?') { '&' } else { '?' };
        for (name, value) in instructions.params() {
            out.push(separator);
            out.extend(utf8_percent_encode(name, QUERY_VALUE));
            out.push('=');
            out.extend(utf8_percent_encode(value, QUERY_VALUE));
            separator = '&';
        }
        if let Some(fragment) = fragment {
            out.push('#');
            out.push_str(fragment);
        }
        Ok(out)
    }

    fn is_s3(&self) -> bool {
        self.service == "s3"
    }

    /// The settings AWS clients use for this service: for S3 single URI
    /// encoding and no path normalization, for others the defaults (double
    /// encoding, normalized path).
    fn settings(&self) -> SigningSettings {
        let mut settings = SigningSettings::default();
        if self.is_s3() {
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        }
        settings
    }

    fn run(
        &self,
        method: &str,
        url: &str,
        headers: &HeaderMap,
        body: SignableBody<'_>,
        settings: SigningSettings,
        now: OffsetDateTime,
    ) -> Result<aws_sigv4::SigningOutput<http_request::SigningInstructions>, SigV4Error> {
        // `aws-sigv4` keeps the secret in its own `Credentials` (which redacts
        // it in Debug) for the duration of this call.
        let identity: Identity = Credentials::new(
            self.access_key_id,
            self.secret.expose(),
            self.session_token.map(str::to_owned),
            None,
            "billtrail",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(SystemTime::from(now))
            .settings(settings)
            .build()
            .map_err(|e| SigV4Error::Signing(e.to_string()))?
            .into();
        let header_pairs = headers
            .iter()
            .map(|(name, value)| {
                value
                    .to_str()
                    .map(|value| (name.as_str(), value))
                    .map_err(|_| SigV4Error::Signing(format!("header '{name}' is not ASCII text")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let request = SignableRequest::new(method, url, header_pairs.into_iter(), body)
            .map_err(|e| SigV4Error::Signing(e.to_string()))?;
        http_request::sign(request, &params).map_err(|e| SigV4Error::Signing(e.to_string()))
    }
}

/// Signs a request for billtrail's CLI: the headers to add (`authorization`,
/// `x-amz-date`, `x-amz-security-token` if there is a session token, and
/// `x-amz-content-sha256` for S3). See [`Signer::sign`]; this is the same
/// call with the signer's fields spelled out.
#[allow(clippy::too_many_arguments)] // the flat form is the API other crates code against
pub fn sign(
    method: &str,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
    access_key_id: &str,
    secret: &SecretKey,
    session_token: Option<&str>,
    region: &str,
    service: &str,
    now: OffsetDateTime,
) -> Result<Vec<(String, String)>, SigV4Error> {
    Signer {
        access_key_id,
        secret,
        session_token,
        region,
        service,
    }
    .sign(method, url, headers, body, now)
}
