//! Writes: documents, and commands run through the core's workflow with the version read
//! (optimistic appends, turns per tenant, idempotency), appeals.

use super::*;

impl Service {
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
    pub(super) async fn run(
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
}
