//! The HTTP surface: one router for every protocol on the one listen address.
//!
//! `POST /` with `X-Amz-Target` is AWS JSON 1.1 (and AWS Query); `GET /` and `/<bucket>[/<key>]`
//! are S3's REST API, in [`crate::s3`]. Each JSON or Query request is read (bounded), authenticated,
//! decoded and handed to [`billtrail_operations::dispatch`]; its answer, or its [`ApiError`], is
//! encoded here and only here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Router};
use billtrail_audit::{EventType, Origin, TlsDetails};
use billtrail_auth::sigv4::{self, RequestParts};
use billtrail_operations::{dispatch, Env, Protocol, Service};
use billtrail_protocol::{json11, query, ApiError};

use crate::authn::{authenticate_claim, AuthnError};
use crate::metrics::Metrics;

/// Shared by every request.
pub struct AppState {
    pub env: Arc<Env>,
    pub metrics: Metrics,
    pub max_body_bytes: usize,
    /// Every trail bucket, local or on an S3-compatible endpoint: served by the S3 API
    /// ([`crate::s3`]), written by delivery.
    pub objects: Arc<billtrail_objects::Buckets>,
    /// The installation's management account: the owner S3 listings show.
    pub management_account_id: String,
    /// Access keys already opened (see [`crate::authn::KeyCache`]).
    pub keys: crate::authn::KeyCache,
}

/// What the listener knows about a connection, attached to each of its requests.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub remote: SocketAddr,
    /// `(protocol version, cipher suite)` when the connection is TLS, in CloudTrail's spelling.
    pub tls: Option<(String, String)>,
}

/// The router. Tests drive it with `tower::ServiceExt::oneshot`, adding a [`ConnInfo`]
/// extension to each request as the listener does.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", post(api).get(crate::s3::handle))
        // Other methods on these two are S3's (which refuses them as bucket names).
        .route("/health", get(health).fallback(crate::s3::handle))
        .route("/metrics", get(metrics).fallback(crate::s3::handle))
        // S3's REST API, path-style (crate::s3). The static routes above win over `{bucket}`,
        // so `health` and `metrics` are not bucket names (s3::RESERVED_BUCKET_NAMES).
        .route("/{bucket}", any(crate::s3::handle))
        .route("/{bucket}/", any(crate::s3::handle))
        .route("/{bucket}/{*key}", any(crate::s3::handle))
        .with_state(state)
}

async fn health() -> &'static str {
    "ok"
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// How a response is framed: AWS JSON 1.1, or AWS Query (XML) for `model`.
#[derive(Clone, Copy)]
enum Wire {
    Json,
    Query(&'static billtrail_protocol::ServiceModel),
}

impl Wire {
    fn of(service: Option<Service>) -> Wire {
        match service {
            Some(s) if s.protocol() == Protocol::Query => Wire::Query(s.model()),
            _ => Wire::Json,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Wire::Json => json11::CONTENT_TYPE,
            Wire::Query(_) => query::CONTENT_TYPE,
        }
    }

    /// An AWS error response in this framing: body, status, request id. The one place an
    /// [`ApiError`] becomes bytes.
    fn error(self, e: &ApiError, request_id: &str) -> Response {
        let (status, body) = match self {
            Wire::Json => (e.status, e.to_json_body()),
            Wire::Query(model) => (
                query::wire_error(model, e).status,
                query::encode_error(model, e, request_id),
            ),
        };
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.headers(r.headers_mut(), request_id);
        r
    }

    fn ok(self, body: Vec<u8>, request_id: &str) -> Response {
        let mut r = Response::new(Body::from(body));
        self.headers(r.headers_mut(), request_id);
        r
    }

    fn headers(self, h: &mut HeaderMap, request_id: &str) {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type()),
        );
        if let Ok(v) = HeaderValue::from_str(request_id) {
            h.insert("x-amzn-requestid", v);
        }
    }
}

/// What one API request came to: for metrics, and the response to send.
struct Handled {
    service: &'static str,
    /// The operation's name when it is one this server knows (`""` otherwise): a metrics label.
    operation: &'static str,
    wire: Wire,
    result: Result<Vec<u8>, ApiError>,
}

/// A request body over the limit (or one that could not be read).
#[derive(Debug)]
pub(crate) struct TooLarge;

/// The most bytes of a too-large body read and dropped before it is answered, and for how long.
const DRAIN_LIMIT: usize = 32 << 20;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads a request body of at most `limit` bytes.
///
/// A larger body is still read to its end and dropped (up to [`DRAIN_LIMIT`] bytes, for
/// [`DRAIN_TIME`] at most) before the caller answers: the connection is closed after that
/// answer, and a client still sending when it closes gets a reset instead of the 413 (the AWS
/// CLI would report a connection error). Hand-written because `axum::body::to_bytes` drops
/// the rest of the body as soon as the limit is passed.
pub(crate) async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, TooLarge> {
    use http_body_util::BodyExt;
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| TooLarge)?.into_data() else {
            continue; // trailers
        };
        len += data.len();
        if len > limit {
            let drain = async {
                while let Some(Ok(frame)) = body.frame().await {
                    len += frame.data_ref().map_or(0, |d| d.len());
                    if len > DRAIN_LIMIT {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
            return Err(TooLarge);
        }
        chunks.push(data);
    }
    Ok(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => chunks.concat().into(),
    })
}

async fn api(
    State(state): State<Arc<AppState>>,
    conn: Option<Extension<ConnInfo>>,
    req: Request,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let body = match read_body(body, state.max_body_bytes).await {
        Ok(b) => b,
        Err(TooLarge) => {
            let e = ApiError::new(
                "RequestEntityTooLargeException",
                413,
                format!(
                    "Request body must be at most {} bytes.",
                    state.max_body_bytes
                ),
            );
            state.metrics.observe("", "", &e.code, started);
            return Wire::Json.error(&e, &request_id);
        }
    };
    let conn = conn.map(|Extension(c)| c);
    let h = handle(
        &state,
        conn.as_ref(),
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        &request_id,
    )
    .await;
    let code = match &h.result {
        Ok(_) => "200",
        Err(e) => &e.code,
    };
    state.metrics.observe(h.service, h.operation, code, started);
    match h.result {
        Ok(body) => h.wire.ok(body, &request_id),
        Err(e) => {
            if e.status >= 500 {
                tracing::warn!(request_id, code = %e.code, "request failed");
            }
            h.wire.error(&e, &request_id)
        }
    }
}

/// Everything between the bytes that arrived and the bytes that go back.
async fn handle(
    state: &AppState,
    conn: Option<&ConnInfo>,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
    request_id: &str,
) -> Handled {
    let parts = RequestParts {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers,
        body,
    };
    // The scope names the service, which decides how even an authentication failure is framed.
    let parsed = sigv4::parse(&parts);
    let scoped = parsed
        .as_ref()
        .ok()
        .and_then(|c| Service::from_signing_name(&c.service));
    let wire = Wire::of(scoped);
    let fail = |service: &'static str, e: ApiError| Handled {
        service,
        operation: "",
        wire,
        result: Err(e),
    };
    let authenticated = parsed
        .map_err(AuthnError::Signature)
        .and_then(|claim| authenticate_claim(&state.env, &state.keys, &parts, claim));
    let (principal, claim) = match authenticated {
        Ok(x) => x,
        Err(e) => return fail("", e.to_api_error()),
    };
    let Some(service) = scoped else {
        let e = ApiError::unknown_operation(format!(
            "billtrail does not serve '{}' on this endpoint.",
            claim.service
        ));
        return fail("", e);
    };
    let model = service.model();
    let service_name = model.signing_name();
    let (operation, input) = match service.protocol() {
        Protocol::Json => {
            let target = headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            match json11::split_target(target) {
                Ok((prefix, op)) if prefix == model.target_prefix() => {
                    (op.to_string(), json11::parse_body(body))
                }
                _ => {
                    let e = ApiError::unknown_operation(format!(
                        "Unknown target '{target}' for service {service_name}."
                    ));
                    return fail(service_name, e);
                }
            }
        }
        Protocol::Query => match query::decode(model, body, parts.query) {
            Ok(q) => (q.action, Ok(q.input)),
            Err(e) => return fail(service_name, e),
        },
    };
    let origin = Origin {
        source_ip: conn
            .map(|c| c.remote.ip().to_string())
            .unwrap_or_else(|| "127.0.0.1".into()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        tls: conn
            .and_then(|c| c.tls.clone())
            .map(|(version, cipher)| TlsDetails {
                tls_version: version,
                cipher_suite: cipher,
                client_provided_host_header: headers
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string(),
            }),
        event_type: EventType::AwsApiCall,
    };
    let request = billtrail_operations::Request {
        service,
        operation: operation.clone(),
        input,
        signed_region: claim.region.clone(),
        request_id: request_id.to_string(),
    };
    let result = match dispatch(state.env.clone(), principal, origin, request).await {
        Ok(v) => match wire {
            Wire::Json => Ok(json11::encode(&v)),
            Wire::Query(model) => query::encode_response(model, &operation, &v, request_id)
                .inspect_err(|_| {
                    let why = query::check_output(model, &operation, &v)
                        .err()
                        .unwrap_or_default();
                    tracing::error!(
                        operation,
                        why,
                        "an operation's output does not fit its model"
                    );
                }),
        },
        Err(e) => Err(e),
    };
    Handled {
        service: service_name,
        operation: billtrail_operations::find(service, &operation).map_or("", |op| op.name),
        wire,
        result,
    }
}
