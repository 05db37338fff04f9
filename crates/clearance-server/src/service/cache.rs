//! The decision cache: every tenant's state in memory, sharded; loaded at
//! start-up from snapshots and the events after them, and kept exact by folding
//! this process's own writes at once and the store's global revision feed (other
//! processes' writes) in the background.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clearance_core::Tenant;
use clearance_core::workflow::Event;
use clearance_store::{RawHistory, StoredEvent};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::{Inner, SHARDS, Service, ServiceError, Shard};

/// A cached tenant. The cache is a set keyed by the tenant's own id, so the id
/// is held once, not again as a map key.
pub(super) struct Cached(Arc<Tenant>);

impl PartialEq for Cached {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for Cached {}

impl Hash for Cached {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that lookups by `&str` (through `Borrow`) agree.
        self.0.id.as_str().hash(state);
    }
}

impl Borrow<str> for Cached {
    fn borrow(&self) -> &str {
        &self.0.id
    }
}

impl Cached {
    /// Caches `state` in its compact form.
    fn new(mut state: Tenant) -> Self {
        compact(&mut state);
        Cached(Arc::new(state))
    }
}

/// Gives back the spare capacity of every vector and string of `state`, so a
/// cached tenant costs what it holds: a vector grown by pushes (as parsing and
/// folding do) keeps room for up to twice its elements, and that room, times a
/// million tenants, was most of the cache.
fn compact(state: &mut Tenant) {
    state.id.shrink_to_fit();
    state.country.shrink_to_fit();
    if let Some(contact) = &mut state.primary_contact {
        contact.shrink_to_fit();
    }
    state.programs.shrink_to_fit();
    for record in &mut state.programs {
        let verification = &mut record.verification;
        if let Some(reason) = &mut verification.reason {
            reason.shrink_to_fit();
        }
        verification.documents_requested.shrink_to_fit();
        verification.appeals.shrink_to_fit();
        if let Some(case) = &mut verification.escalated_case {
            case.shrink_to_fit();
        }
    }
    state.memberships.shrink_to_fit();
    state.users.shrink_to_fit();
    for user in &mut state.users {
        user.id.shrink_to_fit();
    }
    state.cases.shrink_to_fit();
    for case in &mut state.cases {
        case.comments.shrink_to_fit();
    }
}

/// How many batches of tenants are folded at once at start-up: one per core.
fn fold_tasks() -> usize {
    std::thread::available_parallelism().map_or(2, |cores| cores.get())
}

impl Service {
    fn shard_index(&self, tenant: &str) -> usize {
        self.inner.hasher.hash_one(tenant) as usize % SHARDS
    }

    pub(super) fn shard(&self, tenant: &str) -> &Shard {
        &self.inner.shards[self.shard_index(tenant)]
    }

    pub(super) fn cached(&self, tenant: &str) -> Option<Arc<Tenant>> {
        self.shard(tenant)
            .read()
            .expect("cache lock is not poisoned")
            .get(tenant)
            .map(|cached| Arc::clone(&cached.0))
    }

    pub(super) fn all_tenants(&self) -> Vec<Arc<Tenant>> {
        let mut all = Vec::with_capacity(self.tenant_count());
        for shard in &self.inner.shards {
            let shard = shard.read().expect("cache lock is not poisoned");
            all.extend(shard.iter().map(|cached| Arc::clone(&cached.0)));
        }
        all
    }

    /// Folds this process's own committed events into the cache. The follower
    /// may have folded them already (then this is a no-op).
    pub(super) fn fold_own(
        &self,
        tenant: &str,
        read: &Tenant,
        events: &[Event],
        at: Timestamp,
    ) -> Result<(), ServiceError> {
        let mut shard = self
            .shard(tenant)
            .write()
            .expect("cache lock is not poisoned");
        let current = shard.get(tenant).map_or(0, |cached| cached.0.version);
        if current != read.version {
            // The follower got here first (it can only have folded these very events,
            // since the append proved nobody else wrote in between).
            return Ok(());
        }
        let mut state = read.clone();
        for event in events {
            state
                .apply(self.catalog(), event, at)
                .map_err(|error| ServiceError::Corrupt(format!("own event: {error}")))?;
        }
        let version = state.version;
        shard.replace(Cached::new(state));
        drop(shard);
        self.maybe_snapshot(tenant, read.version, version);
        Ok(())
    }

    /// Folds one stored event into the cache if it is the tenant's next one.
    pub(super) fn fold_stored(&self, event: &StoredEvent) -> Result<(), ServiceError> {
        let mut shard = self
            .shard(&event.tenant)
            .write()
            .expect("cache lock is not poisoned");
        let current = shard.get(event.tenant.as_str()).map(|cached| &cached.0);
        let version = current.map_or(0, |state| state.version);
        if event.seq <= version {
            return Ok(());
        }
        if event.seq != version + 1 {
            return Err(ServiceError::Corrupt(format!(
                "tenant `{}` event {} arrived at version {version}",
                event.tenant, event.seq
            )));
        }
        let mut state = current
            .map(|state| Tenant::clone(state))
            .unwrap_or_else(|| Tenant::new(event.tenant.clone(), ""));
        self.apply_stored(&mut state, std::slice::from_ref(event))?;
        shard.replace(Cached::new(state));
        drop(shard);
        self.maybe_snapshot(&event.tenant, version, event.seq);
        Ok(())
    }

    /// Saves a snapshot in the background when `from..=to` crossed a multiple of
    /// [`ServiceOptions::snapshot_every`].
    pub(super) fn maybe_snapshot(&self, tenant: &str, from: u64, to: u64) {
        let every = self.inner.options.snapshot_every.max(1);
        if to / every == from / every {
            return;
        }
        let Some(state) = self.cached(tenant) else {
            return;
        };
        let snapshot = SnapshotState {
            fingerprint: self.catalog().fingerprint(),
            tenant: Tenant::clone(&state),
        };
        let store = self.inner.store.clone();
        let tenant = tenant.to_owned();
        tokio::spawn(async move {
            let version = snapshot.tenant.version;
            let value = serde_json::to_value(&snapshot).expect("a tenant serializes");
            if let Err(error) = store.save_snapshot(&tenant, version, value).await {
                tracing::warn!(tenant, version, %error, "snapshot not saved");
            }
        });
    }

    /// Reads a tenant's events after the cached version straight from its log
    /// (used after a stale write, so the retry sees the fresh state at once).
    pub(super) async fn catch_up_tenant(&self, tenant: &str) -> Result<(), ServiceError> {
        loop {
            let version = self.cached(tenant).map_or(0, |state| state.version);
            let events = self
                .inner
                .store
                .tenant_events(tenant, version, 1000)
                .await?;
            if events.is_empty() {
                return Ok(());
            }
            for event in &events {
                self.fold_stored(event)?;
            }
        }
    }

    /// Folds into `state` each of `events` that is its next one (`seq` one past
    /// its version); the others are already in it.
    fn apply_stored(&self, state: &mut Tenant, events: &[StoredEvent]) -> Result<(), ServiceError> {
        for event in events {
            if event.seq != state.version + 1 {
                continue;
            }
            let corrupt = |error: &dyn std::fmt::Display| {
                ServiceError::Corrupt(format!(
                    "event {} of `{}`: {error}",
                    event.seq, event.tenant
                ))
            };
            let domain = Event::deserialize(&event.payload).map_err(|error| corrupt(&error))?;
            state
                .apply(self.catalog(), &domain, event.recorded_at)
                .map_err(|error| corrupt(&error))?;
        }
        Ok(())
    }

    /// Start-up: every tenant's snapshot and the events after it. The store
    /// reads batches of tenants while up to [`fold_tasks`] batches are parsed
    /// and folded on blocking threads, each inserted into the cache with one
    /// lock per shard.
    pub(super) async fn load(&self) -> Result<(), ServiceError> {
        let started = Instant::now();
        let mut loader = self.inner.store.load_all().await?;
        let revision = loader.revision();
        // Sized once: growing a shard rehashes every tenant already in it, and
        // each rehash reads the tenant's id through its `Arc`.
        let per_shard = usize::try_from(loader.tenants()).unwrap_or(usize::MAX) / SHARDS;
        for shard in &self.inner.shards {
            let mut shard = shard.write().expect("cache lock is not poisoned");
            let held = shard.len();
            shard.reserve((per_shard + per_shard / 8).saturating_sub(held));
        }
        let mut folding = JoinSet::new();
        let mut loaded = Folded::default();
        while let Some(batch) = loader.next_batch().await? {
            if folding.len() >= fold_tasks()
                && let Some(folded) = folding.join_next().await
            {
                loaded.add(folded)?;
            }
            let service = self.clone();
            folding.spawn_blocking(move || service.fold_batch(batch));
        }
        while let Some(folded) = folding.join_next().await {
            loaded.add(folded)?;
        }
        // Snapshots taken under another catalog (their indices differ): replay
        // these tenants' logs from the first event.
        for tenant in loaded.replay {
            let mut state = Tenant::new(tenant.clone(), "");
            self.apply_stored(&mut state, &self.all_events(&tenant).await?)?;
            self.shard(&tenant)
                .write()
                .expect("cache lock is not poisoned")
                .replace(Cached::new(state));
            loaded.tenants += 1;
        }
        self.inner.applied.send_replace(revision);
        tracing::info!(
            tenants = loaded.tenants,
            revision,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "decision cache loaded"
        );
        Ok(())
    }

    /// Parses and folds one batch of start-up histories and inserts them into
    /// the cache; returns how many it inserted and the tenants whose snapshot
    /// cannot be used (to replay in full).
    fn fold_batch(&self, batch: Vec<RawHistory>) -> Result<Folded, ServiceError> {
        let fingerprint = self.catalog().fingerprint();
        let mut shards: Vec<Vec<Cached>> = (0..SHARDS).map(|_| Vec::new()).collect();
        let mut folded = Folded::default();
        for history in batch {
            let start = match &history.snapshot {
                // Every event from the first.
                None => Some(Tenant::new(history.tenant.clone(), "")),
                Some(snapshot) => serde_json::from_str::<SnapshotState>(&snapshot.state)
                    .ok()
                    .filter(|state| {
                        state.fingerprint == fingerprint
                            && state.tenant.version == snapshot.version
                            && state.tenant.id == history.tenant
                    })
                    .map(|state| state.tenant),
            };
            let Some(mut state) = start else {
                folded.replay.push(history.tenant);
                continue;
            };
            self.apply_stored(&mut state, &history.events)?;
            shards[self.shard_index(&history.tenant)].push(Cached::new(state));
            folded.tenants += 1;
        }
        for (shard, tenants) in self.inner.shards.iter().zip(shards) {
            if tenants.is_empty() {
                continue;
            }
            let mut shard = shard.write().expect("cache lock is not poisoned");
            for cached in tenants {
                shard.replace(cached);
            }
        }
        Ok(folded)
    }

    pub(super) async fn all_events(&self, tenant: &str) -> Result<Vec<StoredEvent>, ServiceError> {
        let mut events = Vec::new();
        loop {
            let after = events.last().map_or(0, |event: &StoredEvent| event.seq);
            let page = self.inner.store.tenant_events(tenant, after, 1000).await?;
            if page.is_empty() {
                return Ok(events);
            }
            events.extend(page);
        }
    }

    /// Folds the global feed from the applied revision up to the store's.
    pub(super) async fn catch_up_feed(&self) -> Result<(), ServiceError> {
        let _guard = self.inner.follow.lock().await;
        loop {
            let applied = self.revision();
            let page = self
                .inner
                .store
                .events_after_revision(applied, 1000)
                .await?;
            let Some(last) = page.last().map(|event| event.revision) else {
                return Ok(());
            };
            for event in &page {
                self.fold_stored(event)?;
            }
            self.inner.applied.send_replace(last);
            metrics::gauge!("clearance_revision").set(last as f64);
            metrics::gauge!("clearance_cache_tenants").set(self.tenant_count() as f64);
        }
    }
}

/// What start-up folding has done so far.
#[derive(Default)]
struct Folded {
    tenants: usize,
    replay: Vec<String>,
}

impl Folded {
    /// Adds a finished fold task's result.
    fn add(
        &mut self,
        joined: Result<Result<Folded, ServiceError>, tokio::task::JoinError>,
    ) -> Result<(), ServiceError> {
        let folded = match joined {
            Ok(folded) => folded?,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => {
                return Err(ServiceError::Corrupt(format!(
                    "folding the tenants failed: {error}"
                )));
            }
        };
        self.tenants += folded.tenants;
        self.replay.extend(folded.replay);
        Ok(())
    }
}

/// A snapshot as stored: the tenant's state and the catalog it was folded under
/// (its indices are only valid for that catalog).
#[derive(Serialize, Deserialize)]
pub(crate) struct SnapshotState {
    pub(crate) fingerprint: u64,
    pub(crate) tenant: Tenant,
}

/// The background follower: wakes on every new store revision and folds the
/// feed into the cache; ends when the service is dropped.
pub(super) async fn follow_feed(inner: std::sync::Weak<Inner>) {
    let mut watch = match inner.upgrade() {
        Some(inner) => inner.store.watch_revision(),
        None => return,
    };
    loop {
        {
            let Some(inner) = inner.upgrade() else {
                return;
            };
            let service = Service { inner };
            if let Err(error) = service.catch_up_feed().await {
                tracing::error!(%error, "following the revision feed failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        }
        if watch.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use clearance_core::Catalog;
    use clearance_core::workflow::{Command, SupportRole};
    use clearance_store::Store;

    use super::*;
    use crate::{Principal, ServiceOptions};

    /// A snapshot of `state` as the service saves one, under `fingerprint`.
    fn snapshot(fingerprint: u64, state: &Tenant) -> serde_json::Value {
        serde_json::to_value(SnapshotState {
            fingerprint,
            tenant: state.clone(),
        })
        .expect("a snapshot serializes")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn start_up_uses_good_snapshots_and_replays_the_log_past_the_others() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("c.db");
        let path = path.to_str().expect("a UTF-8 path");
        let catalog = Arc::new(Catalog::partner_center().clone());
        let fingerprint = catalog.fingerprint();
        let admin = Principal::Staff {
            id: "ada".into(),
            role: SupportRole::SupportAdmin,
        };
        let store = Store::open(path).await.expect("the store opens");
        let service = Service::open(store.clone(), catalog.clone(), ServiceOptions::default())
            .await
            .expect("the service opens");
        let tenants = ["good", "other-catalog", "unreadable", "no-snapshot"];
        for tenant in tenants {
            let create = Command::CreateTenant {
                country: "US".into(),
                admin: "alice".into(),
                roles: vec!["global_admin".into()],
            };
            service
                .execute(&admin, tenant, create, None)
                .await
                .expect("the tenant is created");
        }
        let logged = |tenant: &str| Tenant::clone(&service.cached(tenant).expect("cached"));
        // A snapshot that differs from the log shows whether start-up used it.
        let marked = |tenant: &str| Tenant {
            country: "ZZ".into(),
            ..logged(tenant)
        };
        store
            .save_snapshot("good", 1, snapshot(fingerprint, &marked("good")))
            .await
            .expect("saved");
        store
            .save_snapshot(
                "other-catalog",
                1,
                snapshot(fingerprint ^ 1, &marked("other-catalog")),
            )
            .await
            .expect("saved");
        store
            .save_snapshot("unreadable", 1, serde_json::json!({"not": "a tenant"}))
            .await
            .expect("saved");
        let expected: Vec<Tenant> = tenants.iter().map(|tenant| logged(tenant)).collect();
        drop(service);
        store.close().await;

        let store = Store::open(path).await.expect("the store reopens");
        let reopened = Service::open(store.clone(), catalog, ServiceOptions::default())
            .await
            .expect("the service reopens");
        assert_eq!(reopened.tenant_count(), tenants.len());
        assert_eq!(reopened.cached("good").expect("loaded").country, "ZZ");
        for (tenant, expected) in tenants.iter().zip(&expected).skip(1) {
            let loaded = reopened.cached(tenant).expect("loaded");
            assert_eq!(*loaded, *expected, "{tenant} is its log replayed");
        }
        store.close().await;
    }
}
