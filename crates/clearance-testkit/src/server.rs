//! Starting a real server from a test: loopback, any free port, demo data,
//! no background sweeper (tests call `Service::sweep` themselves).
//!
//! ```no_run
//! # async fn example() -> Result<(), clearance_server::server::ServeError> {
//! let dir = std::env::temp_dir().join("clearance-example");
//! let server = clearance_testkit::server::start_demo(dir.join("clearance.db").to_str().unwrap()).await?;
//! let tokens = server.demo.as_ref().expect("the demo was seeded");
//! println!("{} {}", server.url(), tokens.support_agent.token);
//! server.shutdown().await?;
//! # Ok(())
//! # }
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use clearance_core::Catalog;

use clearance_server::server::{RunningServer, ServeConfig, ServeError, start};

/// The config a test server uses: loopback port 0, the default catalog, the
/// given store location, no sweeper.
pub fn config(store: &str) -> ServeConfig {
    let mut config = ServeConfig::new(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        store,
        Arc::new(Catalog::partner_center().clone()),
    );
    config.sweep_interval = None;
    config
}

/// Starts a server with the demo data on `store` (a SQLite path or a
/// `postgres://` URL); its URL is `server.url()`, its tokens `server.demo`.
pub async fn start_demo(store: &str) -> Result<RunningServer, ServeError> {
    let mut config = config(store);
    config.demo = true;
    start(config, |_| Router::new()).await
}
