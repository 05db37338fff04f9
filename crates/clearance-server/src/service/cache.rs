//! The decision cache: every tenant's state in memory, sharded; loaded at
//! start-up from snapshots and the events after them, and kept exact by folding
//! this process's own writes at once and the store's global revision feed (other
//! processes' writes) in the background.

use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clearance_core::Tenant;
use clearance_core::workflow::Event;
use clearance_store::StoredEvent;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Inner, SHARDS, Service, ServiceError, Shard};

impl Service {
    pub(super) fn shard(&self, tenant: &str) -> &Shard {
        let index = self.inner.hasher.hash_one(tenant) as usize % SHARDS;
        &self.inner.shards[index]
    }

    pub(super) fn cached(&self, tenant: &str) -> Option<Arc<Tenant>> {
        self.shard(tenant)
            .read()
            .expect("cache lock is not poisoned")
            .get(tenant)
            .cloned()
    }

    pub(super) fn all_tenants(&self) -> Vec<Arc<Tenant>> {
        self.inner
            .shards
            .iter()
            .flat_map(|shard| {
                shard
                    .read()
                    .expect("cache lock is not poisoned")
                    .values()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect()
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
        let current = shard.get(tenant).map(|state| state.version).unwrap_or(0);
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
        shard.insert(tenant.to_owned(), Arc::new(state));
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
        let current = shard.get(&event.tenant);
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
        let domain: Event = serde_json::from_value(event.payload.clone()).map_err(|error| {
            ServiceError::Corrupt(format!(
                "event {} of `{}`: {error}",
                event.seq, event.tenant
            ))
        })?;
        let mut state = current
            .map(|state| Tenant::clone(state))
            .unwrap_or_else(|| Tenant::new(event.tenant.clone(), ""));
        state
            .apply(self.catalog(), &domain, event.recorded_at)
            .map_err(|error| {
                ServiceError::Corrupt(format!(
                    "event {} of `{}`: {error}",
                    event.seq, event.tenant
                ))
            })?;
        shard.insert(event.tenant.clone(), Arc::new(state));
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

    /// Start-up: every tenant's snapshot and the events after it.
    pub(super) async fn load(&self) -> Result<(), ServiceError> {
        let started = Instant::now();
        let mut loader = self.inner.store.load_all().await?;
        let revision = loader.revision();
        let fingerprint = self.catalog().fingerprint();
        let mut count = 0usize;
        while let Some(history) = loader.next().await? {
            let (mut state, events) = match history.snapshot {
                // Every event from the first.
                None => (Tenant::new(history.tenant.clone(), ""), history.events),
                Some(snapshot) => {
                    let usable = serde_json::from_value::<SnapshotState>(snapshot.state)
                        .ok()
                        .filter(|state| {
                            state.fingerprint == fingerprint
                                && state.tenant.version == snapshot.version
                        });
                    match usable {
                        Some(usable) => (usable.tenant, history.events),
                        // Taken under another catalog (its indices differ): replay all.
                        None => (
                            Tenant::new(history.tenant.clone(), ""),
                            self.all_events(&history.tenant).await?,
                        ),
                    }
                }
            };
            for event in &events {
                if event.seq != state.version + 1 {
                    continue;
                }
                let domain: Event =
                    serde_json::from_value(event.payload.clone()).map_err(|error| {
                        ServiceError::Corrupt(format!(
                            "event {} of `{}`: {error}",
                            event.seq, event.tenant
                        ))
                    })?;
                state
                    .apply(self.catalog(), &domain, event.recorded_at)
                    .map_err(|error| {
                        ServiceError::Corrupt(format!(
                            "event {} of `{}`: {error}",
                            event.seq, event.tenant
                        ))
                    })?;
            }
            self.shard(&history.tenant)
                .write()
                .expect("cache lock is not poisoned")
                .insert(history.tenant, Arc::new(state));
            count += 1;
        }
        self.inner.applied.send_replace(revision);
        tracing::info!(
            tenants = count,
            revision,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "decision cache loaded"
        );
        Ok(())
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

/// A snapshot as stored: the tenant's state and the catalog it was folded under
/// (its indices are only valid for that catalog).
#[derive(Serialize, Deserialize)]
pub(super) struct SnapshotState {
    fingerprint: u64,
    tenant: Tenant,
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
