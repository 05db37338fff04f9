//! Journeys: a tenant's history as timed commands, in TOML, and their replay
//! through the workflow.
//!
//! A journey is test and demo data written once (`corpus/journeys/*.toml`)
//! and replayed by `serve --demo`, `clearance gen` and the tests. Parsing is
//! pure: the caller reads the file (or embeds it with `include_str!`).
//!
//! ```toml
//! tenant = "contoso"
//! about = "the seed's case: verification pending 8 business days"
//!
//! [[steps]]
//! at = "10 business days ago"   # before the replay's anchor, or RFC 3339
//! actor = { kind = "support", id = "ada", role = "support_admin" }
//! command = { type = "create_tenant", country = "US", admin = "alice", roles = ["global_admin"] }
//!
//! [[steps]]
//! at = "2026-11-12T09:00:00Z"
//! actor = { kind = "partner", user = "alice" }
//! command = { type = "enroll", program = "maicpp" }
//! ```
//!
//! `actor` and `command` are the core's [`Actor`] and [`Command`] in their
//! serde form (the same JSON the API and the event log use).

use jiff::Timestamp;
use serde::Deserialize;
use toml::Spanned;

use crate::calendar::BusinessCalendar;
use crate::catalog::span::line_of;
use crate::catalog::{Catalog, describe_parse_error};
use crate::state::Tenant;
use crate::workflow::{Actor, Command, Event, WorkflowError, execute};

/// A tenant's history: who asked for what, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Journey {
    /// The tenant's id.
    pub tenant: String,
    /// What state the journey leaves the tenant in, in a sentence.
    pub about: String,
    /// The commands, in the order they are executed.
    pub steps: Vec<JourneyStep>,
}

/// One command of a journey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JourneyStep {
    /// When it is executed.
    pub at: When,
    /// Who asks.
    pub actor: Actor,
    /// What is asked.
    pub command: Command,
}

/// When a step happens: a fixed moment, or a number of business days before
/// the moment the journey is replayed against (its anchor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// This moment.
    At(Timestamp),
    /// `n` business days before the anchor (see
    /// [`BusinessCalendar::business_days_before`]).
    BusinessDaysAgo(u32),
}

impl When {
    /// The moment this is, replayed against `anchor`.
    pub fn resolve(self, calendar: &BusinessCalendar, anchor: Timestamp) -> Timestamp {
        match self {
            When::At(at) => at,
            When::BusinessDaysAgo(days) => calendar.business_days_before(anchor, days),
        }
    }
}

/// A journey file that failed to parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}:{line}: {key}: {message}")]
pub struct JourneyError {
    /// The file name given to the parser.
    pub file: String,
    /// 1-based line (0 when not known).
    pub line: usize,
    /// Dotted key (`steps[2].at`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// A step the workflow refused while replaying a journey.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("journey `{tenant}`, step {step} ({command}): {source}")]
pub struct ReplayError {
    /// The journey's tenant.
    pub tenant: String,
    /// 1-based step number.
    pub step: usize,
    /// The refused command's name.
    pub command: &'static str,
    /// The workflow's refusal (or the fold's).
    pub source: WorkflowError,
}

/// A replayed journey: the state it leaves and every event with its moment
/// and actor, in order.
#[derive(Clone, Debug)]
pub struct Replayed {
    /// The tenant's state after the steps.
    pub tenant: Tenant,
    /// The events the steps caused, each with when and by whom.
    pub events: Vec<(Event, Timestamp, Actor)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJourney {
    tenant: String,
    about: String,
    steps: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: Spanned<String>,
    actor: Actor,
    command: Command,
}

const DAYS_AGO: &str = " business days ago";

impl Journey {
    /// Parses a journey from TOML text; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Journey, JourneyError> {
        let error = |line, key: String, message: String| JourneyError {
            file: file.to_owned(),
            line,
            key,
            message,
        };
        let raw: RawJourney = toml::from_str(text).map_err(|e| {
            let (line, key) = describe_parse_error(text, &e);
            error(line, key, e.message().trim().to_owned())
        })?;
        if raw.tenant.trim().is_empty() {
            return Err(error(0, "tenant".into(), "must not be empty".into()));
        }
        if raw.steps.is_empty() {
            return Err(error(0, "steps".into(), "a journey needs steps".into()));
        }
        let steps = raw
            .steps
            .into_iter()
            .enumerate()
            .map(|(i, step)| {
                let at = parse_when(step.at.get_ref()).ok_or_else(|| {
                    error(
                        line_of(text, step.at.span().start),
                        format!("steps[{i}].at"),
                        format!(
                            "`{}` is neither \"N{DAYS_AGO}\" nor an RFC 3339 timestamp such as \"2026-11-24T10:00:00Z\"",
                            step.at.get_ref()
                        ),
                    )
                })?;
                Ok(JourneyStep {
                    at,
                    actor: step.actor,
                    command: step.command,
                })
            })
            .collect::<Result<_, JourneyError>>()?;
        Ok(Journey {
            tenant: raw.tenant,
            about: raw.about,
            steps,
        })
    }

    /// Replays every step through the workflow against `anchor`.
    pub fn replay(&self, catalog: &Catalog, anchor: Timestamp) -> Result<Replayed, ReplayError> {
        self.replay_first(catalog, anchor, self.steps.len())
    }

    /// Replays the first `steps` steps (all of them when there are fewer).
    pub fn replay_first(
        &self,
        catalog: &Catalog,
        anchor: Timestamp,
        steps: usize,
    ) -> Result<Replayed, ReplayError> {
        let mut replayed = Replayed {
            tenant: Tenant::new(self.tenant.clone(), ""),
            events: Vec::new(),
        };
        for (i, step) in self.steps.iter().take(steps).enumerate() {
            let refused = |source| ReplayError {
                tenant: self.tenant.clone(),
                step: i + 1,
                command: step.command.name(),
                source,
            };
            let at = step.at.resolve(&catalog.calendar, anchor);
            let events = execute(catalog, &replayed.tenant, &step.actor, &step.command, at)
                .map_err(refused)?;
            for event in events {
                replayed
                    .tenant
                    .apply(catalog, &event, at)
                    .map_err(refused)?;
                replayed.events.push((event, at, step.actor.clone()));
            }
        }
        Ok(replayed)
    }
}

fn parse_when(text: &str) -> Option<When> {
    match text.strip_suffix(DAYS_AGO) {
        Some(days) => days.parse().ok().map(When::BusinessDaysAgo),
        None => text.parse().ok().map(When::At),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOURNEY: &str = r#"tenant = "contoso"
about = "pending"

[[steps]]
at = "10 business days ago"
actor = { kind = "support", id = "ada", role = "support_admin" }
command = { type = "create_tenant", country = "US", admin = "alice", roles = ["global_admin"] }

[[steps]]
at = "2026-11-12T09:00:00Z"
actor = { kind = "partner", user = "alice" }
command = { type = "enroll", program = "maicpp" }
"#;

    fn anchor() -> Timestamp {
        "2026-11-24T10:00:00Z".parse().expect("timestamp")
    }

    #[test]
    fn steps_parse_into_core_commands_and_moments() {
        let journey = Journey::from_toml("j.toml", JOURNEY).expect("valid");
        assert_eq!(journey.tenant, "contoso");
        assert_eq!(journey.steps.len(), 2);
        assert_eq!(journey.steps[0].at, When::BusinessDaysAgo(10));
        assert_eq!(
            journey.steps[1].command,
            Command::Enroll {
                program: "maicpp".into()
            }
        );
        let calendar = &Catalog::partner_center().calendar;
        assert_eq!(
            journey.steps[1].at.resolve(calendar, anchor()),
            "2026-11-12T09:00:00Z".parse::<Timestamp>().expect("ts")
        );
        assert_eq!(
            calendar
                .business_days_between(journey.steps[0].at.resolve(calendar, anchor()), anchor()),
            10
        );
    }

    #[test]
    fn replay_runs_the_workflow() {
        let journey = Journey::from_toml("j.toml", JOURNEY).expect("valid");
        let catalog = Catalog::partner_center();
        let replayed = journey.replay(catalog, anchor()).expect("accepted");
        assert_eq!(replayed.tenant.country, "US");
        assert_eq!(replayed.tenant.programs.len(), 1);
        assert_eq!(replayed.tenant.version, replayed.events.len() as u64);
        let created = journey
            .replay_first(catalog, anchor(), 1)
            .expect("accepted");
        assert!(created.tenant.programs.is_empty());
    }

    #[test]
    fn a_refused_step_is_named() {
        let text = JOURNEY.replace(
            "\"partner\", user = \"alice\"",
            "\"partner\", user = \"bob\"",
        );
        let journey = Journey::from_toml("j.toml", &text).expect("valid");
        let error = journey
            .replay(Catalog::partner_center(), anchor())
            .expect_err("bob is no user of contoso");
        assert_eq!((error.step, error.command), (2, "enroll"), "{error}");
    }

    #[test]
    fn a_bad_moment_names_its_step_and_line() {
        let text = JOURNEY.replace("10 business days ago", "last week");
        let error = Journey::from_toml("j.toml", &text).expect_err("refused");
        assert_eq!(
            (error.key.as_str(), error.line),
            ("steps[0].at", 5),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_command_is_refused_with_its_key() {
        let text = JOURNEY.replace("type = \"enroll\"", "type = \"enrol\"");
        let error = Journey::from_toml("j.toml", &text).expect_err("refused");
        assert!(error.key.starts_with("steps"), "{error}");
        assert!(error.message.contains("enrol"), "{error}");
    }
}
