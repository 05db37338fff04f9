//! Sign-in accounts: argon2id password hashes kept in the store's password
//! table, checking a password, and the demo logins `clearance serve --demo`
//! prints.
//!
//! Hashing and verifying run on the blocking pool: argon2id is deliberately
//! slow (19 MiB, two passes) and must not stall the async workers. Checking a
//! sign-in's password needs a [`PasswordCheck`] from [`PasswordChecks`], which
//! hands out at most a fixed number at once: beyond it the sign-in is answered
//! 503 without hashing, so a flood of sign-ins cannot fill the blocking pool
//! with 19 MiB hashes.

use std::sync::{Arc, OnceLock};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use clearance_core::workflow::SupportRole;
use clearance_server::{Principal, Service, ServiceError};

use crate::random;

/// The shortest password an account may have.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A sign-in created for the demo: what to type on `/login`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoLogin {
    /// The sign-in name (`alice@contoso`, `agent@support`).
    pub login: String,
    /// The password, generated afresh each time the demo is seeded.
    pub password: String,
    /// Who this is, for the printed list (`contoso: tenant admin (primary contact)`).
    pub description: String,
}

/// The argon2id PHC hash of `password` with a fresh random salt.
pub async fn hash_password(password: &str) -> String {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).expect("the operating system's random source is available");
        let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2id with default parameters hashes any password")
            .to_string()
    })
    .await
    .expect("the hashing task does not panic")
}

/// The sign-in password checks that may run at once.
#[derive(Clone, Debug)]
pub struct PasswordChecks {
    slots: Arc<Semaphore>,
}

/// The right to run one password check; the slot frees when the check ends.
#[derive(Debug)]
pub struct PasswordCheck {
    _slot: OwnedSemaphorePermit,
}

impl PasswordChecks {
    /// At most `concurrent` checks at once.
    pub fn new(concurrent: usize) -> Self {
        PasswordChecks {
            slots: Arc::new(Semaphore::new(concurrent)),
        }
    }

    /// One check, unless `concurrent` are running: then `None` (answer "busy").
    pub fn try_start(&self) -> Option<PasswordCheck> {
        self.slots
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|slot| PasswordCheck { _slot: slot })
    }
}

/// As many concurrent password checks as the machine has cores.
pub fn default_password_checks() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// Whether `password` matches the PHC hash `phc` (a malformed hash never
/// matches); `check` is held until the hash is done, even if the caller gives up.
pub async fn verify_password(check: PasswordCheck, password: &str, phc: &str) -> bool {
    let password = password.to_owned();
    let phc = phc.to_owned();
    tokio::task::spawn_blocking(move || {
        let _check = check;
        PasswordHash::new(&phc).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    })
    .await
    .expect("the verifying task does not panic")
}

/// Spends the same work as a real check when the login does not exist, so the
/// answer's timing does not tell which logins exist.
pub(crate) async fn verify_against_nothing(check: PasswordCheck, password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = match DUMMY.get() {
        Some(phc) => phc.clone(),
        None => {
            let phc = hash_password("not the password of any account").await;
            DUMMY.get_or_init(|| phc).clone()
        }
    };
    let _ = verify_password(check, password, &phc).await;
}

/// Creates or replaces the sign-in `login` for `principal` with `password`.
///
/// A partner principal must name an existing user of an existing tenant; the
/// login is stored lower-case. Refused with `Invalid` naming `login` or
/// `password` when either is unusable.
pub async fn set_password(
    service: &Service,
    login: &str,
    principal: &Principal,
    password: &str,
) -> Result<(), ServiceError> {
    put_sign_in(service, login, principal, password, Credential::Lasting).await
}

/// The prefix of a one-time set-up link's token.
const SETUP_PREFIX: &str = "clsu_";

/// How long a set-up link stays usable.
pub const SETUP_LINK_DAYS: i64 = 7;

/// A one-time set-up link for a new user: the token to put in `/setup/{token}`
/// and the sign-in name it sets a password for.
#[derive(Clone, Debug)]
pub struct SetupLink {
    /// The secret token (only its SHA-256 is stored).
    pub token: String,
    /// The sign-in name the user will use (`frank@tailspin`).
    pub login: String,
}

/// Issues a one-time set-up link for `user` of `tenant`: whoever opens it
/// chooses the password of the sign-in `user@tenant`, once, within
/// [`SETUP_LINK_DAYS`] days. The store keeps only the token's hash.
pub async fn issue_setup_link(
    service: &Service,
    tenant: &str,
    user: &str,
) -> Result<SetupLink, ServiceError> {
    let token = random::token(SETUP_PREFIX);
    let login = normalize_login(&format!("{user}@{tenant}"));
    let expires_at = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(24 * SETUP_LINK_DAYS))
        .unwrap_or(jiff::Timestamp::MAX);
    let principal = Principal::Partner {
        tenant: tenant.to_owned(),
        user: user.to_owned(),
    };
    let record = serde_json::json!({
        "portal_setup": { "login": login, "principal": principal },
    });
    service
        .store()
        .put_expiring_token(
            &clearance_server::auth::token_hash(&token),
            record,
            expires_at,
        )
        .await?;
    Ok(SetupLink { token, login })
}

/// The sign-in name and principal a live set-up link is for; `None` for an
/// unknown, used or expired one.
pub async fn setup_link(
    service: &Service,
    token: &str,
) -> Result<Option<(String, Principal)>, ServiceError> {
    if !token.starts_with(SETUP_PREFIX) {
        return Ok(None);
    }
    let hash = clearance_server::auth::token_hash(token);
    let Some(record) = service.store().find_token(&hash).await? else {
        return Ok(None);
    };
    let Some(setup) = record.get("portal_setup") else {
        return Ok(None);
    };
    let login = setup.get("login").and_then(|login| login.as_str());
    let principal = setup
        .get("principal")
        .cloned()
        .and_then(|principal| serde_json::from_value::<Principal>(principal).ok());
    Ok(login
        .zip(principal)
        .map(|(login, principal)| (login.to_owned(), principal)))
}

/// Sets the password of the sign-in a live set-up link is for and ends the
/// link; returns the sign-in name. `NotFound` for a used or unknown link,
/// `Invalid` naming `password` for an unusable password (the link stays usable).
pub async fn redeem_setup_link(
    service: &Service,
    token: &str,
    password: &str,
) -> Result<String, ServiceError> {
    let Some((login, principal)) = setup_link(service, token).await? else {
        return Err(ServiceError::NotFound {
            what: "set-up link",
            id: "this one".to_owned(),
        });
    };
    put_sign_in(service, &login, &principal, password, Credential::Lasting).await?;
    service
        .store()
        .revoke_token(&clearance_server::auth::token_hash(token))
        .await?;
    Ok(login)
}

/// Whether a sign-in outlives the demo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Credential {
    /// Kept until replaced.
    Lasting,
    /// Marked as a demo credential: revoked when the data is served without the demo.
    Demo,
}

/// [`set_password`], storing the sign-in as `credential` says.
async fn put_sign_in(
    service: &Service,
    login: &str,
    principal: &Principal,
    password: &str,
    credential: Credential,
) -> Result<(), ServiceError> {
    let login = normalize_login(login);
    if login.is_empty() || login.len() > 128 || login.chars().any(char::is_whitespace) {
        return Err(ServiceError::Invalid {
            field: "login".to_owned(),
            message: "must be 1-128 characters without spaces".to_owned(),
        });
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ServiceError::Invalid {
            field: "password".to_owned(),
            message: format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        });
    }
    let tenant = match principal {
        Principal::Partner { tenant, user } => {
            let admin = seeding_staff();
            let state = service.tenant(&admin, tenant, None).await?;
            if state.user(user).is_none() {
                return Err(ServiceError::NotFound {
                    what: "user",
                    id: user.clone(),
                });
            }
            Some(tenant.as_str())
        }
        Principal::Staff { .. } => None,
    };
    let phc = hash_password(password).await;
    let value = serde_json::to_value(principal).expect("a principal serializes");
    let value = match credential {
        Credential::Lasting => value,
        Credential::Demo => clearance_store::demo_principal(value),
    };
    service
        .store()
        .put_password(&login, tenant, &phc, value)
        .await?;
    Ok(())
}

/// Gives every tenant's primary contact a sign-in (`user@tenant`), plus one
/// other user of the tenant where it has one, plus a support agent
/// (`agent@support`), each with a fresh random password; returns them to print.
/// They are stored as demo credentials: a start without `--demo` deletes them.
pub async fn seed_demo_logins(service: &Service) -> Result<Vec<DemoLogin>, ServiceError> {
    let admin = seeding_staff();
    let mut logins = Vec::new();
    for tenant in service.tenants(&admin)? {
        let users = service.users(&admin, &tenant.id, None).await?.users;
        let primary = users.iter().find(|user| user.primary_contact);
        let other = users.iter().find(|user| !user.primary_contact);
        for (user, what) in [(primary, "tenant admin (primary contact)"), (other, "user")] {
            let Some(user) = user else { continue };
            let login = format!("{}@{}", user.id, tenant.id);
            let password = random::password();
            let principal = Principal::Partner {
                tenant: tenant.id.clone(),
                user: user.id.clone(),
            };
            put_sign_in(service, &login, &principal, &password, Credential::Demo).await?;
            let roles = if user.roles.is_empty() {
                "no roles".to_owned()
            } else {
                user.roles.join(", ")
            };
            logins.push(DemoLogin {
                login,
                password,
                description: format!("{}: {what}; {roles}", tenant.id),
            });
        }
    }
    let password = random::password();
    let agent = Principal::Staff {
        id: "agent".to_owned(),
        role: SupportRole::SupportAgent,
    };
    put_sign_in(
        service,
        "agent@support",
        &agent,
        &password,
        Credential::Demo,
    )
    .await?;
    logins.push(DemoLogin {
        login: "agent@support".to_owned(),
        password,
        description: "operator: support agent (verification queue, cases)".to_owned(),
    });
    Ok(logins)
}

/// The login as stored and looked up: trimmed and lower-case.
pub(crate) fn normalize_login(login: &str) -> String {
    login.trim().to_lowercase()
}

/// The principal the portal reads tenants as while creating sign-ins.
pub(crate) fn seeding_staff() -> Principal {
    Principal::Staff {
        id: "portal".to_owned(),
        role: SupportRole::SupportAdmin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_only_against_its_own_hash() {
        let phc = hash_password("correct horse battery").await;
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        let checks = PasswordChecks::new(1);
        let check = || checks.try_start().expect("a free slot");
        assert!(verify_password(check(), "correct horse battery", &phc).await);
        assert!(!verify_password(check(), "correct horse batterY", &phc).await);
        assert!(!verify_password(check(), "correct horse battery", "not a hash").await);
    }

    #[test]
    fn at_most_the_given_number_of_checks_run_at_once() {
        let checks = PasswordChecks::new(2);
        let first = checks.try_start().expect("a slot");
        let _second = checks.try_start().expect("a slot");
        assert!(checks.try_start().is_none(), "a third waits for a slot");
        drop(first);
        assert!(
            checks.try_start().is_some(),
            "a finished check frees its slot"
        );
        assert!(PasswordChecks::new(0).try_start().is_none());
    }

    #[tokio::test]
    async fn the_same_password_hashes_differently_each_time() {
        let a = hash_password("the same password").await;
        let b = hash_password("the same password").await;
        assert_ne!(a, b);
    }

    #[test]
    fn logins_are_trimmed_and_lower_case() {
        assert_eq!(normalize_login("  Alice@Contoso "), "alice@contoso");
    }
}
