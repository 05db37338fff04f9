//! One OpenID Provider as clearance talks to it: discovery (cached), the
//! authorization request (code flow with PKCE, state and nonce), the code
//! exchange and the ID token's checks (signature, issuer, audience, expiry,
//! nonce), with the provider's keys fetched again when a token is signed by a
//! key not yet known (rotation), and the RP-initiated logout URL.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AsyncHttpClient, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EmptyAdditionalClaims, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IdToken, IssuerUrl, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope,
    SignatureVerificationError,
};
use serde_json::{Map, Value};
use tokio::sync::RwLock;

use super::config::IssuerConfig;
use super::refusal::Refusal;

/// The client clearance is at one provider, with the endpoints discovery gives.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// An ID token as the core types read it.
type CoreIdToken = IdToken<
    EmptyAdditionalClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// How long discovered metadata is trusted before it is read again.
const METADATA_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// The shortest time between two key fetches caused by unknown keys.
const KEY_REFETCH_PAUSE: Duration = Duration::from_secs(10);

/// What the browser is sent to, and what must be kept to finish the sign-in.
pub struct Authorization {
    /// The provider's authorization URL.
    pub url: url::Url,
    /// The `state` sent (kept to find the sign-in again).
    pub state: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier for the code exchange.
    pub pkce_verifier: String,
}

/// A signed-in identity: the verified claims and the raw ID token (for logout).
pub struct Verified {
    /// Every claim of the verified ID token.
    pub claims: Map<String, Value>,
    /// The ID token as received, the hint for RP-initiated logout.
    pub id_token: String,
}

struct Discovered {
    metadata: ProviderMetadataWithLogout,
    at: Instant,
    /// When an unknown key last made clearance fetch the keys again.
    refetched_at: Option<Instant>,
}

/// One configured issuer and what clearance learnt of it.
pub struct Provider {
    /// The issuer's configuration.
    pub config: IssuerConfig,
    redirect_url: RedirectUrl,
    post_logout_url: PostLogoutRedirectUrl,
    http: Http,
    discovered: RwLock<Option<Discovered>>,
}

/// An HTTP exchange with the provider that failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// The HTTP client the OpenID library calls: reqwest (rustls), no redirects.
struct Http(reqwest::Client);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|error| HttpError(error.to_string()))?;
            let mut answer = HttpResponse::new(Vec::new());
            *answer.status_mut() = response.status();
            *answer.headers_mut() = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|error| HttpError(error.to_string()))?;
            *answer.body_mut() = body.to_vec();
            Ok(answer)
        })
    }
}

impl Provider {
    /// The provider for `config`, calling back to `{base}/login/oidc/{name}/callback`
    /// (`base` is checked by [`super::SsoOptions::new`]).
    pub fn new(config: IssuerConfig, base: &str) -> Self {
        let redirect_url = RedirectUrl::from_url(
            url::Url::parse(&format!("{base}/login/oidc/{}/callback", config.name))
                .expect("SsoOptions::new checked the base, and issuer names are URL-safe"),
        );
        let post_logout_url = PostLogoutRedirectUrl::from_url(
            url::Url::parse(&format!("{base}/login")).expect("SsoOptions::new checked the base"),
        );
        let http = reqwest::Client::builder()
            // Following redirects would let a provider's answer point clearance elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("the HTTP client builds (rustls with the platform's roots)");
        let http = Http(http);
        Provider {
            config,
            redirect_url,
            post_logout_url,
            http,
            discovered: RwLock::new(None),
        }
    }

    /// The provider's metadata, discovered at first use and again once stale.
    async fn metadata(&self) -> Result<ProviderMetadataWithLogout, Refusal> {
        if let Some(discovered) = self.discovered.read().await.as_ref()
            && discovered.at.elapsed() < METADATA_LIFETIME
        {
            return Ok(discovered.metadata.clone());
        }
        let issuer = IssuerUrl::new(self.config.url.clone()).map_err(|error| {
            tracing::error!(issuer = %self.config.name, %error, "the issuer URL is unusable");
            Refusal::ProviderUnavailable
        })?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|error| {
                tracing::error!(issuer = %self.config.name, error = %error_chain(&error), "OpenID discovery failed");
                Refusal::ProviderUnavailable
            })?;
        *self.discovered.write().await = Some(Discovered {
            metadata: metadata.clone(),
            at: Instant::now(),
            refetched_at: None,
        });
        Ok(metadata)
    }

    /// Fetches the provider's keys again (a token named a key not yet known),
    /// at most once per [`KEY_REFETCH_PAUSE`], so tokens naming made-up keys
    /// cannot make clearance hammer the provider; whether new keys were read.
    async fn refetch_keys(&self) -> bool {
        let mut discovered = self.discovered.write().await;
        let Some(discovered) = discovered.as_mut() else {
            return false;
        };
        if discovered
            .refetched_at
            .is_some_and(|at| at.elapsed() < KEY_REFETCH_PAUSE)
        {
            return false;
        }
        match CoreJsonWebKeySet::fetch_async(discovered.metadata.jwks_uri(), &self.http).await {
            Ok(keys) => {
                discovered.metadata = discovered.metadata.clone().set_jwks(keys);
                discovered.refetched_at = Some(Instant::now());
                tracing::info!(issuer = %self.config.name, "fetched the issuer's keys again (a token named an unknown key)");
                true
            }
            Err(error) => {
                tracing::error!(issuer = %self.config.name, error = %error_chain(&error), "fetching the issuer's keys failed");
                false
            }
        }
    }

    fn client(&self, metadata: ProviderMetadataWithLogout) -> Client {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(self.redirect_url.clone())
    }

    /// A new authorization request: fresh state, nonce and PKCE (S256) verifier.
    pub async fn authorize(&self) -> Result<Authorization, Refusal> {
        let client = self.client(self.metadata().await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(Authorization {
            url,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` (with the PKCE verifier) and checks the ID token against
    /// `nonce`: signature, issuer, audience, expiry.
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Verified, Refusal> {
        let client = self.client(self.metadata().await?);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|error| {
                tracing::error!(issuer = %self.config.name, %error, "the issuer has no token endpoint");
                Refusal::ProviderUnavailable
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|error| {
                tracing::warn!(issuer = %self.config.name, error = %error_chain(&error), "the code exchange failed");
                Refusal::InvalidToken {
                    reason: "the sign-in service refused to exchange the code".to_owned(),
                }
            })?;
        let id_token =
            response
                .extra_fields()
                .id_token()
                .cloned()
                .ok_or_else(|| Refusal::InvalidToken {
                    reason: "the answer carries no ID token".to_owned(),
                })?;
        let nonce = Nonce::new(nonce.to_owned());
        match verify(&client, &id_token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) if self.refetch_keys().await => {
                let client = self.client(self.metadata().await?);
                verify(&client, &id_token, &nonce).map_err(refusal)?;
            }
            other => other.map_err(refusal)?,
        }
        let raw = id_token.to_string();
        Ok(Verified {
            claims: payload(&raw).ok_or_else(|| Refusal::InvalidToken {
                reason: "its claims are not a JSON object".to_owned(),
            })?,
            id_token: raw,
        })
    }

    /// Where to send the browser to end the provider's session too
    /// (RP-initiated logout), if the provider has an `end_session_endpoint`.
    pub async fn logout_url(&self, id_token: &str) -> Option<url::Url> {
        let metadata = self.metadata().await.ok()?;
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(ClientId::new(self.config.client_id.clone()))
            .set_post_logout_redirect_uri(self.post_logout_url.clone());
        if let Ok(token) = id_token.parse::<CoreIdToken>() {
            request = request.set_id_token_hint(&token);
        }
        Some(request.http_get_url())
    }
}

fn verify(
    client: &Client,
    id_token: &CoreIdToken,
    nonce: &Nonce,
) -> Result<(), ClaimsVerificationError> {
    id_token
        .claims(&client.id_token_verifier(), nonce)
        .map(|_| ())
}

fn refusal(error: ClaimsVerificationError) -> Refusal {
    match error {
        ClaimsVerificationError::Expired(_) => Refusal::Expired,
        ClaimsVerificationError::InvalidAudience(_) => Refusal::WrongAudience,
        other => Refusal::InvalidToken {
            reason: other.to_string(),
        },
    }
}

/// The claims of a compact JWS whose signature was verified.
fn payload(jws: &str) -> Option<Map<String, Value>> {
    use base64::Engine;
    let part = jws.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

/// An error with its sources, for the log.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
