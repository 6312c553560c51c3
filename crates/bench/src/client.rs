//! The load generator's client side: keep-alive HTTP/1.1 connections and SigV4-signed AWS JSON
//! 1.1 requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use billtrail_auth::SecretKey;
use hdrhistogram::Histogram;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;
use tokio::net::TcpStream;

use crate::Error;

/// The AWS JSON 1.1 content type.
pub const JSON_11: &str = "application/x-amz-json-1.1";

/// How long one request may take before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An access key and its secret.
pub struct Credentials {
    pub access_key_id: String,
    pub secret: SecretKey,
}

/// A server: where to connect, and the `host` its requests are signed for.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub addr: SocketAddr,
}

impl Endpoint {
    pub fn host(&self) -> String {
        self.addr.to_string()
    }
    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

/// One AWS JSON 1.1 call: the signing name of its service, its `X-Amz-Target`, its body.
#[derive(Clone, Debug)]
pub struct Call {
    pub service: &'static str,
    pub target: &'static str,
    pub body: Bytes,
}

/// The SigV4 region every benchmark call is signed for.
pub const REGION: &str = "us-east-1";

/// Signs `call` for `endpoint` at `now`: every header the request needs.
pub fn sign(
    endpoint: &Endpoint,
    creds: &Credentials,
    call: &Call,
    now: OffsetDateTime,
) -> Result<HeaderMap, Error> {
    let mut headers = HeaderMap::with_capacity(6);
    let host = HeaderValue::from_str(&endpoint.host()).map_err(|e| e.to_string())?;
    headers.insert(HOST, host);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_11));
    headers.insert(
        HeaderName::from_static("x-amz-target"),
        HeaderValue::from_static(call.target),
    );
    let added = billtrail_auth::sigv4::sign(
        "POST",
        &endpoint.url(),
        &headers,
        &call.body,
        &creds.access_key_id,
        &creds.secret,
        None,
        REGION,
        call.service,
        now,
    )
    .map_err(|e| format!("signing: {e}"))?;
    for (name, value) in added {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_str(&value).map_err(|e| e.to_string())?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// Signs one fixed call over and over. With `memo`, the signed headers are reused within the
/// same second: SigV4 output depends on the request and on the second only, so this sends exactly
/// the bytes that signing every request would.
pub struct FixedSigner {
    endpoint: Endpoint,
    creds: Arc<Credentials>,
    call: Call,
    memo: bool,
    cached: Option<(i64, HeaderMap)>,
}

impl FixedSigner {
    pub fn new(endpoint: Endpoint, creds: Arc<Credentials>, call: Call, memo: bool) -> Self {
        FixedSigner {
            endpoint,
            creds,
            call,
            memo,
            cached: None,
        }
    }

    pub fn call(&self) -> &Call {
        &self.call
    }

    pub fn headers(&mut self) -> Result<HeaderMap, Error> {
        let now = OffsetDateTime::now_utc();
        let second = now.unix_timestamp();
        if self.memo {
            if let Some((s, h)) = &self.cached {
                if *s == second {
                    return Ok(h.clone());
                }
            }
        }
        let h = sign(&self.endpoint, &self.creds, &self.call, now)?;
        if self.memo {
            self.cached = Some((second, h.clone()));
        }
        Ok(h)
    }
}

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Result<Conn, Error> {
        if !addr.ip().is_loopback() {
            return Err(format!(
                "{addr} is not a loopback address; the benchmark only talks to this machine"
            ));
        }
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connecting to {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {addr}: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn { sender })
    }

    /// Sends `POST /` and reads the whole answer.
    pub async fn post(
        &mut self,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), Error> {
        self.post_within(headers, body, REQUEST_TIMEOUT).await
    }

    /// [`Conn::post`] with its own time limit.
    pub async fn post_within(
        &mut self,
        headers: HeaderMap,
        body: Bytes,
        limit: Duration,
    ) -> Result<(StatusCode, Bytes), Error> {
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = http::Uri::from_static("/");
        *req.headers_mut() = headers;
        self.send(req, limit).await
    }

    /// Sends `GET path` and reads the whole answer.
    pub async fn get(
        &mut self,
        host: &str,
        path: &'static str,
    ) -> Result<(StatusCode, Bytes), Error> {
        let mut req = Request::new(Full::new(Bytes::new()));
        *req.uri_mut() = http::Uri::from_static(path);
        req.headers_mut().insert(
            HOST,
            HeaderValue::from_str(host).map_err(|e| e.to_string())?,
        );
        self.send(req, REQUEST_TIMEOUT).await
    }

    async fn send(
        &mut self,
        req: Request<Full<Bytes>>,
        limit: Duration,
    ) -> Result<(StatusCode, Bytes), Error> {
        let exchange = async {
            self.sender
                .ready()
                .await
                .map_err(|e| format!("connection: {e}"))?;
            let resp = self
                .sender
                .send_request(req)
                .await
                .map_err(|e| format!("request: {e}"))?;
            let status = resp.status();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("response body: {e}"))?
                .to_bytes();
            Ok::<_, Error>((status, body))
        };
        tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| format!("no answer within {limit:?}"))?
    }
}

/// A latency histogram in microseconds, 1 µs to 10 minutes, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3)
        .expect("constant bounds: low >= 1, high >= 2 * low")
}

/// Records `d` (saturating at the histogram's top).
pub fn record(h: &mut Histogram<u64>, d: Duration) {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
    h.saturating_record(us);
}

/// A quantile in milliseconds.
pub fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}
