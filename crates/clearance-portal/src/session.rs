//! Sign-in sessions, their cookie, CSRF tokens and the limit on failed sign-ins.
//!
//! A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure
//! when the portal is served over TLS). The store keeps only the token's
//! SHA-256 in its token table, with the principal, the session's CSRF token
//! and its expiry, so every server over one PostgreSQL shares the sessions and
//! signing out on one ends the session on all. Session tokens carry their own
//! prefix (`cls_`) and record shape, so one can never pass as an API token.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header;
use clearance_server::auth::token_hash;
use clearance_server::{Principal, Service, ServiceError};
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

/// Starts a session for `principal`: stores its hash and returns the token
/// for the cookie along with the session.
pub(crate) async fn start(
    service: &Service,
    login: &str,
    principal: Principal,
    lifetime: Duration,
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
        }
    });
    service.store().put_token(&hash, record).await?;
    Ok((
        token,
        Session {
            token_hash: hash,
            login: login.to_owned(),
            principal,
            csrf,
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
    match (principal, login, csrf) {
        (Some(principal), Some(login), Some(csrf)) => Ok(Some(Session {
            token_hash: hash,
            login: login.to_owned(),
            principal,
            csrf: csrf.to_owned(),
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

/// Failed sign-ins per login in a sliding window: past the limit, even the
/// right password is refused until the oldest failure leaves the window.
///
/// Kept in memory per process (a restart forgets it; several servers each
/// count their own), bounded in size: the oldest entries go first.
#[derive(Debug)]
pub struct SignInLimiter {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// How many logins the limiter tracks at most before forgetting stale ones.
const TRACKED_LOGINS: usize = 100_000;

impl SignInLimiter {
    /// At most `limit` failures per login within `window`.
    pub fn new(limit: usize, window: Duration) -> Self {
        SignInLimiter {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(wait)` when `login` has used up its failures at `now`.
    pub fn blocked(&self, login: &str, now: Instant) -> Option<Duration> {
        let mut failures = self.failures.lock().expect("limiter lock is not poisoned");
        let entry = failures.get_mut(login)?;
        self.expire(entry, now);
        if entry.len() < self.limit {
            return None;
        }
        let oldest = *entry.front()?;
        Some(
            self.window
                .saturating_sub(now.saturating_duration_since(oldest)),
        )
    }

    /// Counts one failed sign-in for `login` at `now`.
    pub fn record_failure(&self, login: &str, now: Instant) {
        let mut failures = self.failures.lock().expect("limiter lock is not poisoned");
        if failures.len() >= TRACKED_LOGINS && !failures.contains_key(login) {
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|last| now.saturating_duration_since(*last) < self.window)
            });
        }
        let entry = failures.entry(login.to_owned()).or_default();
        self.expire(entry, now);
        entry.push_back(now);
        while entry.len() > self.limit {
            entry.pop_front();
        }
    }

    /// Forgets `login`'s failures (after a successful sign-in).
    pub fn clear(&self, login: &str) {
        self.failures
            .lock()
            .expect("limiter lock is not poisoned")
            .remove(login);
    }

    fn expire(&self, entry: &mut VecDeque<Instant>, now: Instant) {
        while entry
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= self.window)
        {
            entry.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_limiter_blocks_after_the_limit_until_the_window_slides() {
        let limiter = SignInLimiter::new(5, Duration::from_secs(15 * 60));
        let start = Instant::now();
        for minute in 0..4 {
            limiter.record_failure("alice@contoso", start + Duration::from_secs(minute * 60));
        }
        assert_eq!(
            limiter.blocked("alice@contoso", start + Duration::from_secs(240)),
            None
        );
        limiter.record_failure("alice@contoso", start + Duration::from_secs(300));
        assert_eq!(
            limiter.blocked("alice@contoso", start + Duration::from_secs(300)),
            Some(Duration::from_secs(15 * 60 - 300))
        );
        // Another login is not affected.
        assert_eq!(
            limiter.blocked("bob@contoso", start + Duration::from_secs(300)),
            None
        );
        // Fifteen minutes after the first failure, one slot is free again.
        assert_eq!(
            limiter.blocked("alice@contoso", start + Duration::from_secs(15 * 60)),
            None
        );
    }

    #[test]
    fn a_success_clears_the_failures() {
        let limiter = SignInLimiter::new(2, Duration::from_secs(60));
        let now = Instant::now();
        limiter.record_failure("a", now);
        limiter.record_failure("a", now);
        assert!(limiter.blocked("a", now).is_some());
        limiter.clear("a");
        assert_eq!(limiter.blocked("a", now), None);
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
