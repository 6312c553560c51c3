//! The baseline: a bare axum handler answering `POST /` with `{}`, served by the same kind of
//! accept loop as billtrail's (hyper-util's HTTP/1+2 connection builder, `TCP_NODELAY`, a
//! multi-threaded tokio runtime with default workers), so that the ratio of the two servers
//! isolates what billtrail does per call: authenticate, decode, validate, run, record, fsync.

use std::io::Write;
use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::routing::post;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::client::JSON_11;
use crate::Error;

async fn answer(_body: Bytes) -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
    ([(CONTENT_TYPE, JSON_11)], "{}")
}

/// Serves until stdin closes (the parent benchmark exited or is done with us).
pub fn serve(listen: SocketAddr) -> Result<(), Error> {
    if !listen.ip().is_loopback() {
        return Err(format!(
            "{listen}: the bare server listens on loopback only"
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| format!("binding {listen}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on {addr}").map_err(|e| e.to_string())?;
            out.flush().map_err(|e| e.to_string())?;
        }
        let app = Router::new().route("/", post(answer));
        let mut stdin = tokio::io::stdin();
        let mut sink = [0u8; 64];
        loop {
            tokio::select! {
                read = stdin.read(&mut sink) => {
                    // EOF or an error: the parent is gone or done.
                    if matches!(read, Ok(0) | Err(_)) {
                        return Ok(());
                    }
                }
                accepted = listener.accept() => {
                    let Ok((stream, _remote)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let app = app.clone();
                    tokio::spawn(async move {
                        let svc = tower::service_fn(
                            move |req: axum::extract::Request<hyper::body::Incoming>| {
                                app.clone().oneshot(req.map(Body::new))
                            },
                        );
                        let _ = Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc))
                            .await;
                    });
                }
            }
        }
    })
}
