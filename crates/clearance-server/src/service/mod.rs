//! The application layer: the decision cache over the event store, and every
//! read and write the HTTP API and the portal offer, with who may do it.
//!
//! [`Service`] is transport-agnostic: the HTTP handlers in [`crate::api`] and
//! the portal call the same methods with a [`Principal`]. It holds every
//! tenant's current [`Tenant`] state in memory, so checks never touch the
//! database; writes go through [`clearance_core::workflow::execute`] and the
//! store's optimistic append, and a background task follows the store's global
//! revision feed so that writes by other server processes reach this cache.
//!
//! Authorization lives here, not in the transport: a partner reaches only its
//! own tenant (anything else is [`ServiceError::NotFound`], the same answer as
//! for a tenant that does not exist), reads are gated by the catalog's
//! `[gates]` (Legal Info, users, another user's decisions, ...), and writes by
//! the core's workflow.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use clearance_core::calendar::SlaStatus;
use clearance_core::catalog::{ActionIx, Gate};
use clearance_core::state::{CaseStatus, ProgramRecord, SupportCase};
use clearance_core::workflow::{self, Actor, Command, Event, WorkflowError};
use clearance_core::{Catalog, Tenant, VerificationStatus, decision};
use clearance_store::{IdempotencyRecord, NewEvent, Store, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

mod cache;
mod document;
mod preview;
mod reads;
mod sweep;
mod tokens;
mod writes;

pub(crate) use cache::SnapshotState;

pub use document::document_media_type;

use crate::auth::{self, Principal};
use crate::views::{
    AccessView, Affordance, AgreementView, AppealView, CaseActions, CaseView, CheckResult,
    CommentView, DiagnosisView, DocumentRef, EventPage, EventView, HeldMembershipView, IssuedToken,
    LegalInfoView, LegalProgramView, MembershipView, OfferView, ProfileView, ProgramInfoView,
    QueueEntry, SupportView, SweepReport, TenantSummary, UserView, UsersView, VerificationActions,
    VerificationView, WorkspaceView,
};

/// The largest document an appeal may carry.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// How far beyond the applied revision a `min_revision` may be: further than
/// this is refused with `invalid_input` (no burst of writes on other servers
/// outruns this cache by a million events between two requests).
pub const MAX_REVISION_AHEAD: u64 = 1_000_000;

/// How many audit-trail events one page holds at most.
pub const MAX_EVENT_PAGE: u32 = 500;

/// Tuning of a [`Service`].
#[derive(Clone, Debug)]
pub struct ServiceOptions {
    /// How long a read that names a `min_revision` waits for the cache to reach it.
    pub revision_wait: Duration,
    /// Save a tenant's snapshot every this many events.
    pub snapshot_every: u64,
    /// How long an authenticated token is trusted without asking the store again
    /// (bounds how long a revocation on another server takes to bite).
    pub token_cache_ttl: Duration,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions {
            revision_wait: Duration::from_secs(2),
            snapshot_every: 100,
            token_cache_ttl: Duration::from_secs(30),
        }
    }
}

/// Why a service call failed. Each variant maps to one HTTP status and a stable code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The thing does not exist, or the caller may not know it exists.
    #[error("{what} `{id}` was not found")]
    NotFound {
        /// What was looked for (`tenant`, `user`, `document`, ...).
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The input is malformed; `field` names the culprit.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault, as named on the wire.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// No valid credentials.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// The principal may not do this at all (e.g. staff-only).
    #[error("{message}")]
    Forbidden {
        /// Stable code (`staff_only`, `support_admin_only`).
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// The catalog denies the partner user the action that gates this read.
    #[error("`{}` is denied", .0.action)]
    Denied(CheckResult),
    /// The workflow refused the command (the rule says which).
    #[error(transparent)]
    Refused(#[from] WorkflowError),
    /// The tenant changed concurrently twice in a row; retry.
    #[error("tenant `{tenant}` changed while the write was applied; retry")]
    Conflict {
        /// The tenant.
        tenant: String,
    },
    /// An idempotency key was reused for a different request.
    #[error("idempotency key `{key}` was used before for a different request")]
    IdempotencyKeyReused {
        /// The key.
        key: String,
    },
    /// A token was already issued under this idempotency key (its secret is not kept).
    #[error(
        "a token was already issued under idempotency key `{key}`; revoke it and issue another"
    )]
    TokenAlreadyIssued {
        /// The key.
        key: String,
    },
    /// A read asked for a revision this server has not applied in time.
    #[error("revision {wanted} is not applied yet (at {applied}); retry shortly")]
    RevisionNotReached {
        /// The revision asked for.
        wanted: u64,
        /// The revision applied.
        applied: u64,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Stored data could not be read back (corrupt, or a catalog change removed an id).
    #[error("stored data: {0}")]
    Corrupt(String),
}

impl ServiceError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn tenant_not_found(id: &str) -> Self {
        ServiceError::NotFound {
            what: "tenant",
            id: id.to_owned(),
        }
    }
}

/// What a successful write reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The global revision of the write's last event: read at `min_revision` this to see it.
    pub revision: u64,
    /// The tenant's version after the write.
    pub version: u64,
    /// The events the write recorded.
    pub events: Vec<Event>,
    /// This is the recorded answer to an earlier request with the same idempotency key.
    #[serde(skip)]
    pub replayed: bool,
}

/// The body kept with an idempotency record: the outcome without its revision,
/// which is only known once the append commits and is read back from the
/// tenant's log (`tenant`, `version`) on replay.
#[derive(Serialize, Deserialize)]
struct RecordedOutcome {
    tenant: String,
    version: u64,
    events: Vec<Event>,
}

/// One shard of the decision cache: tenants keyed by their own id.
type Shard = RwLock<HashSet<cache::Cached>>;

const SHARDS: usize = 32;

/// How many overdue marks the SLA sweep has in flight at once.
const SWEEP_CONCURRENCY: usize = 256;

struct Inner {
    catalog: Arc<Catalog>,
    store: Store,
    options: ServiceOptions,
    shards: Vec<Shard>,
    hasher: RandomState,
    /// Every event with a revision at or below this is in the cache.
    applied: watch::Sender<u64>,
    /// Serialises folding the global feed into the cache.
    follow: tokio::sync::Mutex<()>,
    /// Authenticated tokens: hash → (principal, when checked).
    tokens: Mutex<HashMap<String, (Principal, Instant)>>,
    /// Writes to one tenant take turns in this process (a tenant always maps to
    /// the same stripe), so they never lose the optimistic race to each other;
    /// only a write by another server can make one stale.
    write_turns: Box<[tokio::sync::Mutex<()>]>,
}

/// Stripes of [`Inner::write_turns`]: enough that the sweep's concurrent marks
/// of different tenants rarely share one.
const WRITE_STRIPES: usize = 4096;

/// The clearance service: decision cache, reads, writes and the SLA sweep.
///
/// Cheap to clone; clones share everything.
///
/// ```
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use clearance_core::Catalog;
/// use clearance_core::workflow::{Command, SupportRole};
/// use clearance_server::{Principal, Service, ServiceOptions};
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = clearance_store::Store::open(dir.path().join("c.db").to_str().unwrap()).await?;
/// let catalog = Arc::new(Catalog::partner_center().clone());
/// let service = Service::open(store, catalog.clone(), ServiceOptions::default()).await?;
///
/// let admin = Principal::Staff { id: "ada".into(), role: SupportRole::SupportAdmin };
/// let create = Command::CreateTenant {
///     country: "US".into(),
///     admin: "alice".into(),
///     roles: vec!["global_admin".into()],
/// };
/// let written = service.execute(&admin, "contoso", create, Some("create-contoso")).await?;
/// assert_eq!(written.version, 1);
///
/// let alice = Principal::Partner { tenant: "contoso".into(), user: "alice".into() };
/// // The action the catalog says gates the Membership page.
/// let membership = catalog.gate_id(catalog.gates.membership_page).to_owned();
/// let check = service
///     .check(&alice, "contoso", "alice", &membership, Some(written.revision))
///     .await?;
/// assert!(!check.allowed); // not enrolled in MAICPP, not vetted
/// # Ok::<(), clearance_server::ServiceError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("store", &self.inner.store)
            .field("revision", &self.revision())
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Loads every tenant (snapshot plus the events after it) from `store` into
    /// the cache and starts following the store's revision feed.
    pub async fn open(
        store: Store,
        catalog: Arc<Catalog>,
        options: ServiceOptions,
    ) -> Result<Service, ServiceError> {
        let service = Service {
            inner: Arc::new(Inner {
                catalog,
                store,
                options,
                shards: (0..SHARDS).map(|_| Shard::default()).collect(),
                hasher: RandomState::new(),
                applied: watch::Sender::new(0),
                follow: tokio::sync::Mutex::new(()),
                tokens: Mutex::new(HashMap::new()),
                write_turns: (0..WRITE_STRIPES)
                    .map(|_| tokio::sync::Mutex::new(()))
                    .collect(),
            }),
        };
        service.load().await?;
        let follower = service.clone();
        // The follower holds only a weak handle so dropping every Service ends it.
        let weak = Arc::downgrade(&follower.inner);
        drop(follower);
        tokio::spawn(cache::follow_feed(weak));
        Ok(service)
    }

    /// The catalog every decision uses.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// The store underneath (for token and password administration by the portal).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The global revision the cache has applied completely.
    pub fn revision(&self) -> u64 {
        *self.inner.applied.borrow()
    }

    /// Number of tenants in the cache.
    pub fn tenant_count(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| shard.read().expect("cache lock is not poisoned").len())
            .sum()
    }

    /// Waits (bounded by [`ServiceOptions::revision_wait`]) until the cache has
    /// applied `revision`; `None` returns at once, and a revision more than
    /// [`MAX_REVISION_AHEAD`] past the applied one is refused at once as `Invalid`.
    pub async fn wait_for_revision(&self, revision: Option<u64>) -> Result<(), ServiceError> {
        let Some(wanted) = revision else {
            return Ok(());
        };
        let current = self.revision();
        if current >= wanted {
            return Ok(());
        }
        // A revision this far ahead is a client's mistake (or probing), not a
        // write another server made a moment ago: refuse it at once instead of
        // holding the request for the whole wait.
        if wanted - current > MAX_REVISION_AHEAD {
            return Err(ServiceError::invalid(
                "min_revision",
                format!(
                    "is more than {MAX_REVISION_AHEAD} ahead of the current revision {current}"
                ),
            ));
        }
        let mut applied = self.inner.applied.subscribe();
        let reached = tokio::time::timeout(
            self.inner.options.revision_wait,
            applied.wait_for(|applied| *applied >= wanted),
        )
        .await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => Err(ServiceError::RevisionNotReached {
                wanted,
                applied: self.revision(),
            }),
        }
    }

    /// The cached state of `tenant` as `principal` may see it (after waiting for
    /// `min_revision`); a partner asking for another tenant gets `NotFound`.
    pub async fn tenant(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<Arc<Tenant>, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        self.reachable(principal, tenant)
    }

    // ---- authorization helpers ---------------------------------------------

    /// The tenant if `principal` may reach it; `NotFound` otherwise, alike for
    /// a tenant that does not exist and one the principal may not know about.
    fn reachable(&self, principal: &Principal, tenant: &str) -> Result<Arc<Tenant>, ServiceError> {
        if !principal.reaches(tenant) {
            return Err(ServiceError::tenant_not_found(tenant));
        }
        self.cached(tenant)
            .ok_or_else(|| ServiceError::tenant_not_found(tenant))
    }

    /// The user a read is about: the one named, or the partner principal's own.
    /// A partner naming another user needs the catalog's `other_users` gate.
    fn subject_user<'t>(
        &self,
        principal: &Principal,
        state: &'t Tenant,
        user: Option<&str>,
    ) -> Result<&'t clearance_core::User, ServiceError> {
        let id = match (user, principal) {
            (Some(user), _) => user,
            (None, Principal::Partner { user, .. }) => user.as_str(),
            (None, Principal::Staff { .. }) => {
                return Err(ServiceError::invalid("user", "is required for staff"));
            }
        };
        self.may_read_user(principal, state, id)?;
        state.user(id).ok_or_else(|| ServiceError::NotFound {
            what: "user",
            id: id.to_owned(),
        })
    }

    /// A partner reading decisions about `user` other than itself needs the
    /// catalog's `other_users` gate (before the user is looked up, so that a
    /// denied partner cannot probe which users exist); staff pass.
    fn may_read_user(
        &self,
        principal: &Principal,
        state: &Tenant,
        user: &str,
    ) -> Result<(), ServiceError> {
        match principal {
            Principal::Partner { user: own, .. } if own != user => self.gate(
                principal,
                state,
                self.catalog().gates.other_users,
                Timestamp::now(),
            ),
            Principal::Partner { .. } | Principal::Staff { .. } => Ok(()),
        }
    }

    /// For a partner, `decide` of the gate's action must allow its user; staff
    /// pass. A gate is resolved when the catalog loads, so it cannot be missing
    /// here; only a catalog that says `"off"` leaves the read ungated.
    fn gate(
        &self,
        principal: &Principal,
        state: &Tenant,
        gate: Gate,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let Principal::Partner { user, .. } = principal else {
            return Ok(());
        };
        let Gate::Action(action) = gate else {
            return Ok(());
        };
        let result = self.check_cached(state, user, action, now)?;
        if result.allowed {
            Ok(())
        } else {
            Err(ServiceError::Denied(result))
        }
    }

    /// A read of `tenant` gated by `gate` (see [`Service::gate`]), after
    /// `min_revision`: its state and the one moment the whole read uses.
    async fn gated(
        &self,
        principal: &Principal,
        tenant: &str,
        gate: Gate,
        min_revision: Option<u64>,
    ) -> Result<(Arc<Tenant>, Timestamp), ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let now = Timestamp::now();
        let state = self.reachable(principal, tenant)?;
        self.gate(principal, &state, gate, now)?;
        Ok((state, now))
    }

    fn action(&self, id: &str, field: &str) -> Result<ActionIx, ServiceError> {
        self.catalog()
            .action_ix(id)
            .ok_or_else(|| ServiceError::invalid(field, format!("unknown action `{id}`")))
    }
}

fn require_staff(principal: &Principal) -> Result<(), ServiceError> {
    if principal.is_staff() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden {
            code: "staff_only",
            message: "only the operator's support staff may do this".to_owned(),
        })
    }
}

/// Tenant ids are path segments and store keys: keep them plain.
fn validate_tenant_id(id: &str) -> Result<(), ServiceError> {
    let plain = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if plain {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "tenant",
            "must be 1-64 characters of a-z, 0-9, `-` and `_`",
        ))
    }
}

fn validate_idempotency_key(key: &str) -> Result<(), ServiceError> {
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ServiceError::invalid(
            "Idempotency-Key",
            "must be 1-200 printable ASCII characters",
        ));
    }
    Ok(())
}

/// The hash that tells a retry from a different request under the same key.
fn request_hash(tenant: &str, command: &Command) -> String {
    let text = serde_json::to_string(&(tenant, command)).expect("a command serializes");
    auth::hex_sha256(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_plain() {
        assert!(validate_tenant_id("contoso-2").is_ok());
        for bad in ["", "Contoso", "a/b", "a b", &"x".repeat(65)] {
            assert!(validate_tenant_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_different_command_has_a_different_request_hash() {
        let a = Command::Enroll {
            program: "maicpp".into(),
        };
        let b = Command::Enroll {
            program: "csp".into(),
        };
        assert_eq!(request_hash("t", &a), request_hash("t", &a.clone()));
        assert_ne!(request_hash("t", &a), request_hash("t", &b));
        assert_ne!(request_hash("t", &a), request_hash("u", &a));
    }
}
