//! The clearance service: the shell that turns the pure core into a running
//! system a partner portal calls on every page view and button.
//!
//! - [`service`]: [`Service`], the transport-agnostic application layer: the
//!   in-memory decision cache of every tenant's state (kept exact by following
//!   the store's revision feed), reads, writes with optimistic concurrency and
//!   idempotency, documents, tokens and the SLA sweep. The portal calls it directly.
//! - [`api`]: the HTTP API (axum) under `/v1`, its OpenAPI document, metrics
//!   and health endpoints; [`router`] builds it.
//! - [`auth`]: principals (operator staff, partner users) and bearer API tokens.
//! - [`views`]: the plain-data answers (JSON and OpenAPI schemas).
//! - [`error`]: the one HTTP error shape and how service errors map to it.
//! - [`server`]: configuration and [`run`]: open the store, load the cache,
//!   serve until SIGINT/SIGTERM, sweep SLAs in the background.
//! - [`demo`]: the demo tenants and tokens of `clearance serve --demo`.
//! - [`verify`]: `clearance verify`: every tenant re-folded from its events and compared with
//!   its snapshot, with the store's own checks.

pub mod api;
pub mod auth;
pub mod demo;
pub mod error;
pub mod server;
pub mod service;
pub mod verify;
pub mod views;

pub use api::router;
pub use auth::Principal;
pub use server::{RunningServer, ServeConfig, ServeError, run, start};
pub use service::{Outcome, Service, ServiceError, ServiceOptions};
