//! Running the service: open the store, load the decision cache, seed the demo
//! when asked, serve HTTP until told to stop, and sweep SLAs in the background.
//!
//! Shutdown is graceful: the listener stops accepting, in-flight requests
//! finish, the sweeper stops, and the store's writer drains and closes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use clearance_core::Catalog;
use clearance_store::{Store, StoreError, StoreOptions, redacted_location};
use jiff::Timestamp;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

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
    let app = crate::router(service.clone()).merge(extra(service.clone()));
    let mut http_stopped = stopped.clone();
    let http = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_stopped.wait_for(|stop| *stop).await;
            })
            .await
    });
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
