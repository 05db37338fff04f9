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
//! for a tenant that does not exist), reads are gated by the catalog's actions
//! (`legal_info.view`, `users.view`, ...), and writes by the core's workflow.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use clearance_core::calendar::SlaStatus;
use clearance_core::catalog::ActionIx;
use clearance_core::state::{CaseStatus, SupportCase};
use clearance_core::workflow::{self, Actor, Command, Event, WorkflowError};
use clearance_core::{Catalog, Tenant, VerificationStatus, decision};
use clearance_store::{IdempotencyRecord, NewEvent, Store, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

mod cache;

use crate::auth::{self, Principal};
use crate::views::{
    AccessView, AgreementView, AppealView, CaseView, CheckResult, CommentView, DiagnosisView,
    DocumentRef, EventPage, EventView, IssuedToken, LegalInfoView, MembershipView, ProfileView,
    ProgramInfoView, QueueEntry, StepView, SweepReport, TenantSummary, UserView, VerificationView,
    WorkspaceView,
};

/// The largest document an appeal may carry.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

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
/// let service = Service::open(store, catalog, ServiceOptions::default()).await?;
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
/// let check = service
///     .check(&alice, "contoso", "alice", "membership.view", Some(written.revision))
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
    /// applied `revision`; `None` returns at once.
    pub async fn wait_for_revision(&self, revision: Option<u64>) -> Result<(), ServiceError> {
        let Some(wanted) = revision else {
            return Ok(());
        };
        if self.revision() >= wanted {
            return Ok(());
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

    // ---- authentication -------------------------------------------------

    /// The principal of a bearer token, or `Unauthenticated`.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, ServiceError> {
        if !token.starts_with(auth::TOKEN_PREFIX) {
            return Err(ServiceError::Unauthenticated);
        }
        let hash = auth::token_hash(token);
        let ttl = self.inner.options.token_cache_ttl;
        if let Some((principal, at)) = self
            .inner
            .tokens
            .lock()
            .expect("token cache lock is not poisoned")
            .get(&hash)
            && at.elapsed() < ttl
        {
            return Ok(principal.clone());
        }
        let Some(value) = self.inner.store.find_token(&hash).await? else {
            return Err(ServiceError::Unauthenticated);
        };
        let principal: Principal = serde_json::from_value(value)
            .map_err(|error| ServiceError::Corrupt(format!("token principal: {error}")))?;
        self.inner
            .tokens
            .lock()
            .expect("token cache lock is not poisoned")
            .insert(hash, (principal.clone(), Instant::now()));
        Ok(principal)
    }

    /// Issues a new API token for `principal` (support admins only). A partner
    /// principal must name an existing user of an existing tenant.
    ///
    /// The secret is shown once and never stored, so a retry under the same
    /// idempotency key cannot be answered with it: it is refused with
    /// `TokenAlreadyIssued` instead of issuing a second token.
    pub async fn issue_token(
        &self,
        admin: &Principal,
        principal: Principal,
        idempotency_key: Option<&str>,
    ) -> Result<IssuedToken, ServiceError> {
        if !admin.is_support_admin() {
            return Err(ServiceError::Forbidden {
                code: "support_admin_only",
                message: "only a support admin may issue tokens".to_owned(),
            });
        }
        self.check_principal(&principal)?;
        if let Some(key) = idempotency_key {
            validate_idempotency_key(key)?;
            let request = serde_json::to_string(&principal).expect("a principal serializes");
            let record = IdempotencyRecord {
                key: key.to_owned(),
                principal: admin.key(),
                request_hash: auth::hex_sha256(request.as_bytes()),
                status: 201,
                body: "{}".to_owned(),
            };
            // Reserve the key first, so two concurrent retries cannot both issue.
            match self.inner.store.idempotency_put(record).await {
                Ok(()) => {}
                Err(StoreError::DuplicateIdempotencyKey { key, .. }) => {
                    return Err(ServiceError::TokenAlreadyIssued { key });
                }
                Err(error) => return Err(error.into()),
            }
        }
        let token = auth::new_token();
        self.store_token(&token, &principal).await?;
        Ok(IssuedToken { token, principal })
    }

    /// Stores `token` (already generated) for `principal`, checking that a
    /// partner principal names an existing user. Used by the demo seeding and tests.
    pub async fn store_token(
        &self,
        token: &str,
        principal: &Principal,
    ) -> Result<(), ServiceError> {
        self.check_principal(principal)?;
        let value = serde_json::to_value(principal).expect("a principal serializes");
        self.inner
            .store
            .put_token(&auth::token_hash(token), value)
            .await?;
        Ok(())
    }

    /// A partner principal must name an existing user of an existing tenant.
    fn check_principal(&self, principal: &Principal) -> Result<(), ServiceError> {
        if let Principal::Partner { tenant, user } = principal {
            let state = self
                .cached(tenant)
                .ok_or_else(|| ServiceError::tenant_not_found(tenant))?;
            if state.user(user).is_none() {
                return Err(ServiceError::NotFound {
                    what: "user",
                    id: user.clone(),
                });
            }
        }
        Ok(())
    }

    /// Revokes a token (support admins only). Other servers stop accepting it
    /// within [`ServiceOptions::token_cache_ttl`].
    pub async fn revoke_token(&self, admin: &Principal, token: &str) -> Result<(), ServiceError> {
        if !admin.is_support_admin() {
            return Err(ServiceError::Forbidden {
                code: "support_admin_only",
                message: "only a support admin may revoke tokens".to_owned(),
            });
        }
        let hash = auth::token_hash(token);
        self.inner
            .tokens
            .lock()
            .expect("token cache lock is not poisoned")
            .remove(&hash);
        match self.inner.store.revoke_token(&hash).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound { .. }) => Err(ServiceError::NotFound {
                what: "token",
                id: "(the token given)".to_owned(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    // ---- decisions --------------------------------------------------------

    /// May `user` of `tenant` take `action` now? Never touches the database.
    /// A partner may ask only about its own tenant.
    pub async fn check(
        &self,
        principal: &Principal,
        tenant: &str,
        user: &str,
        action: &str,
        min_revision: Option<u64>,
    ) -> Result<CheckResult, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let state = self.reachable(principal, tenant)?;
        let action = self.action(action, "action")?;
        self.check_cached(&state, user, action, Timestamp::now())
    }

    /// Many checks at once against one consistent moment; each answer or error
    /// in input order.
    pub async fn check_batch(
        &self,
        principal: &Principal,
        checks: &[(String, String, String)],
        min_revision: Option<u64>,
    ) -> Result<Vec<Result<CheckResult, ServiceError>>, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let now = Timestamp::now();
        Ok(checks
            .iter()
            .enumerate()
            .map(|(index, (tenant, user, action))| {
                let state = self.reachable(principal, tenant)?;
                let action = self.action(action, &format!("checks[{index}].action"))?;
                self.check_cached(&state, user, action, now)
            })
            .collect())
    }

    fn check_cached(
        &self,
        state: &Tenant,
        user: &str,
        action: ActionIx,
        now: Timestamp,
    ) -> Result<CheckResult, ServiceError> {
        let user = state.user(user).ok_or_else(|| ServiceError::NotFound {
            what: "user",
            id: user.to_owned(),
        })?;
        let decision = clearance_core::decide(self.catalog(), state, user, action, now);
        let allowed = decision.allowed();
        metrics::counter!("clearance_decisions_total", "allowed" => if allowed { "true" } else { "false" })
            .increment(1);
        Ok(CheckResult::from_decision(self.catalog(), &decision))
    }

    /// Every workspace and action for `user` (default: the partner principal's own user).
    pub async fn access(
        &self,
        principal: &Principal,
        tenant: &str,
        user: Option<&str>,
        min_revision: Option<u64>,
    ) -> Result<AccessView, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let state = self.reachable(principal, tenant)?;
        let user = self.subject_user(principal, &state, user)?;
        let workspaces = decision::access(self.catalog(), &state, user, Timestamp::now())
            .iter()
            .map(|workspace| WorkspaceView {
                workspace: workspace.workspace.id.clone(),
                name: workspace.workspace.name.clone(),
                page: workspace.workspace.page.clone(),
                open: workspace.open(),
                actions: workspace
                    .actions
                    .iter()
                    .map(|decision| CheckResult::from_decision(self.catalog(), decision))
                    .collect(),
            })
            .collect();
        Ok(AccessView {
            tenant: state.id.clone(),
            user: user.id.clone(),
            workspaces,
        })
    }

    /// The tenant's root cause and next supported steps for `user`.
    pub async fn diagnosis(
        &self,
        principal: &Principal,
        tenant: &str,
        user: Option<&str>,
        min_revision: Option<u64>,
    ) -> Result<DiagnosisView, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let state = self.reachable(principal, tenant)?;
        let user = self.subject_user(principal, &state, user)?;
        let diagnosis = clearance_core::diagnose(self.catalog(), &state, user, Timestamp::now());
        Ok(DiagnosisView {
            cause: diagnosis.cause,
            steps: diagnosis
                .steps
                .into_iter()
                .map(|step| StepView {
                    code: step.code.as_str().to_owned(),
                    text: step.text,
                })
                .collect(),
        })
    }

    // ---- partner pages ------------------------------------------------------

    /// The Partner tab of Legal Info (gated by `legal_info.view` for partners).
    pub async fn legal_info(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<LegalInfoView, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let state = self.reachable(principal, tenant)?;
        self.gate(principal, &state, "legal_info.view")?;
        let catalog = self.catalog();
        Ok(LegalInfoView {
            tenant: state.id.clone(),
            country: state.country.clone(),
            primary_contact: state.primary_contact.clone(),
            programs: program_infos(catalog, &state, false),
            agreements: catalog
                .agreements
                .iter()
                .map(|agreement| AgreementView {
                    agreement: agreement.id.clone(),
                    name: agreement.name.clone(),
                    accepted: catalog
                        .agreement_ix(&agreement.id)
                        .is_some_and(|ix| state.agreements.contains(ix)),
                })
                .collect(),
            profiles: catalog
                .profiles
                .iter()
                .map(|profile| ProfileView {
                    profile: profile.id.clone(),
                    name: profile.name.clone(),
                    complete: catalog
                        .profile_ix(&profile.id)
                        .is_some_and(|ix| state.profiles.contains(ix)),
                })
                .collect(),
            capability_score: state.capability_score,
            memberships: state
                .memberships
                .iter()
                .map(|membership| MembershipView {
                    offer: catalog.offers[membership.offer.index()].id.clone(),
                    expires_at: membership.expires_at.to_string(),
                })
                .collect(),
        })
    }

    /// The verification summary of one program (gated by `verification.view` for partners).
    pub async fn verification(
        &self,
        principal: &Principal,
        tenant: &str,
        program: &str,
        min_revision: Option<u64>,
    ) -> Result<VerificationView, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let state = self.reachable(principal, tenant)?;
        self.gate(principal, &state, "verification.view")?;
        let catalog = self.catalog();
        let program_ix = catalog
            .program_ix(program)
            .ok_or_else(|| ServiceError::NotFound {
                what: "program",
                id: program.to_owned(),
            })?;
        let record = state
            .program(program_ix)
            .ok_or_else(|| ServiceError::NotFound {
                what: "enrollment",
                id: program.to_owned(),
            })?;
        let verification = &record.verification;
        let sla = self.sla(verification, Timestamp::now());
        let max = catalog.vetting.max_appeals;
        Ok(VerificationView {
            tenant: state.id.clone(),
            program: program.to_owned(),
            enrollment: record.enrollment.as_str().to_owned(),
            status: verification.status.as_str().to_owned(),
            reason: verification.reason.clone(),
            documents_requested: verification.documents_requested.clone(),
            submitted_at: verification.submitted_at.map(|at| at.to_string()),
            sla_due: sla.map(|sla| sla.due.to_string()),
            business_days_elapsed: sla.map(|sla| sla.elapsed),
            overdue: verification.overdue || sla.is_some_and(|sla| sla.overdue),
            action_required: verification.action_required,
            appeals_used: verification.appeals_used,
            appeals_left: max.saturating_sub(verification.appeals_used),
            escalated_case: verification.escalated_case.clone(),
            appeals: verification
                .appeals
                .iter()
                .map(|appeal| AppealView {
                    document_type: appeal.document_type.clone(),
                    document: appeal.document.clone(),
                    by: appeal.by.clone(),
                    at: appeal.at.to_string(),
                })
                .collect(),
        })
    }

    /// The tenant's users and their roles (gated by `users.view` for partners).
    pub async fn users(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<Vec<UserView>, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let state = self.reachable(principal, tenant)?;
        self.gate(principal, &state, "users.view")?;
        Ok(state
            .users
            .iter()
            .map(|user| UserView {
                id: user.id.clone(),
                roles: user
                    .roles
                    .iter()
                    .map(|role| self.catalog().roles[role.index()].id.clone())
                    .collect(),
                primary_contact: state.primary_contact.as_deref() == Some(user.id.as_str()),
            })
            .collect())
    }

    /// The tenant's support cases (gated by `support.view_cases` for partners).
    pub async fn cases(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<Vec<CaseView>, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let state = self.reachable(principal, tenant)?;
        self.gate(principal, &state, "support.view_cases")?;
        Ok(state
            .cases
            .iter()
            .map(|case| case_view(self.catalog(), &state.id, case))
            .collect())
    }

    /// One support case.
    pub async fn case(
        &self,
        principal: &Principal,
        tenant: &str,
        case: &str,
        min_revision: Option<u64>,
    ) -> Result<CaseView, ServiceError> {
        self.cases(principal, tenant, min_revision)
            .await?
            .into_iter()
            .find(|view| view.id == case)
            .ok_or_else(|| ServiceError::NotFound {
                what: "case",
                id: case.to_owned(),
            })
    }

    /// The audit trail of a tenant, `limit` events after `seq` `after` (gated
    /// by `legal_info.view` for partners: the admins of the tenant).
    pub async fn events(
        &self,
        principal: &Principal,
        tenant: &str,
        after: u64,
        limit: u32,
    ) -> Result<EventPage, ServiceError> {
        let state = self.reachable(principal, tenant)?;
        self.gate(principal, &state, "legal_info.view")?;
        if limit == 0 || limit > MAX_EVENT_PAGE {
            return Err(ServiceError::invalid(
                "limit",
                format!("must be between 1 and {MAX_EVENT_PAGE}"),
            ));
        }
        let stored = self.inner.store.tenant_events(tenant, after, limit).await?;
        let next_after = (stored.len() == limit as usize)
            .then(|| stored.last().map(|event| event.seq))
            .flatten();
        let events = stored
            .into_iter()
            .map(|event| EventView {
                seq: event.seq,
                revision: event.revision,
                actor: serde_json::from_str(&event.actor)
                    .unwrap_or(serde_json::Value::String(event.actor)),
                at: event.recorded_at.to_string(),
                kind: event.kind,
                payload: event.payload,
            })
            .collect();
        Ok(EventPage { events, next_after })
    }

    // ---- operator views -----------------------------------------------------

    /// Every tenant (staff only), by id.
    pub fn tenants(&self, principal: &Principal) -> Result<Vec<TenantSummary>, ServiceError> {
        require_staff(principal)?;
        let mut tenants: Vec<TenantSummary> = self
            .all_tenants()
            .iter()
            .map(|state| summary(self.catalog(), state))
            .collect();
        tenants.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(tenants)
    }

    /// One tenant's summary (staff, or a partner of that tenant).
    pub async fn tenant_summary(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<TenantSummary, ServiceError> {
        let state = self.tenant(principal, tenant, min_revision).await?;
        Ok(summary(self.catalog(), &state))
    }

    /// Every support case across tenants (staff only); open ones first, oldest first.
    pub fn all_cases(&self, principal: &Principal) -> Result<Vec<CaseView>, ServiceError> {
        require_staff(principal)?;
        let mut cases: Vec<(bool, Timestamp, CaseView)> = self
            .all_tenants()
            .iter()
            .flat_map(|state| {
                state.cases.iter().map(|case| {
                    (
                        case.status != CaseStatus::Open,
                        case.opened_at,
                        case_view(self.catalog(), &state.id, case),
                    )
                })
            })
            .collect();
        cases.sort_by(|a, b| (a.0, a.1, &a.2.tenant).cmp(&(b.0, b.1, &b.2.tenant)));
        Ok(cases.into_iter().map(|(_, _, case)| case).collect())
    }

    /// Every verification waiting on someone (pending, in progress, challenged,
    /// rejected), most business days elapsed first (staff only).
    pub fn verification_queue(
        &self,
        principal: &Principal,
        now: Timestamp,
    ) -> Result<Vec<QueueEntry>, ServiceError> {
        require_staff(principal)?;
        let catalog = self.catalog();
        let mut queue: Vec<QueueEntry> = self
            .all_tenants()
            .iter()
            .flat_map(|state| {
                state.programs.iter().filter_map(|record| {
                    let verification = &record.verification;
                    if !matches!(
                        verification.status,
                        VerificationStatus::Pending
                            | VerificationStatus::InProgress
                            | VerificationStatus::Challenged
                            | VerificationStatus::Rejected
                    ) {
                        return None;
                    }
                    let sla = verification.submitted_at.map(|at| {
                        catalog
                            .calendar
                            .sla(at, catalog.vetting.sla_business_days, now)
                    });
                    Some(QueueEntry {
                        tenant: state.id.clone(),
                        program: catalog.programs[record.program.index()].id.clone(),
                        status: verification.status.as_str().to_owned(),
                        business_days_elapsed: sla.map_or(0, |sla| sla.elapsed),
                        sla_due: sla.map(|sla| sla.due.to_string()),
                        overdue: verification.overdue
                            || (sla.is_some_and(|sla| sla.overdue) && self.sla_runs(verification)),
                        action_required: verification.action_required,
                        appeals_used: verification.appeals_used,
                    })
                })
            })
            .collect();
        queue.sort_by(|a, b| {
            b.business_days_elapsed
                .cmp(&a.business_days_elapsed)
                .then_with(|| a.tenant.cmp(&b.tenant))
                .then_with(|| a.program.cmp(&b.program))
        });
        Ok(queue)
    }

    // ---- documents -----------------------------------------------------------

    /// Stores an appeal's document for `tenant`: PDF, PNG or JPEG by content, at
    /// most [`MAX_DOCUMENT_BYTES`], addressed by its SHA-256.
    pub async fn put_document(
        &self,
        principal: &Principal,
        tenant: &str,
        bytes: Vec<u8>,
    ) -> Result<DocumentRef, ServiceError> {
        self.reachable(principal, tenant)?;
        let content_type = document_media_type(&bytes)?;
        let sha256 = auth::hex_sha256(&bytes);
        let size = bytes.len() as u64;
        self.inner
            .store
            .put_blob(&sha256, content_type, bytes)
            .await?;
        Ok(DocumentRef {
            sha256,
            content_type: content_type.to_owned(),
            size,
        })
    }

    /// A stored document: staff see any; a partner only one its tenant's appeals reference.
    pub async fn document(
        &self,
        principal: &Principal,
        sha256: &str,
    ) -> Result<clearance_store::Blob, ServiceError> {
        let not_found = || ServiceError::NotFound {
            what: "document",
            id: sha256.to_owned(),
        };
        if let Principal::Partner { tenant, .. } = principal {
            let state = self.cached(tenant).ok_or_else(not_found)?;
            let referenced = state.programs.iter().any(|record| {
                record
                    .verification
                    .appeals
                    .iter()
                    .any(|appeal| appeal.document == sha256)
            });
            if !referenced {
                return Err(not_found());
            }
        }
        self.inner
            .store
            .get_blob(sha256)
            .await?
            .ok_or_else(not_found)
    }

    // ---- writes ----------------------------------------------------------------

    /// Runs `command` on `tenant` as `principal` now. See [`Service::execute_at`].
    pub async fn execute(
        &self,
        principal: &Principal,
        tenant: &str,
        command: Command,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        self.execute_at(
            principal,
            tenant,
            command,
            idempotency_key,
            Timestamp::now(),
        )
        .await
    }

    /// Runs `command` on `tenant` as `principal` at `now` (the demo and tests
    /// give past moments): checks it with the core's workflow against the cached
    /// state, appends its events with the version read, and folds them into the
    /// cache. Writes to one tenant take turns within this process; a read made
    /// stale by another server's write is retried once from fresh state, then
    /// `Conflict`.
    ///
    /// With an `idempotency_key`, a repeat of the same command by the same
    /// principal returns the first outcome (marked `replayed`) and applies
    /// nothing; the same key with a different command is `IdempotencyKeyReused`.
    pub async fn execute_at(
        &self,
        principal: &Principal,
        tenant: &str,
        command: Command,
        idempotency_key: Option<&str>,
        now: Timestamp,
    ) -> Result<Outcome, ServiceError> {
        let creates = matches!(command, Command::CreateTenant { .. });
        if creates {
            require_staff(principal)?;
            validate_tenant_id(tenant)?;
        } else {
            self.reachable(principal, tenant)?;
        }
        let idempotency = idempotency_key
            .map(|key| {
                validate_idempotency_key(key)?;
                Ok::<_, ServiceError>((principal.key(), key.to_owned()))
            })
            .transpose()?;
        self.run(
            &principal.actor(),
            tenant,
            &command,
            idempotency.as_ref().map(|(p, k)| (p.as_str(), k.as_str())),
            now,
        )
        .await
    }

    /// The write path shared by principals and the system actor.
    async fn run(
        &self,
        actor: &Actor,
        tenant: &str,
        command: &Command,
        idempotency: Option<(&str, &str)>,
        now: Timestamp,
    ) -> Result<Outcome, ServiceError> {
        let request_hash = request_hash(tenant, command);
        // Taken before the idempotency check, so a retry that waited for its
        // first attempt's turn finds that attempt's outcome.
        let stripe = self.inner.hasher.hash_one(tenant) as usize % WRITE_STRIPES;
        let _turn = self.inner.write_turns[stripe].lock().await;
        if let Some((principal, key)) = idempotency
            && let Some(outcome) = self.replay(principal, key, &request_hash).await?
        {
            return Ok(outcome);
        }
        let actor_text = serde_json::to_string(actor).expect("an actor serializes");
        for attempt in 0..2 {
            let state = self
                .cached(tenant)
                .unwrap_or_else(|| Arc::new(Tenant::new(tenant, "")));
            let events = match workflow::execute(self.catalog(), &state, actor, command, now) {
                Ok(events) => events,
                // A refusal read from a cache that another server's write has
                // not reached yet may be wrong: decide again on fresh state.
                Err(refusal) if attempt == 0 && self.is_behind(tenant, state.version).await? => {
                    tracing::debug!(tenant, %refusal, "refused on stale state; catching up");
                    self.catch_up_tenant(tenant).await?;
                    continue;
                }
                Err(refusal) => return Err(refusal.into()),
            };
            let version = state.version + events.len() as u64;
            let record = idempotency.map(|(principal, key)| IdempotencyRecord {
                key: key.to_owned(),
                principal: principal.to_owned(),
                request_hash: request_hash.clone(),
                status: 200,
                body: serde_json::to_string(&RecordedOutcome {
                    tenant: tenant.to_owned(),
                    version,
                    events: events.clone(),
                })
                .expect("events serialize"),
            });
            let new_events = events
                .iter()
                .map(|event| NewEvent {
                    kind: event.name().to_owned(),
                    actor: actor_text.clone(),
                    payload: serde_json::to_value(event).expect("an event serializes"),
                    recorded_at: now,
                })
                .collect();
            match self
                .inner
                .store
                .append(tenant, state.version, new_events, record)
                .await
            {
                Ok(appended) => {
                    self.fold_own(tenant, &state, &events, now)?;
                    return Ok(Outcome {
                        revision: appended.revision,
                        version: appended.version,
                        events,
                        replayed: false,
                    });
                }
                Err(StoreError::Conflict { .. }) if attempt == 0 => {
                    tracing::debug!(tenant, "stale write; catching up and retrying once");
                    // The write we lost to may be this very request, retried
                    // through another server: then its answer is the answer.
                    if let Some((principal, key)) = idempotency
                        && let Some(outcome) = self.replay(principal, key, &request_hash).await?
                    {
                        return Ok(outcome);
                    }
                    self.catch_up_tenant(tenant).await?;
                }
                Err(StoreError::Conflict { .. }) => {
                    return Err(ServiceError::Conflict {
                        tenant: tenant.to_owned(),
                    });
                }
                Err(StoreError::DuplicateIdempotencyKey { principal, key }) => {
                    return self
                        .replay(&principal, &key, &request_hash)
                        .await?
                        .ok_or_else(|| {
                            ServiceError::Corrupt(format!(
                                "idempotency key `{key}` is taken but has no record"
                            ))
                        });
                }
                Err(error) => return Err(error.into()),
            }
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// Appeals a rejected or challenged verification with a document: checks
    /// the document (PDF, PNG or JPEG by content, at most
    /// [`MAX_DOCUMENT_BYTES`]) and the appeal against the current state before
    /// storing anything, stores the document by its SHA-256, then records the
    /// appeal referencing it.
    pub async fn appeal(
        &self,
        principal: &Principal,
        tenant: &str,
        program: &str,
        document_type: &str,
        document: Vec<u8>,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        let state = self.reachable(principal, tenant)?;
        let content_type = document_media_type(&document)?;
        let sha256 = auth::hex_sha256(&document);
        let command = Command::Appeal {
            program: program.to_owned(),
            document_type: document_type.to_owned(),
            document: sha256.clone(),
        };
        let now = Timestamp::now();
        let recorded = match idempotency_key {
            Some(key) => {
                validate_idempotency_key(key)?;
                self.inner
                    .store
                    .idempotency_lookup(&principal.key(), key)
                    .await?
                    .is_some()
            }
            None => false,
        };
        if !recorded {
            // Refuse a doomed appeal before its document is stored (on fresh
            // state: the cache may be behind another server's write).
            let actor = principal.actor();
            if let Err(refusal) = workflow::execute(self.catalog(), &state, &actor, &command, now) {
                if !self.is_behind(tenant, state.version).await? {
                    return Err(refusal.into());
                }
                self.catch_up_tenant(tenant).await?;
                let fresh = self.reachable(principal, tenant)?;
                workflow::execute(self.catalog(), &fresh, &actor, &command, now)?;
            }
            self.inner
                .store
                .put_blob(&sha256, content_type, document)
                .await?;
        }
        self.execute_at(principal, tenant, command, idempotency_key, now)
            .await
    }

    /// Whether the store holds events of `tenant` beyond `version`.
    async fn is_behind(&self, tenant: &str, version: u64) -> Result<bool, ServiceError> {
        Ok(self.inner.store.tenant_version(tenant).await? > version)
    }

    /// The recorded outcome of an earlier request with this key, if any.
    async fn replay(
        &self,
        principal: &str,
        key: &str,
        request_hash: &str,
    ) -> Result<Option<Outcome>, ServiceError> {
        let Some(record) = self.inner.store.idempotency_lookup(principal, key).await? else {
            return Ok(None);
        };
        if record.request_hash != request_hash {
            return Err(ServiceError::IdempotencyKeyReused {
                key: key.to_owned(),
            });
        }
        let recorded: RecordedOutcome = serde_json::from_str(&record.body)
            .map_err(|error| ServiceError::Corrupt(format!("idempotency record: {error}")))?;
        let revision = match recorded.version {
            0 => 0,
            version => self
                .inner
                .store
                .tenant_events(&recorded.tenant, version - 1, 1)
                .await?
                .first()
                .map(|event| event.revision)
                .ok_or_else(|| {
                    ServiceError::Corrupt(format!(
                        "idempotency record points at missing event {version} of `{}`",
                        recorded.tenant
                    ))
                })?,
        };
        // The answer stands for a write this server must now show too (it may
        // have been made through another server).
        self.wait_for_revision(Some(revision)).await?;
        Ok(Some(Outcome {
            revision,
            version: recorded.version,
            events: recorded.events,
            replayed: true,
        }))
    }

    // ---- the SLA sweeper -------------------------------------------------------

    /// Marks overdue (once, as the system actor) every pending or in-progress
    /// verification past the catalog's SLA with no action-required banner; the
    /// core's workflow opens its support case. Returns what it marked.
    pub async fn sweep(&self, now: Timestamp) -> SweepReport {
        let mut report = SweepReport::default();
        let mut due = self
            .all_tenants()
            .iter()
            .flat_map(|state| {
                state
                    .programs
                    .iter()
                    .filter(|record| {
                        let verification = &record.verification;
                        self.sla_runs(verification)
                            && !verification.overdue
                            && self.sla(verification, now).is_some_and(|sla| sla.overdue)
                    })
                    .map(|record| {
                        (
                            state.id.clone(),
                            self.catalog().programs[record.program.index()].id.clone(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
            .into_iter();
        // The marks go out concurrently (each tenant's own write), so the
        // store's group commit takes many in one durable commit.
        let mut marking = tokio::task::JoinSet::new();
        loop {
            while marking.len() < SWEEP_CONCURRENCY
                && let Some((tenant, program)) = due.next()
            {
                let service = self.clone();
                marking.spawn(async move {
                    let command = Command::MarkOverdue {
                        program: program.clone(),
                    };
                    let result = service
                        .run(&Actor::System, &tenant, &command, None, now)
                        .await;
                    (tenant, program, result)
                });
            }
            let Some(joined) = marking.join_next().await else {
                break;
            };
            let (tenant, program, result) = match joined {
                Ok(marked) => marked,
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(error) => unreachable!("sweep tasks are never cancelled: {error}"),
            };
            match result {
                Ok(_) => report.marked.push((tenant, program)),
                // Another server swept it first.
                Err(ServiceError::Refused(WorkflowError::AlreadyOverdue { .. })) => {}
                Err(error) => report.failed.push((tenant, program, error.to_string())),
            }
        }
        report.marked.sort();
        report.failed.sort();
        if !report.marked.is_empty() || !report.failed.is_empty() {
            tracing::info!(
                marked = report.marked.len(),
                failed = report.failed.len(),
                "SLA sweep"
            );
        }
        report
    }

    /// Whether the SLA clock runs for a verification: pending or in progress, no banner.
    fn sla_runs(&self, verification: &clearance_core::state::Verification) -> bool {
        matches!(
            verification.status,
            VerificationStatus::Pending | VerificationStatus::InProgress
        ) && !verification.action_required
    }

    fn sla(
        &self,
        verification: &clearance_core::state::Verification,
        now: Timestamp,
    ) -> Option<SlaStatus> {
        if !self.sla_runs(verification) {
            return None;
        }
        let catalog = self.catalog();
        verification.submitted_at.map(|at| {
            catalog
                .calendar
                .sla(at, catalog.vetting.sla_business_days, now)
        })
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
        state.user(id).ok_or_else(|| ServiceError::NotFound {
            what: "user",
            id: id.to_owned(),
        })
    }

    /// For a partner, `decide` of `action` must allow its user; staff pass.
    fn gate(
        &self,
        principal: &Principal,
        state: &Tenant,
        action: &str,
    ) -> Result<(), ServiceError> {
        let Principal::Partner { user, .. } = principal else {
            return Ok(());
        };
        let Some(action) = self.catalog().action_ix(action) else {
            // A catalog without this action does not gate the read.
            return Ok(());
        };
        let result = self.check_cached(state, user, action, Timestamp::now())?;
        if result.allowed {
            Ok(())
        } else {
            Err(ServiceError::Denied(result))
        }
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

/// The media type of an accepted document, by its first bytes.
pub fn document_media_type(bytes: &[u8]) -> Result<&'static str, ServiceError> {
    if bytes.is_empty() {
        return Err(ServiceError::invalid("document", "is empty"));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(ServiceError::invalid(
            "document",
            format!("is larger than {MAX_DOCUMENT_BYTES} bytes"),
        ));
    }
    if bytes.starts_with(b"%PDF-") {
        Ok("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok("image/jpeg")
    } else {
        Err(ServiceError::invalid(
            "document",
            "must be a PDF, PNG or JPEG file (checked by content)",
        ))
    }
}

fn program_infos(catalog: &Catalog, state: &Tenant, enrolled_only: bool) -> Vec<ProgramInfoView> {
    catalog
        .programs
        .iter()
        .filter_map(|program| {
            let record = catalog
                .program_ix(&program.id)
                .and_then(|ix| state.program(ix));
            if enrolled_only && record.is_none() {
                return None;
            }
            Some(ProgramInfoView {
                program: program.id.clone(),
                name: program.name.clone(),
                enrolled: record.is_some(),
                enrollment: record.map(|record| record.enrollment.as_str().to_owned()),
                verification: record.map(|record| record.verification.status.as_str().to_owned()),
            })
        })
        .collect()
}

fn summary(catalog: &Catalog, state: &Tenant) -> TenantSummary {
    TenantSummary {
        id: state.id.clone(),
        country: state.country.clone(),
        primary_contact: state.primary_contact.clone(),
        version: state.version,
        programs: program_infos(catalog, state, true),
    }
}

fn case_view(catalog: &Catalog, tenant: &str, case: &SupportCase) -> CaseView {
    CaseView {
        tenant: tenant.to_owned(),
        id: case.id.clone(),
        subject: case.subject.clone(),
        program: case
            .program
            .map(|program| catalog.programs[program.index()].id.clone()),
        opened_by: case.opened_by.clone(),
        opened_at: case.opened_at.to_string(),
        status: match case.status {
            CaseStatus::Open => "open",
            CaseStatus::Resolved => "resolved",
        }
        .to_owned(),
        comments: case
            .comments
            .iter()
            .map(|comment| CommentView {
                by: comment.by.clone(),
                at: comment.at.to_string(),
                body: comment.body.clone(),
            })
            .collect(),
        resolution: case.resolution.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_recognised_by_content_not_name() {
        assert_eq!(
            document_media_type(b"%PDF-1.7\n...").ok(),
            Some("application/pdf")
        );
        assert_eq!(
            document_media_type(b"\x89PNG\r\n\x1a\n\0\0").ok(),
            Some("image/png")
        );
        assert_eq!(
            document_media_type(&[0xFF, 0xD8, 0xFF, 0xE0]).ok(),
            Some("image/jpeg")
        );
        for bad in [&b"GIF89a"[..], b"", b"MZ\x90\0", b"<html>"] {
            let error = document_media_type(bad).expect_err("not an accepted type");
            assert!(
                matches!(error, ServiceError::Invalid { ref field, .. } if field == "document")
            );
        }
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_DOCUMENT_BYTES + 1, 0);
        assert!(document_media_type(&big).is_err());
    }

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
