//! The HTTP surface: one router for every protocol on the one listen address.
//!
//! `POST /` with `X-Amz-Target` is AWS JSON 1.1. Each request is read (bounded), authenticated,
//! decoded and handed to [`billtrail_operations::dispatch`]; its answer, or its [`ApiError`], is
//! encoded here and only here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use billtrail_audit::{EventType, Origin, TlsDetails};
use billtrail_auth::sigv4::{RequestParts, WireProtocol};
use billtrail_operations::{dispatch, Env, Service};
use billtrail_protocol::{json11, ApiError};

use crate::authn::authenticate;
use crate::metrics::Metrics;

/// Shared by every request.
pub struct AppState {
    pub env: Arc<Env>,
    pub metrics: Metrics,
    pub max_body_bytes: usize,
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
        .route("/", post(api))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
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

/// An AWS error response: JSON 1.1 body, status, request id.
fn error_response(e: &ApiError, request_id: &str) -> Response {
    let mut r = Response::new(Body::from(e.to_json_body()));
    *r.status_mut() = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    set_headers(r.headers_mut(), request_id);
    r
}

fn set_headers(h: &mut HeaderMap, request_id: &str) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(json11::CONTENT_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
}

async fn api(
    State(state): State<Arc<AppState>>,
    conn: Option<Extension<ConnInfo>>,
    req: Request,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, state.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            let e = ApiError::new(
                "RequestEntityTooLargeException",
                413,
                format!(
                    "Request body must be at most {} bytes.",
                    state.max_body_bytes
                ),
            );
            state.metrics.observe("", "", &e.code, started);
            return error_response(&e, &request_id);
        }
    };
    let conn = conn.map(|Extension(c)| c);
    let (service, operation, result) = handle(
        &state,
        conn.as_ref(),
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        &request_id,
    )
    .await;
    let code = match &result {
        Ok(_) => "200",
        Err(e) => &e.code,
    };
    state.metrics.observe(service, &operation, code, started);
    match result {
        Ok(body) => {
            let mut r = Response::new(Body::from(body));
            set_headers(r.headers_mut(), &request_id);
            r
        }
        Err(e) => {
            if e.status >= 500 {
                tracing::warn!(request_id, code = %e.code, "request failed");
            }
            error_response(&e, &request_id)
        }
    }
}

/// Everything between the bytes that arrived and the bytes that go back. Returns the service and
/// operation names (for metrics) and the response body or error.
async fn handle(
    state: &AppState,
    conn: Option<&ConnInfo>,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
    request_id: &str,
) -> (&'static str, String, Result<Vec<u8>, ApiError>) {
    let parts = RequestParts {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers,
        body,
    };
    let (principal, claim) = match authenticate(&state.env, &parts, WireProtocol::Json) {
        Ok(x) => x,
        Err(e) => return ("", String::new(), Err(e)),
    };
    let Some(service) = Service::from_signing_name(&claim.service) else {
        let e = ApiError::unknown_operation(format!(
            "billtrail does not serve '{}' on this endpoint.",
            claim.service
        ));
        return ("", String::new(), Err(e));
    };
    let service_name = service.model().signing_name();
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let operation = match json11::split_target(target) {
        Ok((prefix, op)) if prefix == service.model().target_prefix() => op.to_string(),
        _ => {
            let e = ApiError::unknown_operation(format!(
                "Unknown target '{target}' for service {service_name}."
            ));
            return (service_name, String::new(), Err(e));
        }
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
        input: json11::parse_body(body),
        signed_region: claim.region.clone(),
        request_id: request_id.to_string(),
    };
    let result = dispatch(state.env.clone(), principal, origin, request)
        .await
        .map(|v| json11::encode(&v));
    (service_name, operation, result)
}
