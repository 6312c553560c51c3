//! The accept loop: plain HTTP, or HTTPS through rustls, with each request tagged with its
//! connection's [`ConnInfo`] (peer address, TLS version and cipher for the record's
//! `tlsDetails`).
//!
//! `axum::serve` hides the TLS session from handlers, so the loop is ours: accept, handshake,
//! read the negotiated parameters, then serve the connection with hyper.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::app::ConnInfo;
use crate::config::TlsFiles;
use crate::ServerError;

/// Loads the certificate chain and key into a TLS acceptor (HTTP/1.1 and HTTP/2 by ALPN).
pub fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ServerError> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| ServerError::Io(p.display().to_string(), e));
    let certs = rustls_pemfile::certs(&mut read(&files.cert)?.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServerError::Tls(format!("{}: {e}", files.cert.display())))?;
    let key = rustls_pemfile::private_key(&mut read(&files.key)?.as_slice())
        .map_err(|e| ServerError::Tls(format!("{}: {e}", files.key.display())))?
        .ok_or_else(|| ServerError::Tls(format!("{}: no private key", files.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// CloudTrail spells versions `TLSv1.2` / `TLSv1.3`.
fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        other => format!("{other:?}"),
    }
}

/// CloudTrail shows OpenSSL-style names for TLS 1.2 suites and IANA names for TLS 1.3.
fn cipher_name(s: rustls::CipherSuite) -> String {
    use rustls::CipherSuite as C;
    match s {
        C::TLS13_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256".into(),
        C::TLS13_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384".into(),
        C::TLS13_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256".into(),
        C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256".into(),
        C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384".into(),
        C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256".into(),
        C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384".into(),
        C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-RSA-CHACHA20-POLY1305".into(),
        C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-ECDSA-CHACHA20-POLY1305".into(),
        other => format!("{other:?}"),
    }
}

/// Serves `app` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, app: Router, tls: Option<TlsAcceptor>) {
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_conn(TokioIo::new(stream), app, ConnInfo { remote, tls: None }).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => {
                        let (_, session) = stream.get_ref();
                        let tls = match (
                            session.protocol_version(),
                            session.negotiated_cipher_suite(),
                        ) {
                            (Some(v), Some(c)) => Some((version_name(v), cipher_name(c.suite()))),
                            _ => None,
                        };
                        serve_conn(TokioIo::new(stream), app, ConnInfo { remote, tls }).await
                    }
                    Err(e) => tracing::debug!(error = %e, %remote, "TLS handshake failed"),
                },
            }
        });
    }
}

async fn serve_conn<I>(io: TokioIo<I>, app: Router, info: ConnInfo)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = tower::service_fn(
        move |mut req: axum::extract::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(info.clone());
            // HTTP/2 sends the host as the `:authority` pseudo-header, which `HeaderMap` does
            // not hold; SigV4 signs `host`, so it gets one (see billtrail_auth::sigv4).
            if !req.headers().contains_key(hyper::header::HOST) {
                if let Some(v) = req
                    .uri()
                    .authority()
                    .and_then(|a| hyper::header::HeaderValue::from_str(a.as_str()).ok())
                {
                    req.headers_mut().insert(hyper::header::HOST, v);
                }
            }
            app.clone().oneshot(req.map(axum::body::Body::new))
        },
    );
    if let Err(e) = Builder::new(TokioExecutor::new())
        .serve_connection(io, TowerToHyperService::new(svc))
        .await
    {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
