//! Request authentication for billtrail.
//!
//! # Job
//!
//! The [`sigv4`] module answers one question: *was this HTTP request signed
//! with the secret that belongs to the access key it names?* It does that in
//! two pure steps, so the caller can look the key up in between:
//!
//! 1. [`sigv4::parse`] reads what the request *claims* (access key id, scope,
//!    signed headers, timestamp, signature) from the `Authorization` header or
//!    from presigned-URL query parameters, and
//! 2. [`sigv4::verify`] recomputes the signature with the secret and compares.
//!
//! It also has a small signer ([`sigv4::sign`], [`sigv4::Signer::presign`])
//! for billtrail's own CLI, built on the `aws-sigv4` crate, and [`SecretKey`],
//! the type every secret access key travels in. Beside them, [`principal`]
//! describes who a verified key belongs to and [`credentials`] keeps secrets
//! sealed at rest; the invariants below are those of `sigv4` and `secret`.
//!
//! # Invariants of `sigv4` and `secret`
//!
//! * Pure: no I/O, no clock reads (the caller passes `now`), no globals.
//! * Pinned: the verifier is tested against AWS's published SigV4 test suite
//!   (`tests/vectors/`) and against requests signed by `aws-sigv4`.
//! * Never panics on input: every byte of a request is untrusted. Both modules
//!   deny `unwrap`, `expect`, `panic!` and slice indexing outside tests.
//! * Signatures are compared in constant time (`hmac`'s `verify_slice`).
//! * Secrets never print: [`SecretKey`] is redacted in `Debug`/`Display` and
//!   zeroized on drop.
//!
//! # What `sigv4` is not
//!
//! * It does not look up access keys, session tokens or principals: the caller
//!   maps [`sigv4::Claim::access_key_id`] (and the security token) to a
//!   [`SecretKey`].
//! * It does not decide access: a verified signature says *who* sent the
//!   request, not whether they may do it.
//! * It does not check that the scope's region or service is the one this
//!   server answers for; the [`sigv4::Claim`] exposes both for the caller.
//! * It does not render HTTP error responses: [`sigv4::SigV4Error`] gives the
//!   AWS error code, status and message, and the protocol layer writes them.

pub mod credentials;
pub mod policy;
pub mod principal;
pub mod secret;
pub mod sigv4;

pub use secret::SecretKey;
pub use sigv4::{Claim, RequestParts, SigV4Error};
