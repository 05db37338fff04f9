//! The single sign-on configuration: the OpenID Connect issuers people sign
//! in through and how their claims name a clearance tenant and user, read
//! from a small TOML file (`clearance serve --oidc-config FILE`) and checked
//! whole at start, failing closed: an error names the issuer and the field.

use std::collections::BTreeMap;

use clearance_core::Catalog;
use clearance_core::workflow::SupportRole;
use serde::Deserialize;

/// Every issuer, as configured.
#[derive(Clone, Debug, Default)]
pub struct OidcConfig {
    /// The issuers, in file order; their names are unique.
    pub issuers: Vec<IssuerConfig>,
}

/// Who signs in through an issuer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Users of partner tenants (staff too when a staff group says so).
    Partner,
    /// The operator's support staff only.
    Staff,
}

/// Which claim names the clearance user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserClaim {
    /// The issuer's stable subject identifier.
    Subject,
    /// The e-mail address (lower-case), only when `email_verified` is not false.
    Email,
}

/// One OpenID Connect issuer.
#[derive(Clone, Debug)]
pub struct IssuerConfig {
    /// Short name in the portal's URLs (`/login/oidc/{name}`).
    pub name: String,
    /// The button's words on the sign-in page.
    pub label: String,
    /// The issuer URL (discovery reads `{url}/.well-known/openid-configuration`).
    pub url: String,
    /// The client id registered at the issuer.
    pub client_id: String,
    /// The client secret; `None` for a public client (PKCE alone).
    pub client_secret: Option<String>,
    /// Partner users or support staff.
    pub audience: Audience,
    /// The claim that names the user.
    pub user_claim: UserClaim,
    /// A claim that holds the clearance tenant id, if the issuer sends one.
    pub tenant_claim: Option<String>,
    /// E-mail domain (lower-case) → tenant id, used when there is no tenant claim.
    pub tenant_email_domains: BTreeMap<String, String>,
    /// The claim holding the user's groups.
    pub groups_claim: String,
    /// Group → support role: a member signs in as staff (on a partner issuer too).
    pub staff_groups: BTreeMap<String, SupportRole>,
    /// Group → catalog role ids granted to a user created by just-in-time linking.
    pub role_groups: BTreeMap<String, Vec<String>>,
    /// Just-in-time linking: tenant id → the e-mail domains (lower-case) whose
    /// users are added to that tenant at their first sign-in. Empty: off.
    pub jit: BTreeMap<String, Vec<String>>,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
}

/// A configuration that cannot be used, naming the issuer and the field.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid TOML or has an unknown or mistyped field.
    #[error("{file}: {message}")]
    Syntax {
        /// The file read.
        file: String,
        /// The parser's message (it names the line and the field).
        message: String,
    },
    /// A field's value is unusable.
    #[error("{file}: issuer `{issuer}`, field `{field}`: {message}")]
    Field {
        /// The file read.
        file: String,
        /// The issuer's name (or its position when it has none).
        issuer: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    issuer: Vec<IssuerFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerFile {
    name: String,
    label: Option<String>,
    url: String,
    client_id: String,
    client_secret: Option<String>,
    client_secret_env: Option<String>,
    audience: Audience,
    #[serde(default = "default_user_claim")]
    user_claim: String,
    tenant_claim: Option<String>,
    #[serde(default)]
    tenant_email_domains: BTreeMap<String, String>,
    #[serde(default = "default_groups_claim")]
    groups_claim: String,
    #[serde(default)]
    staff_groups: BTreeMap<String, SupportRole>,
    #[serde(default)]
    role_groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    jit: BTreeMap<String, Vec<String>>,
    #[serde(default = "default_scopes")]
    scopes: Vec<String>,
}

fn default_user_claim() -> String {
    "sub".to_owned()
}

fn default_groups_claim() -> String {
    "groups".to_owned()
}

fn default_scopes() -> Vec<String> {
    vec!["email".to_owned(), "profile".to_owned()]
}

impl OidcConfig {
    /// Reads the configuration `text` of `file`, checking every role id against
    /// `catalog`; a `client_secret_env` is read through `env`.
    pub fn from_toml(
        file: &str,
        text: &str,
        catalog: &Catalog,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let parsed: File = toml::from_str(text).map_err(|error| ConfigError::Syntax {
            file: file.to_owned(),
            message: error.to_string(),
        })?;
        let mut issuers: Vec<IssuerConfig> = Vec::new();
        for (position, raw) in parsed.issuer.into_iter().enumerate() {
            let issuer_name = if raw.name.is_empty() {
                format!("#{}", position + 1)
            } else {
                raw.name.clone()
            };
            let field = |field: &'static str, message: String| ConfigError::Field {
                file: file.to_owned(),
                issuer: issuer_name.clone(),
                field,
                message,
            };
            if raw.name.is_empty()
                || raw.name.len() > 32
                || !raw
                    .name
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
            {
                return Err(field(
                    "name",
                    "must be 1-32 characters of a-z, 0-9 and -".to_owned(),
                ));
            }
            if issuers.iter().any(|issuer| issuer.name == raw.name) {
                return Err(field("name", "is used by an earlier issuer".to_owned()));
            }
            let url = url::Url::parse(&raw.url)
                .map_err(|error| field("url", format!("is not a URL: {error}")))?;
            let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
            if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
                return Err(field(
                    "url",
                    "must be https:// (http:// only on a loopback address)".to_owned(),
                ));
            }
            if raw.client_id.trim().is_empty() {
                return Err(field("client_id", "must not be empty".to_owned()));
            }
            let client_secret = match (raw.client_secret, raw.client_secret_env) {
                (Some(_), Some(_)) => {
                    return Err(field(
                        "client_secret_env",
                        "give client_secret or client_secret_env, not both".to_owned(),
                    ));
                }
                (Some(secret), None) => Some(secret),
                (None, Some(variable)) => Some(
                    env(&variable)
                        .filter(|secret| !secret.is_empty())
                        .ok_or_else(|| {
                            field(
                                "client_secret_env",
                                format!("the environment variable {variable} is not set"),
                            )
                        })?,
                ),
                (None, None) => None,
            };
            let user_claim = match raw.user_claim.as_str() {
                "sub" => UserClaim::Subject,
                "email" => UserClaim::Email,
                other => {
                    return Err(field(
                        "user_claim",
                        format!("`{other}` is not `sub` or `email`"),
                    ));
                }
            };
            let lower = |map: BTreeMap<String, String>| {
                map.into_iter()
                    .map(|(domain, tenant)| (domain.to_lowercase(), tenant))
                    .collect::<BTreeMap<_, _>>()
            };
            let tenant_email_domains = lower(raw.tenant_email_domains);
            if raw.audience == Audience::Partner
                && raw.tenant_claim.is_none()
                && tenant_email_domains.is_empty()
            {
                return Err(field(
                    "tenant_claim",
                    "a partner issuer needs tenant_claim or tenant_email_domains to find the tenant"
                        .to_owned(),
                ));
            }
            for (group, roles) in &raw.role_groups {
                for role in roles {
                    if catalog.role_ix(role).is_none() {
                        return Err(field(
                            "role_groups",
                            format!("group `{group}` names role `{role}`, which the catalog lacks"),
                        ));
                    }
                }
            }
            if !raw.jit.is_empty() && raw.audience == Audience::Staff {
                return Err(field(
                    "jit",
                    "just-in-time linking adds partner users: not on a staff issuer".to_owned(),
                ));
            }
            let jit = raw
                .jit
                .into_iter()
                .map(|(tenant, domains)| {
                    (
                        tenant,
                        domains
                            .into_iter()
                            .map(|domain| domain.to_lowercase())
                            .collect(),
                    )
                })
                .collect();
            issuers.push(IssuerConfig {
                label: raw
                    .label
                    .unwrap_or_else(|| format!("Sign in with {}", raw.name)),
                name: raw.name,
                url: raw.url,
                client_id: raw.client_id,
                client_secret,
                audience: raw.audience,
                user_claim,
                tenant_claim: raw.tenant_claim,
                tenant_email_domains,
                groups_claim: raw.groups_claim,
                staff_groups: raw.staff_groups,
                role_groups: raw.role_groups,
                jit,
                scopes: raw.scopes,
            });
        }
        Ok(OidcConfig { issuers })
    }

    /// The issuer called `name`.
    pub fn issuer(&self, name: &str) -> Option<&IssuerConfig> {
        self.issuers.iter().find(|issuer| issuer.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<OidcConfig, ConfigError> {
        OidcConfig::from_toml("sso.toml", text, Catalog::partner_center(), |name| {
            (name == "SECRET").then(|| "s3cret".to_owned())
        })
    }

    #[test]
    fn an_issuer_reads_with_its_defaults_and_secret_from_the_environment() {
        let config = read(
            r#"
            [[issuer]]
            name = "entra"
            url = "https://login.example/tenant/v2.0"
            client_id = "clearance"
            client_secret_env = "SECRET"
            audience = "partner"
            tenant_email_domains = { "Contoso.COM" = "contoso" }
            "#,
        )
        .expect("valid");
        let issuer = config.issuer("entra").expect("named");
        assert_eq!(issuer.client_secret.as_deref(), Some("s3cret"));
        assert_eq!(issuer.user_claim, UserClaim::Subject);
        assert_eq!(issuer.groups_claim, "groups");
        assert_eq!(
            issuer
                .tenant_email_domains
                .get("contoso.com")
                .map(String::as_str),
            Some("contoso")
        );
    }

    #[test]
    fn bad_fields_are_refused_naming_the_issuer_and_the_field() {
        let base = |extra: &str| {
            format!(
                "[[issuer]]\nname = \"x\"\nurl = \"https://idp.example\"\nclient_id = \"c\"\naudience = \"partner\"\ntenant_claim = \"tenant\"\n{extra}"
            )
        };
        let cases = [
            (base("client_secret_env = \"MISSING\""), "client_secret_env"),
            (base("user_claim = \"upn\""), "user_claim"),
            (
                base("role_groups = { admins = [\"no_such_role\"] }"),
                "role_groups",
            ),
            (
                base("").replace("https://idp.example", "http://idp.example"),
                "url",
            ),
            (
                base("").replace("tenant_claim = \"tenant\"\n", ""),
                "tenant_claim",
            ),
            (base("").replace("name = \"x\"", "name = \"X Y\""), "name"),
            (format!("{}\n{}", base(""), base("")), "name"),
        ];
        for (text, wanted) in cases {
            match read(&text) {
                Err(ConfigError::Field { field, file, .. }) => {
                    assert_eq!((field, file.as_str()), (wanted, "sso.toml"), "{text}");
                }
                other => panic!("{text}: expected a refusal of {wanted}, got {other:?}"),
            }
        }
        assert!(matches!(
            read(&base("colour = \"blue\"")),
            Err(ConfigError::Syntax { .. })
        ));
    }
}
