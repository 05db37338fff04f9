//! The scenario file the CLI reads: a tenant, a user and a moment, in TOML.
//!
//! Parsing is strict: unknown keys, wrong types and unknown catalog ids are
//! errors that name the key.
//!
//! ```toml
//! now = "2026-11-24T10:00:00Z"          # RFC 3339
//! [tenant]
//! id = "contoso"
//! country = "US"                         # ISO 3166 alpha-2, upper case
//! primary_contact = "alice"              # optional
//! capability_score = 55                  # optional
//! profiles = ["payment", "tax"]          # complete profiles (default none)
//! agreements = ["mpa"]                   # accepted agreements (default none)
//! [tenant.programs.maicpp]               # a missing table = not enrolled
//! enrollment = "pending_qualification"
//! verification = "pending"
//! submitted_at = "2026-11-12T09:00:00Z"  # needed while pending or in progress
//! action_required = false                # default false
//! appeals_used = 0                       # default 0
//! reason = "..."                         # optional: the reviewer's reason
//! documents_requested = ["..."]          # optional: asked for in a challenge
//! [[tenant.memberships]]                 # optional, one per offer
//! offer = "maicpp_core_benefits"
//! expires_at = "2027-01-10T00:00:00Z"
//! [user]
//! id = "alice"
//! roles = ["global_admin", "maicpp_partner_admin"]
//! ```

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use toml::Spanned;

use crate::catalog::span::line_of;
use crate::catalog::{Catalog, ProgramIx, Set, SetMember, describe_parse_error};
use crate::state::{
    EnrollmentStatus, Membership, ProgramRecord, Tenant, User, Verification, VerificationStatus,
};

/// A parsed scenario, resolved against a catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The moment of the check.
    pub now: Timestamp,
    /// The tenant.
    pub tenant: Tenant,
    /// The acting user (also added to `tenant.users` when absent there).
    pub user: User,
}

/// A scenario that failed to parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}:{line}: {key}: {message}")]
pub struct ScenarioError {
    /// The file name given to the parser.
    pub file: String,
    /// 1-based line (0 when not known).
    pub line: usize,
    /// Dotted key (`tenant.programs.maicpp.enrollment`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    now: Spanned<toml::Value>,
    tenant: RawTenant,
    user: RawUser,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    id: Text,
    country: Text,
    primary_contact: Option<Text>,
    capability_score: Option<u32>,
    #[serde(default)]
    profiles: Vec<Text>,
    #[serde(default)]
    agreements: Vec<Text>,
    #[serde(default)]
    programs: BTreeMap<Text, RawProgram>,
    #[serde(default)]
    memberships: Vec<RawMembership>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    enrollment: Spanned<EnrollmentStatus>,
    verification: Spanned<VerificationStatus>,
    submitted_at: Option<Spanned<toml::Value>>,
    #[serde(default)]
    action_required: bool,
    appeals_used: Option<Spanned<u8>>,
    reason: Option<String>,
    #[serde(default)]
    documents_requested: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMembership {
    offer: Text,
    expires_at: Spanned<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    id: Text,
    #[serde(default)]
    roles: Vec<Text>,
}

impl Scenario {
    /// Parses a scenario from TOML text; `file` names it in errors.
    pub fn from_toml(catalog: &Catalog, file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario = toml::from_str(text).map_err(|error| {
            let (line, key) = describe_parse_error(text, &error);
            ScenarioError {
                file: file.to_string(),
                line,
                key,
                message: error.message().trim().to_string(),
            }
        })?;
        Resolver {
            catalog,
            file,
            text,
        }
        .scenario(raw)
    }
}

struct Resolver<'a> {
    catalog: &'a Catalog,
    file: &'a str,
    text: &'a str,
}

impl Resolver<'_> {
    fn error(&self, span: std::ops::Range<usize>, key: &str, message: String) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            line: line_of(self.text, span.start),
            key: key.to_string(),
            message,
        }
    }

    fn timestamp(
        &self,
        value: &Spanned<toml::Value>,
        key: &str,
    ) -> Result<Timestamp, ScenarioError> {
        // Accept a quoted RFC 3339 string or a bare TOML offset date-time.
        let text = match value.get_ref() {
            toml::Value::String(text) => text.clone(),
            toml::Value::Datetime(datetime) => datetime.to_string(),
            other => {
                return Err(self.error(
                    value.span(),
                    key,
                    format!(
                        "expected an RFC 3339 timestamp such as \"2026-11-24T10:00:00Z\", found {}",
                        other.type_str()
                    ),
                ));
            }
        };
        text.parse().map_err(|_| {
            self.error(
                value.span(),
                key,
                format!(
                    "`{text}` is not an RFC 3339 timestamp with an offset, such as \"2026-11-24T10:00:00Z\""
                ),
            )
        })
    }

    fn set<I: SetMember>(
        &self,
        list: &[Text],
        key: &str,
        what: &str,
        lookup: impl Fn(&str) -> Option<I>,
    ) -> Result<Set<I>, ScenarioError> {
        let mut set = Set::EMPTY;
        for (i, id) in list.iter().enumerate() {
            let item_key = format!("{key}[{i}]");
            let item = lookup(id.get_ref()).ok_or_else(|| {
                self.error(
                    id.span(),
                    &item_key,
                    format!("unknown {what} `{}`", id.get_ref()),
                )
            })?;
            if set.contains(item) {
                return Err(self.error(
                    id.span(),
                    &item_key,
                    format!("{what} `{}` is listed twice", id.get_ref()),
                ));
            }
            set.insert(item);
        }
        Ok(set)
    }

    fn scenario(&self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        let catalog = self.catalog;
        let now = self.timestamp(&raw.now, "now")?;
        let t = raw.tenant;

        let id = non_empty(&t.id)
            .ok_or_else(|| self.error(t.id.span(), "tenant.id", "must not be empty".to_string()))?;
        let country = t.country.get_ref();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(self.error(
                t.country.span(),
                "tenant.country",
                format!("`{country}` is not an ISO 3166 alpha-2 code: two upper-case letters, such as \"US\""),
            ));
        }
        let mut tenant = Tenant::new(id, country.clone());
        if let Some(contact) = &t.primary_contact {
            let contact = non_empty(contact).ok_or_else(|| {
                self.error(
                    contact.span(),
                    "tenant.primary_contact",
                    "must not be empty".to_string(),
                )
            })?;
            tenant.primary_contact = Some(contact);
        }
        tenant.capability_score = t.capability_score;
        tenant.profiles = self.set(&t.profiles, "tenant.profiles", "profile", |id| {
            catalog.profile_ix(id)
        })?;
        tenant.agreements = self.set(&t.agreements, "tenant.agreements", "agreement", |id| {
            catalog.agreement_ix(id)
        })?;

        for (program_id, p) in &t.programs {
            let key = format!("tenant.programs.{}", program_id.get_ref());
            let program: ProgramIx = catalog.program_ix(program_id.get_ref()).ok_or_else(|| {
                let known: Vec<&str> = catalog.programs.iter().map(|p| p.id.as_str()).collect();
                self.error(
                    program_id.span(),
                    &key,
                    format!(
                        "unknown program `{}`; the catalog has {}",
                        program_id.get_ref(),
                        known.join(", ")
                    ),
                )
            })?;
            let status = *p.verification.get_ref();
            let submitted_at = match &p.submitted_at {
                Some(value) => Some(self.timestamp(value, &format!("{key}.submitted_at"))?),
                None => None,
            };
            if submitted_at.is_none()
                && matches!(
                    status,
                    VerificationStatus::Pending | VerificationStatus::InProgress
                )
            {
                return Err(self.error(
                    p.verification.span(),
                    &format!("{key}.submitted_at"),
                    format!(
                        "a verification that is {} needs submitted_at: the SLA clock starts there",
                        status.as_str()
                    ),
                ));
            }
            let appeals_used = p.appeals_used.as_ref().map_or(0, |n| *n.get_ref());
            if let Some(used) = &p.appeals_used
                && appeals_used > catalog.vetting.max_appeals
            {
                return Err(self.error(
                    used.span(),
                    &format!("{key}.appeals_used"),
                    format!(
                        "{appeals_used} appeals is more than the {} the catalog allows",
                        catalog.vetting.max_appeals
                    ),
                ));
            }
            tenant.programs.push(ProgramRecord {
                program,
                enrollment: *p.enrollment.get_ref(),
                verification: Verification {
                    status,
                    submitted_at,
                    action_required: p.action_required,
                    reason: p.reason.clone(),
                    documents_requested: p.documents_requested.clone(),
                    appeals_used,
                    appeals: Vec::new(),
                    overdue: false,
                    escalated_case: None,
                },
            });
        }
        tenant.programs.sort_by_key(|record| record.program);

        for (i, m) in t.memberships.iter().enumerate() {
            let key = format!("tenant.memberships[{i}]");
            let offer = catalog.offer_ix(m.offer.get_ref()).ok_or_else(|| {
                self.error(
                    m.offer.span(),
                    &format!("{key}.offer"),
                    format!("unknown offer `{}`", m.offer.get_ref()),
                )
            })?;
            if tenant.membership(offer).is_some() {
                return Err(self.error(
                    m.offer.span(),
                    &format!("{key}.offer"),
                    format!(
                        "a second membership of offer `{}`; a tenant holds one per offer",
                        m.offer.get_ref()
                    ),
                ));
            }
            let expires_at = self.timestamp(&m.expires_at, &format!("{key}.expires_at"))?;
            tenant.memberships.push(Membership { offer, expires_at });
        }

        let user_id = non_empty(&raw.user.id).ok_or_else(|| {
            self.error(
                raw.user.id.span(),
                "user.id",
                "must not be empty".to_string(),
            )
        })?;
        let user = User {
            id: user_id,
            roles: self.set(&raw.user.roles, "user.roles", "role", |id| {
                catalog.role_ix(id)
            })?,
        };
        tenant.users.push(user.clone());
        Ok(Scenario { now, tenant, user })
    }
}

fn non_empty(text: &Text) -> Option<String> {
    let trimmed = text.get_ref().trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"now = "2026-11-24T10:00:00Z"
[tenant]
id = "contoso"
country = "US"
primary_contact = "alice"
capability_score = 55
profiles = ["payment", "tax"]
agreements = ["mpa"]
[tenant.programs.maicpp]
enrollment = "pending_qualification"
verification = "pending"
submitted_at = "2026-11-12T09:00:00Z"
action_required = false
appeals_used = 0
[[tenant.memberships]]
offer = "maicpp_core_benefits"
expires_at = "2027-01-10T00:00:00Z"
[user]
id = "alice"
roles = ["global_admin", "maicpp_partner_admin"]
"#;

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::from_toml(Catalog::partner_center(), "s.toml", text)
    }

    #[track_caller]
    fn refused(from: &str, to: &str) -> ScenarioError {
        assert!(SEED.contains(from), "fixture lacks {from:?}");
        parse(&SEED.replacen(from, to, 1)).expect_err("must be refused")
    }

    fn line_of_seed(needle: &str) -> usize {
        line_of(SEED, SEED.find(needle).expect("needle"))
    }

    #[test]
    fn the_issue_example_parses_into_indexed_state() {
        let catalog = Catalog::partner_center();
        let scenario = parse(SEED).expect("valid");
        assert_eq!(
            scenario.now,
            "2026-11-24T10:00:00Z".parse::<Timestamp>().expect("ts")
        );
        let tenant = &scenario.tenant;
        assert_eq!(tenant.id, "contoso");
        assert_eq!(tenant.country, "US");
        assert_eq!(tenant.primary_contact.as_deref(), Some("alice"));
        assert_eq!(tenant.capability_score, Some(55));
        assert!(
            tenant
                .profiles
                .contains(catalog.profile_ix("payment").expect("payment"))
        );
        assert!(
            tenant
                .profiles
                .contains(catalog.profile_ix("tax").expect("tax"))
        );
        assert!(
            tenant
                .agreements
                .contains(catalog.agreement_ix("mpa").expect("mpa"))
        );
        let maicpp = tenant
            .program(catalog.program_ix("maicpp").expect("maicpp"))
            .expect("record");
        assert_eq!(maicpp.enrollment, EnrollmentStatus::PendingQualification);
        assert_eq!(maicpp.verification.status, VerificationStatus::Pending);
        assert_eq!(
            maicpp.verification.submitted_at,
            Some("2026-11-12T09:00:00Z".parse().expect("ts"))
        );
        assert!(!maicpp.verification.action_required);
        assert_eq!(maicpp.verification.appeals_used, 0);
        assert_eq!(tenant.memberships.len(), 1);
        assert_eq!(scenario.user.id, "alice");
        assert_eq!(scenario.user.roles.len(), 2);
        assert_eq!(tenant.users, vec![scenario.user.clone()]);
    }

    #[test]
    fn optional_keys_may_be_left_out() {
        let text = "now = \"2026-11-24T10:00:00Z\"\n[tenant]\nid = \"t\"\ncountry = \"DE\"\n[user]\nid = \"bob\"\n";
        let scenario = parse(text).expect("minimal scenario");
        assert!(scenario.tenant.programs.is_empty());
        assert!(scenario.tenant.primary_contact.is_none());
        assert!(scenario.user.roles.is_empty());
    }

    #[test]
    fn a_bare_toml_datetime_is_accepted() {
        let scenario = parse(&SEED.replacen(
            "now = \"2026-11-24T10:00:00Z\"",
            "now = 2026-11-24T10:00:00Z",
            1,
        ))
        .expect("bare datetime");
        assert_eq!(
            scenario.now,
            "2026-11-24T10:00:00Z".parse::<Timestamp>().expect("ts")
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let error = refused("appeals_used = 0", "appeals_used = 0\nappeals_left = 3");
        assert_eq!(error.key, "tenant.programs.maicpp.appeals_left", "{error}");
        assert_eq!(error.line, line_of_seed("appeals_used = 0") + 1);
        assert!(
            error.message.contains("unknown field `appeals_left`"),
            "{error}"
        );

        let error = refused("[user]", "colour = \"red\"\n[user]");
        assert_eq!(error.key, "tenant.memberships[0].colour", "{error}");

        let error = refused("now =", "then = \"x\"\nnow =");
        assert_eq!((error.key.as_str(), error.line), ("then", 1), "{error}");
    }

    #[test]
    fn wrong_types_are_named() {
        let error = refused("capability_score = 55", "capability_score = \"high\"");
        assert_eq!(error.key, "tenant.capability_score", "{error}");
        assert_eq!(error.line, line_of_seed("capability_score"));
        assert!(error.message.contains("invalid type"), "{error}");

        let error = refused("action_required = false", "action_required = \"no\"");
        assert_eq!(
            error.key, "tenant.programs.maicpp.action_required",
            "{error}"
        );

        let error = refused("now = \"2026-11-24T10:00:00Z\"", "now = 5");
        assert_eq!(error.key, "now");
        assert!(error.message.contains("found integer"), "{error}");
    }

    #[test]
    fn missing_required_keys_are_named() {
        let error = refused("country = \"US\"\n", "");
        assert_eq!(error.key, "tenant.country", "{error}");
        assert!(error.message.contains("missing field"), "{error}");
    }

    #[test]
    fn bad_status_names_the_key() {
        let error = refused(
            "enrollment = \"pending_qualification\"",
            "enrollment = \"PENDING\"",
        );
        assert_eq!(error.key, "tenant.programs.maicpp.enrollment", "{error}");
        assert_eq!(error.line, line_of_seed("enrollment ="));
        assert!(
            error.message.contains("unknown variant `PENDING`"),
            "{error}"
        );
    }

    #[test]
    fn unknown_ids_are_named() {
        let cases = [
            (
                "[tenant.programs.maicpp]",
                "[tenant.programs.mspp]",
                "tenant.programs.mspp",
                "unknown program `mspp`",
            ),
            (
                "profiles = [\"payment\", \"tax\"]",
                "profiles = [\"payment\", \"bank\"]",
                "tenant.profiles[1]",
                "unknown profile `bank`",
            ),
            (
                "agreements = [\"mpa\"]",
                "agreements = [\"nda\"]",
                "tenant.agreements[0]",
                "unknown agreement `nda`",
            ),
            (
                "offer = \"maicpp_core_benefits\"",
                "offer = \"gold\"",
                "tenant.memberships[0].offer",
                "unknown offer `gold`",
            ),
            (
                "roles = [\"global_admin\", \"maicpp_partner_admin\"]",
                "roles = [\"global_admin\", \"owner\"]",
                "user.roles[1]",
                "unknown role `owner`",
            ),
        ];
        for (from, to, key, message) in cases {
            let error = refused(from, to);
            assert_eq!(error.key, key, "{error}");
            assert_eq!(error.line, line_of_seed(from), "{error}");
            assert!(error.message.contains(message), "{error}");
            assert_eq!(error.file, "s.toml");
        }
    }

    #[test]
    fn country_must_be_two_upper_case_letters() {
        for bad in ["us", "USA", "U1", ""] {
            let error = refused("country = \"US\"", &format!("country = \"{bad}\""));
            assert_eq!(error.key, "tenant.country", "{error}");
            assert_eq!(error.line, 4);
            assert!(error.message.contains("ISO 3166"), "{error}");
        }
    }

    #[test]
    fn timestamps_must_be_rfc3339_with_an_offset() {
        let error = refused(
            "submitted_at = \"2026-11-12T09:00:00Z\"",
            "submitted_at = \"2026-11-12 9am\"",
        );
        assert_eq!(error.key, "tenant.programs.maicpp.submitted_at", "{error}");
        assert!(
            error.message.contains("not an RFC 3339 timestamp"),
            "{error}"
        );
        let error = refused(
            "expires_at = \"2027-01-10T00:00:00Z\"",
            "expires_at = 2027-01-10T00:00:00",
        );
        assert_eq!(error.key, "tenant.memberships[0].expires_at", "{error}");
    }

    #[test]
    fn pending_without_submission_time_is_refused() {
        let error = refused("submitted_at = \"2026-11-12T09:00:00Z\"\n", "");
        assert_eq!(error.key, "tenant.programs.maicpp.submitted_at", "{error}");
        assert!(error.message.contains("needs submitted_at"), "{error}");
    }

    #[test]
    fn too_many_appeals_are_refused() {
        let error = refused("appeals_used = 0", "appeals_used = 4");
        assert_eq!(error.key, "tenant.programs.maicpp.appeals_used", "{error}");
        assert!(error.message.contains("more than the 3"), "{error}");
    }

    #[test]
    fn duplicates_are_refused() {
        let error = refused("agreements = [\"mpa\"]", "agreements = [\"mpa\", \"mpa\"]");
        assert_eq!(error.key, "tenant.agreements[1]");
        assert!(error.message.contains("listed twice"), "{error}");
        let second = "[[tenant.memberships]]\noffer = \"maicpp_core_benefits\"\nexpires_at = \"2027-01-10T00:00:00Z\"\n";
        let error = refused("[user]", &format!("{second}[user]"));
        assert_eq!(error.key, "tenant.memberships[1].offer", "{error}");
        assert!(error.message.contains("one per offer"), "{error}");
    }

    #[test]
    fn display_is_file_line_key_message() {
        let error = refused("country = \"US\"", "country = \"us\"");
        assert_eq!(
            error.to_string(),
            "s.toml:4: tenant.country: `us` is not an ISO 3166 alpha-2 code: two upper-case letters, such as \"US\""
        );
    }
}
