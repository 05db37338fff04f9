//! Sign-in sessions, their cookie, CSRF tokens and the limit on failed sign-ins.
//!
//! A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure
//! when the portal is served over TLS). The store keeps only the token's
//! SHA-256 in its token table, with the principal, the session's CSRF token
//! and its expiry, so every server over one PostgreSQL shares the sessions and
//! signing out on one ends the session on all; ended and expired sessions are
//! deleted by the sign-in housekeeping. Failed sign-ins are counted in the
//! store too, so the limit holds across servers. Session tokens carry their own
//! prefix (`cls_`) and record shape, so one can never pass as an API token.

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header;
use clearance_server::auth::token_hash;
use clearance_server::{Principal, Service, ServiceError};
use clearance_store::{Pruned, SignInLimits, SignInReservation, Store, StoreError};
use jiff::Timestamp;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::random;

/// The prefix of a portal session token.
const SESSION_PREFIX: &str = "cls_";

/// A signed-in session, as a request sees it.
#[derive(Clone, Debug)]
pub struct Session {
    /// SHA-256 of the session token (what the store keys it by).
    pub(crate) token_hash: String,
    /// The sign-in name.
    pub login: String,
    /// Who the session acts as.
    pub principal: Principal,
    /// The session's CSRF token, rendered into every form.
    pub csrf: String,
    /// The single sign-on that started the session, if one did.
    pub sso: Option<SsoSignIn>,
}

/// How a single sign-on session began: what signing out needs to end the
/// provider's session too (RP-initiated logout).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SsoSignIn {
    /// The configured issuer's name.
    pub issuer: String,
    /// The ID token, sent back as `id_token_hint`.
    pub id_token: String,
}

impl Session {
    /// Whether `submitted` is this session's CSRF token (constant-time).
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        same_secret(&self.csrf, submitted)
    }
}

/// Constant-time equality of two secrets (lengths are not secret).
pub(crate) fn same_secret(expected: &str, submitted: &str) -> bool {
    expected.len() == submitted.len() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

/// Starts a session for `principal` (begun by `sso`, if a single sign-on):
/// stores its hash and returns the token for the cookie along with the session.
pub(crate) async fn start(
    service: &Service,
    login: &str,
    principal: Principal,
    lifetime: Duration,
    sso: Option<SsoSignIn>,
) -> Result<(String, Session), ServiceError> {
    let token = random::token(SESSION_PREFIX);
    let csrf = random::token("");
    let expires_at = Timestamp::now()
        .checked_add(jiff::SignedDuration::try_from(lifetime).unwrap_or(jiff::SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX);
    let hash = token_hash(&token);
    let record = json!({
        "portal_session": {
            "login": login,
            "principal": principal,
            "csrf": csrf,
            "expires_at": expires_at.to_string(),
            "sso": sso,
        }
    });
    service
        .store()
        .put_expiring_token(&hash, record, expires_at)
        .await?;
    Ok((
        token,
        Session {
            token_hash: hash,
            login: login.to_owned(),
            principal,
            csrf,
            sso,
        },
    ))
}

/// The live session of `token`, if it is stored, not revoked, not expired and
/// really a portal session.
pub(crate) async fn find(service: &Service, token: &str) -> Result<Option<Session>, ServiceError> {
    if !token.starts_with(SESSION_PREFIX) {
        return Ok(None);
    }
    let hash = token_hash(token);
    let Some(record) = service.store().find_token(&hash).await? else {
        return Ok(None);
    };
    let Some(session) = record.get("portal_session") else {
        return Ok(None);
    };
    let expires_at = session
        .get("expires_at")
        .and_then(|at| at.as_str())
        .and_then(|at| at.parse::<Timestamp>().ok());
    let Some(expires_at) = expires_at else {
        return Ok(None);
    };
    if expires_at <= Timestamp::now() {
        // Expired: make it unusable for good, then answer as for no session.
        service.store().revoke_token(&hash).await?;
        return Ok(None);
    }
    let principal = session
        .get("principal")
        .cloned()
        .and_then(|principal| serde_json::from_value::<Principal>(principal).ok());
    let login = session.get("login").and_then(|login| login.as_str());
    let csrf = session.get("csrf").and_then(|csrf| csrf.as_str());
    let sso = session
        .get("sso")
        .cloned()
        .and_then(|sso| serde_json::from_value::<Option<SsoSignIn>>(sso).ok())
        .flatten();
    match (principal, login, csrf) {
        (Some(principal), Some(login), Some(csrf)) => Ok(Some(Session {
            token_hash: hash,
            login: login.to_owned(),
            principal,
            csrf: csrf.to_owned(),
            sso,
        })),
        _ => Ok(None),
    }
}

/// Ends `session` on every server.
pub(crate) async fn end(service: &Service, session: &Session) -> Result<(), ServiceError> {
    service.store().revoke_token(&session.token_hash).await?;
    Ok(())
}

/// The names and attributes of the portal's cookies.
#[derive(Clone, Debug)]
pub(crate) struct Cookies {
    /// Served over TLS: cookies get `Secure` and the `__Host-` prefix.
    pub secure: bool,
}

impl Cookies {
    /// The session cookie's name.
    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-clearance_session"
        } else {
            "clearance_session"
        }
    }

    /// The name of the cookie that protects the sign-in form (double submit).
    pub fn login_name(&self) -> &'static str {
        if self.secure {
            "__Host-clearance_login"
        } else {
            "clearance_login"
        }
    }

    /// The name of the cookie that binds a single sign-on to the browser that began it.
    pub fn sso_name(&self) -> &'static str {
        if self.secure {
            "__Host-clearance_sso"
        } else {
            "clearance_sso"
        }
    }

    /// A `Set-Cookie` value for `name=value` living `max_age`.
    pub fn set(&self, name: &str, value: &str, max_age: Duration) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
            max_age.as_secs()
        )
    }

    /// A `Set-Cookie` value that deletes `name`.
    pub fn clear(&self, name: &str) -> String {
        self.set(name, "", Duration::ZERO)
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Failed sign-ins per login, and per client address, in a sliding window:
/// past the limit, even the right password is refused until the oldest
/// counted failure leaves the window. Each attempt is counted before its
/// password is checked, and a success clears its login's count.
///
/// The failures are kept in the store, so every server over one database
/// counts the same failures and a restart forgets none. The limiter also does
/// the sign-in housekeeping: at most once per [`SignInLimiter::housekeeping_every`]
/// it deletes ended and expired sessions and failures older than the window.
#[derive(Debug)]
pub struct SignInLimiter {
    limit: usize,
    per_client: usize,
    window: Duration,
    housekeeping_every: Duration,
    /// When this process last did the housekeeping, in milliseconds since the epoch.
    last_housekeeping_ms: AtomicI64,
}

impl SignInLimiter {
    /// At most `limit` failures per login within `window`; housekeeping at
    /// most every `housekeeping_every`; no limit per client address until
    /// [`SignInLimiter::per_client`] sets one.
    pub fn new(limit: usize, window: Duration, housekeeping_every: Duration) -> Self {
        SignInLimiter {
            limit,
            per_client: 0,
            window,
            housekeeping_every,
            last_housekeeping_ms: AtomicI64::new(i64::MIN),
        }
    }

    /// Also at most `limit` failures per client address within the window (0:
    /// none), against one client trying one password on many logins.
    pub fn per_client(mut self, limit: usize) -> Self {
        self.per_client = limit;
        self
    }

    /// How often the housekeeping runs at most.
    pub fn housekeeping_every(&self) -> Duration {
        self.housekeeping_every
    }

    fn window_start(&self, now: Timestamp) -> Timestamp {
        now.checked_sub(signed(self.window))
            .unwrap_or(Timestamp::MIN)
    }

    /// Counts a sign-in attempt for `login` from `client` at `now` before its
    /// password is checked: `None` when it is counted (check the password),
    /// `Some(wait)` when the login or the client has used up its attempts
    /// (refuse without checking). Atomic in the store, so a parallel burst gets
    /// at most the limit checked.
    pub async fn reserve(
        &self,
        store: &Store,
        login: &str,
        client: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<Option<Duration>, StoreError> {
        let client = client.map(|address| address.to_string());
        let limits = SignInLimits {
            since: self.window_start(now),
            per_login: self.limit,
            per_client: self.per_client,
        };
        match store
            .reserve_sign_in_attempt(login, client.as_deref(), now, limits)
            .await?
        {
            SignInReservation::Reserved => Ok(None),
            SignInReservation::Refused { oldest, .. } => {
                let waited = now.duration_since(oldest).unsigned_abs();
                Ok(Some(self.window.saturating_sub(waited)))
            }
        }
    }

    /// Forgets `login`'s failures (after a successful sign-in).
    pub async fn clear(&self, store: &Store, login: &str) -> Result<(), StoreError> {
        store.clear_sign_in_failures(login).await
    }

    /// Deletes ended and expired sessions and failures older than the window,
    /// unless this process did so less than `housekeeping_every` ago. Returns
    /// what was deleted, `None` when it was not yet time.
    pub async fn housekeeping(
        &self,
        store: &Store,
        now: Timestamp,
    ) -> Result<Option<Pruned>, StoreError> {
        let now_ms = now.as_millisecond();
        let every_ms = i64::try_from(self.housekeeping_every.as_millis()).unwrap_or(i64::MAX);
        let last = self.last_housekeeping_ms.load(Ordering::Relaxed);
        if last != i64::MIN && now_ms.saturating_sub(last) < every_ms {
            return Ok(None);
        }
        // One caller per period does it; the others see the new time and skip.
        if self
            .last_housekeeping_ms
            .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return Ok(None);
        }
        let pruned = store.prune(now, self.window_start(now)).await?;
        if pruned != Pruned::default() {
            tracing::info!(
                sessions = pruned.tokens,
                sign_in_failures = pruned.sign_in_failures,
                "deleted expired sessions and old failed sign-ins"
            );
        }
        Ok(Some(pruned))
    }
}

fn signed(duration: Duration) -> jiff::SignedDuration {
    jiff::SignedDuration::try_from(duration).unwrap_or(jiff::SignedDuration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("clearance.db");
        let store = Store::open(path.to_str().expect("UTF-8"))
            .await
            .expect("the store opens");
        (dir, store)
    }

    fn minutes(n: i64) -> jiff::SignedDuration {
        jiff::SignedDuration::from_mins(n)
    }

    #[tokio::test]
    async fn the_limiter_refuses_after_the_limit_until_the_window_slides() {
        let (_dir, store) = store().await;
        let limiter = SignInLimiter::new(5, Duration::from_secs(15 * 60), Duration::ZERO);
        let start: Timestamp = "2026-11-25T10:00:00Z".parse().expect("a timestamp");
        let reserve = |at: Timestamp, login: &'static str| {
            let (limiter, store) = (&limiter, &store);
            async move { limiter.reserve(store, login, None, at).await.expect("read") }
        };
        for minute in 0..5 {
            assert_eq!(
                reserve(start + minutes(minute), "alice@contoso").await,
                None
            );
        }
        assert_eq!(
            reserve(start + minutes(5), "alice@contoso").await,
            Some(Duration::from_secs(10 * 60))
        );
        // Another login is not affected.
        assert_eq!(reserve(start + minutes(5), "bob@contoso").await, None);
        // Fifteen minutes after the first attempt, one slot is free again.
        assert_eq!(reserve(start + minutes(15), "alice@contoso").await, None);
        // A second limiter (another server) over the same store counts the same attempts.
        let other = SignInLimiter::new(5, Duration::from_secs(15 * 60), Duration::ZERO);
        assert!(
            other
                .reserve(&store, "alice@contoso", None, start + minutes(6))
                .await
                .expect("read")
                .is_some()
        );
    }

    #[tokio::test]
    async fn a_client_is_limited_across_logins() {
        let (_dir, store) = store().await;
        let limiter = SignInLimiter::new(5, Duration::from_secs(60), Duration::ZERO).per_client(3);
        let now = Timestamp::now();
        let client = Some(IpAddr::from([192, 0, 2, 7]));
        for login in ["a", "b", "c"] {
            assert_eq!(
                limiter
                    .reserve(&store, login, client, now)
                    .await
                    .expect("read"),
                None
            );
        }
        assert!(
            limiter
                .reserve(&store, "d", client, now)
                .await
                .expect("read")
                .is_some()
        );
        let elsewhere = Some(IpAddr::from([198, 51, 100, 1]));
        assert_eq!(
            limiter
                .reserve(&store, "d", elsewhere, now)
                .await
                .expect("read"),
            None
        );
    }

    #[tokio::test]
    async fn a_success_clears_the_failures() {
        let (_dir, store) = store().await;
        let limiter = SignInLimiter::new(2, Duration::from_secs(60), Duration::ZERO);
        let now = Timestamp::now();
        for _ in 0..2 {
            assert_eq!(
                limiter.reserve(&store, "a", None, now).await.expect("read"),
                None
            );
        }
        assert!(
            limiter
                .reserve(&store, "a", None, now)
                .await
                .expect("read")
                .is_some()
        );
        limiter.clear(&store, "a").await.expect("cleared");
        assert_eq!(
            limiter.reserve(&store, "a", None, now).await.expect("read"),
            None
        );
    }

    #[tokio::test]
    async fn housekeeping_runs_at_most_once_per_period() {
        let (_dir, store) = store().await;
        let limiter = SignInLimiter::new(5, Duration::from_secs(60), Duration::from_secs(300));
        let now = Timestamp::now();
        store
            .put_expiring_token("ended", json!({"portal_session": {}}), now - minutes(1))
            .await
            .expect("stored");
        assert_eq!(
            limiter.housekeeping(&store, now).await.expect("pruned"),
            Some(Pruned {
                tokens: 1,
                sign_in_failures: 0
            })
        );
        assert_eq!(
            limiter
                .housekeeping(&store, now + minutes(4))
                .await
                .expect("skipped"),
            None
        );
        assert!(
            limiter
                .housekeeping(&store, now + minutes(5))
                .await
                .expect("pruned")
                .is_some()
        );
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("abc", ""));
    }

    #[test]
    fn cookies_are_found_among_several() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; clearance_session=cls_x"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, "clearance_session"), Some("cls_x"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "clearance"), None);
    }

    #[test]
    fn secure_cookies_carry_secure_and_the_host_prefix() {
        let plain = Cookies { secure: false };
        let line = plain.set(plain.session_name(), "v", Duration::from_secs(60));
        assert_eq!(
            line,
            "clearance_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax"
        );
        let tls = Cookies { secure: true };
        let line = tls.set(tls.session_name(), "v", Duration::from_secs(60));
        assert_eq!(
            line,
            "__Host-clearance_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
    }
}
