//! Single sign-on with OpenID Connect: partners and support staff sign in
//! through their organisation's identity provider (authorization code flow
//! with PKCE), and get the same server-side session a password sign-in gets.
//!
//! `GET /login/oidc/{issuer}` keeps the sign-in's state, nonce and PKCE
//! verifier in the store (as an expiring record keyed by the state's hash,
//! bound to this browser by a random cookie whose hash it also keeps, so any
//! server can finish it and no one else's browser can) and sends the browser
//! to the provider. `GET /login/oidc/{issuer}/callback` takes that record once,
//! exchanges the code, checks the ID token (signature, issuer, audience,
//! expiry, nonce), maps its claims to a clearance principal ([`identity`]),
//! and starts a session. Every refusal is a page saying why ([`Refusal`]),
//! and nothing is created on any. Signing out of such a session also ends the
//! provider's session (RP-initiated logout) when the provider offers it.

pub mod config;
mod identity;
mod provider;
mod refusal;

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use clearance_core::workflow::Command;
use clearance_server::auth::token_hash;
use clearance_server::{Principal, Service, ServiceError};
use jiff::Timestamp;
use serde_json::json;

pub use config::{ConfigError, IssuerConfig, OidcConfig};
pub use refusal::Refusal;

use crate::Portal;
use crate::accounts::seeding_staff;
use crate::layout::{self, Nav};
use crate::random;
use crate::session::{self, SsoSignIn};
use identity::Claimed;
use provider::Provider;

/// How long a started sign-in may take at the provider.
const PENDING_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The single sign-on configuration a portal runs with: made by
/// [`SsoOptions::new`], which checks the callback URLs can be made.
#[derive(Clone, Debug)]
pub struct SsoOptions {
    config: OidcConfig,
    redirect_base: String,
}

impl SsoOptions {
    /// The issuers of `config`, for a portal reached at `redirect_base`
    /// (callbacks are `{base}/login/oidc/{issuer}/callback`, and the provider
    /// sends people back to `{base}/login` after signing out). Refused,
    /// naming the base, when it is not an absolute http(s) URL.
    pub fn new(config: OidcConfig, redirect_base: &str) -> Result<Self, String> {
        let redirect_base = redirect_base.trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&redirect_base)
            .map_err(|error| format!("the portal's URL `{redirect_base}`: {error}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "the portal's URL `{redirect_base}` must be an http(s) URL with a host"
            ));
        }
        Ok(SsoOptions {
            config,
            redirect_base,
        })
    }

    /// Each issuer's name and the redirect URI to register at it.
    pub fn redirect_uris(&self) -> Vec<(String, String)> {
        self.config
            .issuers
            .iter()
            .map(|issuer| {
                (
                    issuer.name.clone(),
                    format!("{}/login/oidc/{}/callback", self.redirect_base, issuer.name),
                )
            })
            .collect()
    }
}

/// The configured providers.
pub(crate) struct Sso {
    providers: Vec<Provider>,
}

impl Sso {
    /// The providers of `options` (none without single sign-on).
    pub fn new(options: Option<&SsoOptions>) -> Self {
        let providers = match options {
            None => Vec::new(),
            Some(options) => options
                .config
                .issuers
                .iter()
                .map(|issuer| Provider::new(issuer.clone(), &options.redirect_base))
                .collect(),
        };
        Sso { providers }
    }

    fn provider(&self, name: &str) -> Option<&Provider> {
        self.providers
            .iter()
            .find(|provider| provider.config.name == name)
    }

    /// Each issuer's name and button label, for the sign-in page.
    pub fn buttons(&self) -> impl Iterator<Item = (&str, &str)> {
        self.providers.iter().map(|provider| {
            (
                provider.config.name.as_str(),
                provider.config.label.as_str(),
            )
        })
    }

    /// Where to send the browser after `sign_in`'s session ended, with the
    /// issuer's label: the provider's end-session URL, when it has one.
    pub async fn logout_url(&self, sign_in: &SsoSignIn) -> Option<(String, String)> {
        let provider = self.provider(&sign_in.issuer)?;
        let url = provider.logout_url(&sign_in.id_token).await?;
        Some((provider.config.name.clone(), String::from(url)))
    }
}

/// Query of `GET /login/oidc/{issuer}`.
#[derive(serde::Deserialize)]
pub(crate) struct StartQuery {
    next: Option<String>,
}

/// `GET /login/oidc/{issuer}`: starts a sign-in at the issuer.
pub(crate) async fn start(
    State(portal): State<Portal>,
    Path(issuer): Path<String>,
    Query(query): Query<StartQuery>,
) -> Response {
    let Some(provider) = portal.sso.provider(&issuer) else {
        return layout::not_found(&Nav::Anonymous);
    };
    let authorization = match provider.authorize().await {
        Ok(authorization) => authorization,
        Err(refusal) => return refusal.respond(),
    };
    let browser = random::token("");
    let expires_at = Timestamp::now()
        .checked_add(jiff::SignedDuration::try_from(PENDING_LIFETIME).unwrap_or_default())
        .unwrap_or(Timestamp::MAX);
    let record = json!({
        "oidc_pending": {
            "issuer": issuer,
            "nonce": authorization.nonce,
            "pkce_verifier": authorization.pkce_verifier,
            "browser": token_hash(&browser),
            "next": query.next.filter(|next| crate::signin::safe_next(next)),
            "expires_at": expires_at.to_string(),
        }
    });
    if let Err(error) = portal
        .service
        .store()
        .put_expiring_token(&state_key(&authorization.state), record, expires_at)
        .await
    {
        tracing::error!(%error, "keeping a single sign-on's state failed");
        return Refusal::ProviderUnavailable.respond();
    }
    let cookies = portal.cookies();
    let mut headers = HeaderMap::new();
    if let Ok(value) =
        HeaderValue::from_str(&cookies.set(cookies.sso_name(), &browser, PENDING_LIFETIME))
    {
        headers.append(header::SET_COOKIE, value);
    }
    (headers, Redirect::to(authorization.url.as_str())).into_response()
}

/// Query of the callback: a code and the state, or an error.
#[derive(serde::Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /login/oidc/{issuer}/callback`: finishes the sign-in.
pub(crate) async fn callback(
    State(portal): State<Portal>,
    Path(issuer): Path<String>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(provider) = portal.sso.provider(&issuer) else {
        return layout::not_found(&Nav::Anonymous);
    };
    let cookies = portal.cookies();
    let browser = session::cookie(&headers, cookies.sso_name()).unwrap_or_default();
    let outcome = finish(&portal, provider, &query, browser).await;
    let mut response = match outcome {
        Ok((token, principal, next)) => {
            let target = next
                .filter(|next| crate::signin::next_fits(next, &principal))
                .unwrap_or_else(|| crate::signin::start_page(Some(&principal)));
            let mut response = Redirect::to(&target).into_response();
            let lifetime = portal.options.session_lifetime;
            if let Ok(value) =
                HeaderValue::from_str(&cookies.set(cookies.session_name(), &token, lifetime))
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(refusal) => {
            tracing::info!(issuer = %issuer, ?refusal, "single sign-on refused");
            refusal.respond()
        }
    };
    if let Ok(value) = HeaderValue::from_str(&cookies.clear(cookies.sso_name())) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The pending sign-in `state` names, taken once.
struct Pending {
    nonce: String,
    pkce_verifier: String,
    next: Option<String>,
}

async fn take_pending(
    service: &Service,
    issuer: &str,
    state: &str,
    browser: &str,
) -> Result<Pending, Refusal> {
    let key = state_key(state);
    let record = service.store().find_token(&key).await.map_err(|error| {
        tracing::error!(%error, "reading a single sign-on's state failed");
        Refusal::ProviderUnavailable
    })?;
    let pending = record
        .as_ref()
        .and_then(|record| record.get("oidc_pending"))
        .ok_or(Refusal::TamperedState)?;
    let text = |field: &str| pending.get(field).and_then(|value| value.as_str());
    let fresh = text("expires_at")
        .and_then(|at| at.parse::<Timestamp>().ok())
        .is_some_and(|at| at > Timestamp::now());
    let same_browser = text("browser").is_some_and(|hash| {
        !browser.is_empty() && session::same_secret(hash, &token_hash(browser))
    });
    if text("issuer") != Some(issuer) || !same_browser || !fresh {
        return Err(Refusal::TamperedState);
    }
    // Once: a replayed callback finds it revoked.
    service.store().revoke_token(&key).await.map_err(|error| {
        tracing::error!(%error, "ending a single sign-on's state failed");
        Refusal::ProviderUnavailable
    })?;
    match (text("nonce"), text("pkce_verifier")) {
        (Some(nonce), Some(verifier)) => Ok(Pending {
            nonce: nonce.to_owned(),
            pkce_verifier: verifier.to_owned(),
            next: text("next").map(str::to_owned),
        }),
        _ => Err(Refusal::TamperedState),
    }
}

async fn finish(
    portal: &Portal,
    provider: &Provider,
    query: &CallbackQuery,
    browser: &str,
) -> Result<(String, Principal, Option<String>), Refusal> {
    let state = query.state.as_deref().ok_or(Refusal::TamperedState)?;
    let pending = take_pending(&portal.service, &provider.config.name, state, browser).await?;
    if let Some(code) = &query.error {
        return Err(Refusal::ProviderError {
            code: code.chars().take(64).collect(),
        });
    }
    let code = query.code.as_deref().ok_or(Refusal::ProviderError {
        code: "no code".to_owned(),
    })?;
    let verified = provider
        .finish(code, &pending.pkce_verifier, &pending.nonce)
        .await?;
    let claimed = identity::claimed(&provider.config, &verified.claims)?;
    let (login, principal) = principal(&portal.service, &provider.config, claimed).await?;
    let sign_in = SsoSignIn {
        issuer: provider.config.name.clone(),
        id_token: verified.id_token,
    };
    let (token, _) = session::start(
        &portal.service,
        &login,
        principal.clone(),
        portal.options.session_lifetime,
        Some(sign_in),
    )
    .await
    .map_err(|error| {
        tracing::error!(%error, "starting a session failed");
        Refusal::ProviderUnavailable
    })?;
    Ok((token, principal, pending.next))
}

/// The principal `claimed` names, with the login shown in the page header;
/// a new user is added only by just-in-time linking the issuer allows.
async fn principal(
    service: &Service,
    issuer: &IssuerConfig,
    claimed: Claimed,
) -> Result<(String, Principal), Refusal> {
    match claimed {
        Claimed::Staff { id, role } => Ok((
            format!("{id}@{}", issuer.name),
            Principal::Staff { id, role },
        )),
        Claimed::Partner {
            tenant,
            user,
            email,
            roles,
        } => {
            let reader = seeding_staff();
            let state = match service.tenant(&reader, &tenant, None).await {
                Ok(state) => state,
                Err(ServiceError::NotFound { .. }) => {
                    return Err(Refusal::UnknownTenant { named: tenant });
                }
                Err(error) => {
                    tracing::error!(%error, "reading a tenant for single sign-on failed");
                    return Err(Refusal::ProviderUnavailable);
                }
            };
            let login = format!("{user}@{tenant}");
            let principal = Principal::Partner {
                tenant: tenant.clone(),
                user: user.clone(),
            };
            if state.user(&user).is_some() {
                return Ok((login, principal));
            }
            if !identity::may_link(issuer, &tenant, email.as_deref()) {
                return Err(Refusal::UnlinkedUser { tenant, user });
            }
            let linker = Principal::Staff {
                id: format!("sso:{}", issuer.name),
                role: clearance_core::workflow::SupportRole::SupportAdmin,
            };
            match service
                .execute(&linker, &tenant, Command::AddUser { user, roles }, None)
                .await
            {
                Ok(_) => Ok((login, principal)),
                Err(error) => Err(Refusal::LinkRefused {
                    message: error.to_string(),
                }),
            }
        }
    }
}

/// The store key of a pending sign-in: its state's hash, in a namespace of its own.
fn state_key(state: &str) -> String {
    token_hash(&format!("oidc-state:{state}"))
}
