//! Authentication: bearer tokens, their cached principals, issuing and revoking them.

use super::*;

impl Service {
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
}
