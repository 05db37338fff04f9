//! A demo service behind its real axum router, called in-process (`tower::ServiceExt::oneshot`,
//! no socket), so that HTTP fuzz targets run many thousand requests a second.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use clearance_server::demo::DemoTokens;
use clearance_server::{RunningServer, Service};
use tower::ServiceExt;

/// The client address every in-process request comes from.
pub const PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9)), 40000);

/// One answer, read whole.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Answer {
    /// The `Content-Type` header, if any and readable.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
    }
}

/// The demo (its store in a temporary directory, on a RAM disk when there is one, so that
/// fuzzed writes do not wait for a disk) and the API's router merged with the routes `extra`
/// builds on the same service (the portal's, or none). A read's wait for a `min_revision` is 5 ms.
pub struct App {
    runtime: tokio::runtime::Runtime,
    server: Option<RunningServer>,
    router: Router,
    _dir: tempfile::TempDir,
}

impl App {
    /// Seeds the demo and builds the router.
    pub fn start(extra: impl FnOnce(Service) -> Router) -> App {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("a temporary directory");
        let location = dir.path().join("clearance.db");
        let mut config = crate::server::config(location.to_str().expect("a UTF-8 path"));
        config.demo = true;
        // A `min_revision` a little ahead is answered 503 `revision_not_reached` after this
        // wait: kept short, so such cases do not hold the fuzzing for the default 2 s each.
        config.options.revision_wait = std::time::Duration::from_millis(5);
        let server = runtime
            .block_on(clearance_server::start(config, |_| Router::new()))
            .expect("the demo server starts");
        let router =
            clearance_server::router(server.service.clone()).merge(extra(server.service.clone()));
        App {
            runtime,
            server: Some(server),
            router,
            _dir: dir,
        }
    }

    /// The service behind the router.
    pub fn service(&self) -> &Service {
        &self.server.as_ref().expect("running until dropped").service
    }

    /// The demo's tokens.
    pub fn demo(&self) -> &DemoTokens {
        self.server
            .as_ref()
            .and_then(|server| server.demo.as_ref())
            .expect("the demo was seeded")
    }

    /// Runs `future` to completion on the app's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Sends `request` through the router (from [`PEER`]) and reads the answer whole.
    pub fn send(&self, mut request: Request<Body>) -> Answer {
        request.extensions_mut().insert(ConnectInfo(PEER));
        let router = self.router.clone();
        self.runtime.block_on(async move {
            let response = router
                .oneshot(request)
                .await
                .expect("the router's error type is Infallible");
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .expect("an answer's body is readable");
            Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            }
        })
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.runtime.block_on(server.shutdown());
        }
    }
}
