//! Running the service: open the store, load the decision cache, seed the demo
//! when asked, serve HTTP until told to stop, and sweep SLAs in the background.
//!
//! Shutdown is graceful: the listener stops accepting, in-flight requests
//! finish, the sweeper stops, and the store's writer drains and closes.
//!
//! Connections are served by hyper's HTTP/1 server directly (not `axum::serve`)
//! so that [`HttpLimits`] hold: a client must send its request head within the
//! header-read timeout, a request must be answered within the request timeout
//! (else 503 in the API's error shape), and at most `max_connections` are open
//! at once (the next waits in the listen queue until one closes). Each request
//! carries the peer's address as [`axum::extract::ConnectInfo`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use clearance_core::Catalog;
use clearance_store::{Store, StoreError, StoreOptions, redacted_location};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use jiff::Timestamp;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::error::ApiError;

use crate::demo::{self, DemoTokens};
use crate::service::{Service, ServiceError, ServiceOptions};

/// How to run a server.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// The store's location: a SQLite file path or a `postgres://` URL.
    pub store: String,
    /// PostgreSQL only: keep the tables in this schema (created if absent), so
    /// several deployments or test runs can share one database.
    pub schema: Option<String>,
    /// The catalog every decision uses.
    pub catalog: Arc<Catalog>,
    /// Seed the demo tenants (once) and their tokens.
    pub demo: bool,
    /// How often the SLA sweeper runs; `None` disables it.
    pub sweep_interval: Option<Duration>,
    /// Tuning of the service.
    pub options: ServiceOptions,
    /// Timeouts and the connection cap.
    pub http: HttpLimits,
    /// Send `Strict-Transport-Security` on every answer (the service is reached over https).
    pub hsts: bool,
}

/// What bounds a client's hold on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// How long a client may take to send a request's head (the request line
    /// and headers); the connection is closed after that.
    pub header_read_timeout: Duration,
    /// How long a request may take, body and answer included, before it is
    /// answered 503 `request_timeout`.
    pub request_timeout: Duration,
    /// How many connections are open at once at most.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

impl ServeConfig {
    /// A config with defaults for all but the listen address and store.
    pub fn new(listen: SocketAddr, store: impl Into<String>, catalog: Arc<Catalog>) -> Self {
        ServeConfig {
            listen,
            store: store.into(),
            schema: None,
            catalog,
            demo: false,
            sweep_interval: Some(Duration::from_secs(60)),
            options: ServiceOptions::default(),
            http: HttpLimits::default(),
            hsts: false,
        }
    }
}

/// Why the server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error("opening the store at {location}: {source}")]
    Store {
        /// Where.
        location: String,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The cache could not be loaded or the demo seeded.
    #[error("{0}")]
    Service(#[from] ServiceError),
    /// The address could not be bound.
    #[error("listening on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("serving HTTP: {0}")]
    Serve(#[source] std::io::Error),
}

/// A server running in the background.
#[derive(Debug)]
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The service behind it (also usable directly).
    pub service: Service,
    /// The demo tokens, when it seeded the demo.
    pub demo: Option<DemoTokens>,
    stop: watch::Sender<bool>,
    http: JoinHandle<Result<(), std::io::Error>>,
    sweeper: Option<JoinHandle<()>>,
    store: Store,
}

impl RunningServer {
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops gracefully: no new connections, in-flight requests finish, the
    /// sweeper stops, the store's queued writes commit and it closes.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        let _ = self.stop.send(true);
        let served = self.http.await;
        if let Some(sweeper) = self.sweeper {
            let _ = sweeper.await;
        }
        self.store.close().await;
        match served {
            Ok(result) => result.map_err(ServeError::Serve),
            Err(error) => Err(ServeError::Serve(std::io::Error::other(error))),
        }
    }

    /// Waits until the server stops by itself (it only does on an error).
    pub async fn wait_stopped(&mut self) {
        let _ = (&mut self.http).await;
    }
}

/// Starts a server: opens the store, loads the cache, seeds the demo if asked,
/// binds, and serves `crate::router(service)` merged with the routes `extra`
/// builds on the same service (the portal: `start(config, clearance_portal::router)`;
/// none: `start(config, |_| Router::new())`) in the background.
pub async fn start(
    config: ServeConfig,
    extra: impl FnOnce(Service) -> Router,
) -> Result<RunningServer, ServeError> {
    let mut options = StoreOptions::new(config.store.clone());
    if let Some(schema) = &config.schema {
        options = options.schema(schema.clone());
    }
    let store = Store::open_with(options)
        .await
        .map_err(|source| ServeError::Store {
            location: redacted_location(&config.store),
            source,
        })?;
    let service = Service::open(
        store.clone(),
        config.catalog.clone(),
        config.options.clone(),
    )
    .await?;
    let demo = if config.demo {
        Some(demo::seed(&service, Timestamp::now()).await?)
    } else {
        demo::revoke(&service).await?;
        None
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    let (stop, stopped) = watch::channel(false);
    let mut app = crate::router(service.clone())
        .merge(extra(service.clone()))
        .layer(middleware::from_fn_with_state(
            config.http.request_timeout,
            answer_within,
        ));
    if config.hsts {
        app = app.layer(middleware::from_fn(strict_transport));
    }
    let http = tokio::spawn(serve_http(listener, app, config.http, stopped.clone()));
    let sweeper = config
        .sweep_interval
        .map(|interval| tokio::spawn(sweep_every(service.clone(), interval, stopped)));
    tracing::info!(%addr, store = %redacted_location(&config.store), "clearance is serving");
    Ok(RunningServer {
        addr,
        service,
        demo,
        stop,
        http,
        sweeper,
        store,
    })
}

/// Accepts connections until `stopped`, at most `limits.max_connections` at
/// once, and serves each with hyper's HTTP/1 server under the header-read
/// timeout; then waits for the open connections to finish their requests.
async fn serve_http(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), std::io::Error> {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    loop {
        // Take a connection slot before accepting, so that over the cap the
        // next client waits in the kernel's listen queue, not in memory here.
        let slot = tokio::select! {
            slot = connections.clone().acquire_owned() => slot.expect("the connection semaphore is never closed"),
            () = stop_requested(&mut stopped) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause, as axum::serve does.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stop_requested(&mut stopped) => break,
        };
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let mut app = app.clone();
                tower_service::Service::call(&mut app, request.map(axum::body::Body::new))
            });
        let connection = graceful.watch(http1.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // A client that hung up or was too slow with its headers.
                tracing::debug!(%error, %peer, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Resolves once a stop is requested.
async fn stop_requested(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Answers 503 `request_timeout` (the API's error shape) for a request not
/// answered within `limit`.
async fn answer_within(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "request_timeout",
            format!(
                "the request was not answered within {} s",
                limit.as_secs_f64()
            ),
        )
        .into_response(),
    }
}

/// Tells browsers to reach this site over https only, for a year.
async fn strict_transport(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// Runs a server until SIGINT or SIGTERM, then shuts down gracefully.
/// `on_start` sees the running server first (to print the URL and demo tokens).
pub async fn run(
    config: ServeConfig,
    extra: impl FnOnce(Service) -> Router,
    on_start: impl FnOnce(&RunningServer),
) -> Result<(), ServeError> {
    let mut server = start(config, extra).await?;
    on_start(&server);
    tokio::select! {
        () = shutdown_signal() => {
            tracing::info!("shutting down: finishing in-flight requests and queued writes");
        }
        () = server.wait_stopped() => {}
    }
    server.shutdown().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

async fn sweep_every(service: Service, interval: Duration, mut stopped: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stop = tokio::select! {
            _ = ticker.tick() => false,
            _ = stopped.wait_for(|stop| *stop) => true,
        };
        if stop {
            return;
        }
        service.sweep(Timestamp::now()).await;
    }
}
