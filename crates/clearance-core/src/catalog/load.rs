//! The catalog loader: TOML → raw, spanned structs → validated, indexed [`Catalog`].
//!
//! Every check happens here, once, so the decision hot path works on indices
//! only. Each error names the file, the 1-based line and the dotted field.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use serde::Deserialize;
use toml::Spanned;

use super::span::{line_of, locate};
use super::{
    Action, ActionIx, Agreement, AgreementIx, Catalog, CatalogError, FixedBy, Gate, Gates, Lookup,
    NextStepRef, Offer, OfferIx, Profile, ProfileIx, Program, ProgramIx, Requirement,
    RequirementIx, RequirementKind, Role, RoleIx, Set, VettingRules, Workspace, WorkspaceIx, fnv1a,
};
use crate::calendar::BusinessCalendar;
use crate::vocabulary::{EnrollmentStatus, StepCode, VerificationStatus};

type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    vetting: Spanned<RawVetting>,
    // A map, not a struct, so that a missing gate is named with what it gates
    // and an unknown one with the keys there are.
    gates: Option<Spanned<BTreeMap<String, Text>>>,
    #[serde(default)]
    calendar: RawCalendar,
    #[serde(default)]
    program: Vec<RawProgram>,
    #[serde(default)]
    agreement: Vec<RawNamed>,
    #[serde(default)]
    profile: Vec<RawNamed>,
    #[serde(default)]
    role: Vec<RawNamed>,
    #[serde(default)]
    offer: Vec<RawOffer>,
    #[serde(default)]
    requirement: Vec<RawRequirement>,
    #[serde(default)]
    workspace: Vec<RawWorkspace>,
    #[serde(default)]
    action: Vec<RawAction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVetting {
    sla_business_days: Spanned<u32>,
    max_appeals: Spanned<u8>,
    #[serde(default)]
    appeal_roles: Vec<Text>,
    enroll_roles: Spanned<Vec<Text>>,
    owner_roles: Spanned<Vec<Text>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    #[serde(default)]
    holidays: Vec<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    id: Text,
    name: Text,
    #[serde(default)]
    agreements: Vec<Text>,
    home: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNamed {
    id: Text,
    name: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffer {
    id: Text,
    name: Text,
    program: Text,
    renewal_window_days: Spanned<u32>,
    term_days: Spanned<u32>,
    buy: Option<Text>,
    renew: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    id: Text,
    kind: Text,
    reason: Text,
    fixed_by: Spanned<RawFixedBy>,
    next_step: RawNextStep,
    // Fields of particular kinds; which ones a kind needs is checked by hand
    // so that a missing or extra one is named with its kind.
    roles: Option<Spanned<Vec<Text>>>,
    program: Option<Text>,
    statuses: Option<Spanned<Vec<Text>>>,
    agreement: Option<Text>,
    profile: Option<Text>,
    offer: Option<Text>,
    min: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixedBy {
    #[serde(default)]
    roles: Vec<Text>,
    #[serde(default)]
    primary_contact: bool,
    #[serde(default)]
    support: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNextStep {
    code: Text,
    page: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkspace {
    id: Text,
    name: Text,
    page: Text,
    parent: Option<Text>,
    #[serde(default)]
    requires: Vec<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    id: Text,
    name: Text,
    workspace: Text,
    #[serde(default)]
    requires: Vec<Text>,
}

/// The fields each requirement kind takes besides the common ones.
const KINDS: &[(&str, &[&str])] = &[
    ("any_role", &["roles"]),
    ("enrollment", &["program", "statuses"]),
    ("verification", &["program", "statuses"]),
    ("agreement", &["agreement"]),
    ("profile", &["profile"]),
    ("capability_score_at_least", &["min"]),
    ("no_active_membership", &["offer"]),
    ("membership_in_renewal_window", &["offer"]),
    ("primary_contact_or_role", &["roles"]),
    ("appeals_left", &["program"]),
];

/// Loads `text`; see [`Catalog::from_toml`].
pub(super) fn load(file: &str, text: &str) -> Result<Catalog, CatalogError> {
    let raw: RawCatalog = toml::from_str(text).map_err(|e| parse_error(file, text, &e))?;
    Loader { file, text }.build(raw)
}

/// Turns a `toml`/serde error into a [`CatalogError`] with line and field.
fn parse_error(file: &str, text: &str, error: &toml::de::Error) -> CatalogError {
    let (line, field) = describe_parse_error(text, error);
    CatalogError {
        file: file.to_string(),
        line,
        field,
        message: error.message().trim().to_string(),
    }
}

/// The line and dotted key of a `toml` deserialization error, shared with the
/// scenario parser.
pub(crate) fn describe_parse_error(text: &str, error: &toml::de::Error) -> (usize, String) {
    let message = error.message();
    let Some(span) = error.span() else {
        return (0, named_field(message).unwrap_or_default());
    };
    let location = locate(text, span.start);
    let mut field = location.path;
    // For unknown and missing fields the span is the key or the table; the
    // message names the field itself.
    if let Some(name) = named_field(message) {
        let is_the_key = text.get(span.clone()).is_some_and(|s| s.trim() == name);
        let already_last = field.rsplit('.').next() == Some(name.as_str());
        if is_the_key || !already_last {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(&name);
        }
    }
    (location.line, field)
}

fn named_field(message: &str) -> Option<String> {
    for prefix in ["unknown field `", "missing field `", "duplicate key `"] {
        if let Some(rest) = message.find(prefix).map(|at| &message[at + prefix.len()..]) {
            return rest.split('`').next().map(str::to_string);
        }
    }
    None
}

/// One id → index table under construction, remembering where each id was
/// defined so a duplicate can point at both.
struct Ids {
    what: &'static str,
    map: HashMap<String, (u16, usize)>,
}

impl Ids {
    fn new(what: &'static str) -> Self {
        Ids {
            what,
            map: HashMap::new(),
        }
    }
}

struct Loader<'a> {
    file: &'a str,
    text: &'a str,
}

impl Loader<'_> {
    fn error(&self, span: std::ops::Range<usize>, field: String, message: String) -> CatalogError {
        CatalogError {
            file: self.file.to_string(),
            line: line_of(self.text, span.start),
            field,
            message,
        }
    }

    /// Registers the ids of one list, checking syntax, duplicates and the limit.
    fn register<'r>(
        &self,
        section: &str,
        ids: &mut Ids,
        items: impl Iterator<Item = &'r Text>,
        limit: usize,
    ) -> Result<(), CatalogError> {
        for (position, id) in items.enumerate() {
            let field = format!("{section}[{position}].id");
            check_id(id.get_ref()).map_err(|m| self.error(id.span(), field.clone(), m))?;
            if position >= limit {
                return Err(self.error(
                    id.span(),
                    field,
                    format!("too many {}s: a catalog holds at most {limit}", ids.what),
                ));
            }
            let index = u16::try_from(position).expect("limit is at most u16::MAX + 1");
            let line = line_of(self.text, id.span().start);
            if let Some((_, first)) = ids.map.insert(id.get_ref().clone(), (index, line)) {
                return Err(self.error(
                    id.span(),
                    field,
                    format!(
                        "duplicate {} id `{}` (first defined on line {first})",
                        ids.what,
                        id.get_ref()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Resolves a reference to an id of `ids`.
    fn resolve(&self, ids: &Ids, id: &Text, field: String) -> Result<u16, CatalogError> {
        match ids.map.get(id.get_ref()) {
            Some(&(index, _)) => Ok(index),
            None => Err(self.error(
                id.span(),
                field,
                format!("unknown {} `{}`", ids.what, id.get_ref()),
            )),
        }
    }

    fn resolve_set<I: super::SetMember>(
        &self,
        ids: &Ids,
        list: &[Text],
        field: &str,
        make: impl Fn(u16) -> I,
    ) -> Result<Set<I>, CatalogError> {
        let mut set = Set::EMPTY;
        for (position, id) in list.iter().enumerate() {
            let field = format!("{field}[{position}]");
            let item = make(self.resolve(ids, id, field.clone())?);
            if set.contains(item) {
                return Err(self.error(
                    id.span(),
                    field,
                    format!("{} `{}` is listed twice", ids.what, id.get_ref()),
                ));
            }
            set.insert(item);
        }
        Ok(set)
    }

    fn non_empty(&self, value: &Text, field: String) -> Result<String, CatalogError> {
        let trimmed = value.get_ref().trim();
        if trimmed.is_empty() {
            return Err(self.error(value.span(), field, "must not be empty".to_string()));
        }
        Ok(trimmed.to_string())
    }

    fn page(&self, value: &Text, field: String) -> Result<String, CatalogError> {
        let page = value.get_ref();
        if !page.starts_with('/') || page.chars().any(char::is_whitespace) {
            return Err(self.error(
                value.span(),
                field,
                format!("page `{page}` must be a portal path starting with `/`, without spaces"),
            ));
        }
        Ok(page.clone())
    }

    fn build(&self, raw: RawCatalog) -> Result<Catalog, CatalogError> {
        let cap = Set::<RoleIx>::CAPACITY;
        let max = usize::from(u16::MAX) + 1;
        let mut programs = Ids::new("program");
        let mut agreements = Ids::new("agreement");
        let mut profiles = Ids::new("profile");
        let mut roles = Ids::new("role");
        let mut offers = Ids::new("offer");
        let mut requirements = Ids::new("requirement");
        let mut workspaces = Ids::new("workspace");
        let mut actions = Ids::new("action");
        self.register(
            "program",
            &mut programs,
            raw.program.iter().map(|p| &p.id),
            cap,
        )?;
        self.register(
            "agreement",
            &mut agreements,
            raw.agreement.iter().map(|a| &a.id),
            cap,
        )?;
        self.register(
            "profile",
            &mut profiles,
            raw.profile.iter().map(|p| &p.id),
            cap,
        )?;
        self.register("role", &mut roles, raw.role.iter().map(|r| &r.id), cap)?;
        self.register("offer", &mut offers, raw.offer.iter().map(|o| &o.id), max)?;
        self.register(
            "requirement",
            &mut requirements,
            raw.requirement.iter().map(|r| &r.id),
            max,
        )?;
        self.register(
            "workspace",
            &mut workspaces,
            raw.workspace.iter().map(|w| &w.id),
            max,
        )?;
        self.register(
            "action",
            &mut actions,
            raw.action.iter().map(|a| &a.id),
            max,
        )?;

        for (section, list) in [
            (
                "workspace",
                raw.workspace.iter().map(|w| &w.id).collect::<Vec<_>>(),
            ),
            ("action", raw.action.iter().map(|a| &a.id).collect()),
        ] {
            if let Some(position) = list.iter().position(|id| id.get_ref() == Gate::OFF) {
                return Err(self.error(
                    list[position].span(),
                    format!("{section}[{position}].id"),
                    "id `off` is reserved: it turns a gate off".to_string(),
                ));
            }
        }

        let vetting = self.vetting(&raw.vetting, &roles)?;
        let gates = self.gates(raw.gates.as_ref(), &actions)?;
        let calendar = self.calendar(&raw.calendar)?;

        let mut program_list = Vec::with_capacity(raw.program.len());
        for (i, p) in raw.program.iter().enumerate() {
            program_list.push(Program {
                id: p.id.get_ref().clone(),
                name: self.non_empty(&p.name, format!("program[{i}].name"))?,
                agreements: self.resolve_set(
                    &agreements,
                    &p.agreements,
                    &format!("program[{i}].agreements"),
                    AgreementIx,
                )?,
                home: self
                    .switch(
                        &workspaces,
                        p.home.as_ref(),
                        (&p.id, format!("program[{i}].home")),
                        "the workspace a partner lands on for this program",
                    )?
                    .map(WorkspaceIx),
            });
        }
        let agreement_list = self.named(&raw.agreement, "agreement", |id, name| Agreement {
            id,
            name,
        })?;
        let profile_list = self.named(&raw.profile, "profile", |id, name| Profile { id, name })?;
        let role_list = self.named(&raw.role, "role", |id, name| Role { id, name })?;

        let mut offer_list = Vec::with_capacity(raw.offer.len());
        for (i, o) in raw.offer.iter().enumerate() {
            let term = *o.term_days.get_ref();
            let window = *o.renewal_window_days.get_ref();
            if term == 0 {
                return Err(self.error(
                    o.term_days.span(),
                    format!("offer[{i}].term_days"),
                    "a membership term must be at least one day".to_string(),
                ));
            }
            if window > term {
                return Err(self.error(
                    o.renewal_window_days.span(),
                    format!("offer[{i}].renewal_window_days"),
                    format!(
                        "the renewal window ({window} days) is longer than the term ({term} days)"
                    ),
                ));
            }
            offer_list.push(Offer {
                id: o.id.get_ref().clone(),
                name: self.non_empty(&o.name, format!("offer[{i}].name"))?,
                program: ProgramIx(self.resolve(
                    &programs,
                    &o.program,
                    format!("offer[{i}].program"),
                )?),
                renewal_window_days: window,
                term_days: term,
                buy: self.offer_gate(
                    &actions,
                    o.buy.as_ref(),
                    (&o.id, format!("offer[{i}].buy")),
                )?,
                renew: self.offer_gate(
                    &actions,
                    o.renew.as_ref(),
                    (&o.id, format!("offer[{i}].renew")),
                )?,
            });
        }

        let mut requirement_list = Vec::with_capacity(raw.requirement.len());
        for (i, r) in raw.requirement.iter().enumerate() {
            requirement_list.push(self.requirement(
                i,
                r,
                &programs,
                &agreements,
                &profiles,
                &roles,
                &offers,
            )?);
        }

        let mut workspace_list = Vec::with_capacity(raw.workspace.len());
        for (i, w) in raw.workspace.iter().enumerate() {
            let parent = match &w.parent {
                Some(parent) => Some(WorkspaceIx(self.resolve(
                    &workspaces,
                    parent,
                    format!("workspace[{i}].parent"),
                )?)),
                None => None,
            };
            workspace_list.push(Workspace {
                id: w.id.get_ref().clone(),
                name: self.non_empty(&w.name, format!("workspace[{i}].name"))?,
                page: self.page(&w.page, format!("workspace[{i}].page"))?,
                parent,
                requires: self.requirement_list(
                    &requirements,
                    &w.requires,
                    &format!("workspace[{i}].requires"),
                )?,
                actions: Vec::new(),
            });
        }
        self.check_parent_cycles(&raw.workspace, &workspace_list)?;

        let mut action_list: Vec<Action> = Vec::with_capacity(raw.action.len());
        for (i, a) in raw.action.iter().enumerate() {
            let workspace = WorkspaceIx(self.resolve(
                &workspaces,
                &a.workspace,
                format!("action[{i}].workspace"),
            )?);
            let requires = self.requirement_list(
                &requirements,
                &a.requires,
                &format!("action[{i}].requires"),
            )?;
            let all_requirements = flatten(&workspace_list, workspace, &requires);
            let ix = ActionIx(u16::try_from(i).expect("registered under the u16 limit"));
            workspace_list[workspace.index()].actions.push(ix);
            action_list.push(Action {
                id: a.id.get_ref().clone(),
                name: self.non_empty(&a.name, format!("action[{i}].name"))?,
                workspace,
                requires,
                all_requirements,
            });
        }
        self.check_program_agreements(&raw, &program_list, &requirement_list, &action_list)?;

        let table = |ids: Ids| -> HashMap<String, u16> {
            ids.map.into_iter().map(|(id, (ix, _))| (id, ix)).collect()
        };
        Ok(Catalog {
            programs: program_list,
            agreements: agreement_list,
            profiles: profile_list,
            roles: role_list,
            offers: offer_list,
            requirements: requirement_list,
            workspaces: workspace_list,
            actions: action_list,
            vetting,
            gates,
            calendar,
            lookup: Lookup {
                programs: table(programs),
                agreements: table(agreements),
                profiles: table(profiles),
                roles: table(roles),
                offers: table(offers),
                requirements: table(requirements),
                workspaces: table(workspaces),
                actions: table(actions),
            },
            fingerprint: fnv1a(self.text),
        })
    }

    fn named<T>(
        &self,
        list: &[RawNamed],
        section: &str,
        make: impl Fn(String, String) -> T,
    ) -> Result<Vec<T>, CatalogError> {
        list.iter()
            .enumerate()
            .map(|(i, item)| {
                let name = self.non_empty(&item.name, format!("{section}[{i}].name"))?;
                Ok(make(item.id.get_ref().clone(), name))
            })
            .collect()
    }

    fn vetting(
        &self,
        raw: &Spanned<RawVetting>,
        roles: &Ids,
    ) -> Result<VettingRules, CatalogError> {
        let v = raw.get_ref();
        if *v.sla_business_days.get_ref() == 0 {
            return Err(self.error(
                v.sla_business_days.span(),
                "vetting.sla_business_days".to_string(),
                "the SLA must be at least one business day".to_string(),
            ));
        }
        if v.enroll_roles.get_ref().is_empty() {
            return Err(self.error(
                v.enroll_roles.span(),
                "vetting.enroll_roles".to_string(),
                "at least one role must be able to enroll".to_string(),
            ));
        }
        if v.owner_roles.get_ref().is_empty() {
            return Err(self.error(
                v.owner_roles.span(),
                "vetting.owner_roles".to_string(),
                "at least one role must own the tenant (its last holder is kept)".to_string(),
            ));
        }
        Ok(VettingRules {
            sla_business_days: *v.sla_business_days.get_ref(),
            max_appeals: *v.max_appeals.get_ref(),
            appeal_roles: self.resolve_set(
                roles,
                &v.appeal_roles,
                "vetting.appeal_roles",
                RoleIx,
            )?,
            enroll_roles: self.resolve_set(
                roles,
                v.enroll_roles.get_ref(),
                "vetting.enroll_roles",
                RoleIx,
            )?,
            owner_roles: self.resolve_set(
                roles,
                v.owner_roles.get_ref(),
                "vetting.owner_roles",
                RoleIx,
            )?,
        })
    }

    /// The `[gates]` table: every key of [`Gates::KEYS`] present, each an
    /// action id or `"off"`, and no other key.
    fn gates(
        &self,
        raw: Option<&Spanned<BTreeMap<String, Text>>>,
        actions: &Ids,
    ) -> Result<Gates, CatalogError> {
        let Some(raw) = raw else {
            let (key, gates) = Gates::KEYS[0];
            return Err(CatalogError {
                file: self.file.to_string(),
                line: 0,
                field: format!("gates.{key}"),
                message: format!(
                    "missing: the catalog has no [gates] table; name the action that gates {gates}, or \"off\" (and so for every gate: {})",
                    Gates::KEYS
                        .iter()
                        .map(|(key, _)| *key)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        };
        let table = raw.get_ref();
        if let Some((unknown, value)) = table
            .iter()
            .find(|(key, _)| !Gates::KEYS.iter().any(|(known, _)| known == key))
        {
            let known: Vec<&str> = Gates::KEYS.iter().map(|(key, _)| *key).collect();
            return Err(self.error(
                value.span(),
                format!("gates.{unknown}"),
                format!("unknown gate; expected one of {}", known.join(", ")),
            ));
        }
        Gates::build(|key, gates| {
            let value = table.get(key);
            let purpose = format!("the action that gates {gates}");
            self.switch(actions, value, (raw, format!("gates.{key}")), &purpose)
                .map(|ix| ix.map_or(Gate::Off, |ix| Gate::Action(ActionIx(ix))))
        })
    }

    /// An offer's `buy` or `renew`: an action id or `"off"`, required.
    fn offer_gate(
        &self,
        actions: &Ids,
        value: Option<&Text>,
        (item, field): (&Text, String),
    ) -> Result<Gate, CatalogError> {
        let verb = if field.ends_with(".buy") {
            "buys"
        } else {
            "renews"
        };
        let purpose = format!("the action that {verb} this offer");
        self.switch(actions, value, (item, field), &purpose)
            .map(|ix| ix.map_or(Gate::Off, |ix| Gate::Action(ActionIx(ix))))
    }

    /// A required reference that may be switched off: `Some` index of an id of
    /// `ids`, or `None` for `"off"`. A missing one is refused at the line of
    /// `item` (the table or the item that lacks it), saying what to name.
    fn switch<T>(
        &self,
        ids: &Ids,
        value: Option<&Text>,
        (item, field): (&Spanned<T>, String),
        purpose: &str,
    ) -> Result<Option<u16>, CatalogError> {
        let Some(value) = value else {
            return Err(self.error(
                item.span(),
                field,
                format!("missing: name {purpose}, or \"{}\"", Gate::OFF),
            ));
        };
        if value.get_ref() == Gate::OFF {
            return Ok(None);
        }
        self.resolve(ids, value, field)
            .map(Some)
            .map_err(|mut error| {
                error
                    .message
                    .push_str(&format!("; name {purpose}, or \"{}\"", Gate::OFF));
                error
            })
    }

    fn calendar(&self, raw: &RawCalendar) -> Result<BusinessCalendar, CatalogError> {
        let mut holidays = Vec::with_capacity(raw.holidays.len());
        for (i, day) in raw.holidays.iter().enumerate() {
            let date: Date = day.get_ref().parse().map_err(|_| {
                self.error(
                    day.span(),
                    format!("calendar.holidays[{i}]"),
                    format!("`{}` is not a date like 2026-12-25", day.get_ref()),
                )
            })?;
            holidays.push(date);
        }
        Ok(BusinessCalendar::new(holidays))
    }

    #[allow(clippy::too_many_arguments)]
    fn requirement(
        &self,
        i: usize,
        r: &RawRequirement,
        programs: &Ids,
        agreements: &Ids,
        profiles: &Ids,
        roles: &Ids,
        offers: &Ids,
    ) -> Result<Requirement, CatalogError> {
        let at = |name: &str| format!("requirement[{i}].{name}");
        let kind_name = r.kind.get_ref().as_str();
        let Some(&(_, wanted)) = KINDS.iter().find(|(k, _)| *k == kind_name) else {
            let known: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
            return Err(self.error(
                r.kind.span(),
                at("kind"),
                format!(
                    "unknown kind `{kind_name}`; expected one of {}",
                    known.join(", ")
                ),
            ));
        };
        // Every kind-specific field present, with its span.
        let present: [(&str, Option<std::ops::Range<usize>>); 7] = [
            ("roles", r.roles.as_ref().map(Spanned::span)),
            ("program", r.program.as_ref().map(Spanned::span)),
            ("statuses", r.statuses.as_ref().map(Spanned::span)),
            ("agreement", r.agreement.as_ref().map(Spanned::span)),
            ("profile", r.profile.as_ref().map(Spanned::span)),
            ("offer", r.offer.as_ref().map(Spanned::span)),
            ("min", r.min.as_ref().map(Spanned::span)),
        ];
        for (name, span) in &present {
            if let Some(span) = span
                && !wanted.contains(name)
            {
                return Err(self.error(
                    span.clone(),
                    at(name),
                    format!("`{name}` does not apply to kind `{kind_name}`"),
                ));
            }
        }
        for name in wanted {
            let given = present.iter().any(|(n, s)| n == name && s.is_some());
            if !given {
                return Err(self.error(
                    r.kind.span(),
                    at(name),
                    format!("kind `{kind_name}` needs `{name}`"),
                ));
            }
        }
        // The presence of each field is checked above, so these are Some.
        let program = || {
            let id = r.program.as_ref().expect("checked present");
            self.resolve(programs, id, at("program")).map(ProgramIx)
        };
        let offer = || {
            let id = r.offer.as_ref().expect("checked present");
            self.resolve(offers, id, at("offer")).map(OfferIx)
        };
        let role_set = |allow_empty: bool| {
            let list = r.roles.as_ref().expect("checked present");
            if !allow_empty && list.get_ref().is_empty() {
                return Err(self.error(
                    list.span(),
                    at("roles"),
                    format!("kind `{kind_name}` needs at least one role"),
                ));
            }
            self.resolve_set(roles, list.get_ref(), &at("roles"), RoleIx)
        };
        let kind = match kind_name {
            "any_role" => RequirementKind::AnyRole(role_set(false)?),
            "enrollment" => RequirementKind::Enrollment {
                program: program()?,
                statuses: self
                    .statuses(r, &at("statuses"), &EnrollmentStatus::ALL, |s| s.as_str())?,
            },
            "verification" => RequirementKind::Verification {
                program: program()?,
                statuses: self
                    .statuses(r, &at("statuses"), &VerificationStatus::ALL, |s| s.as_str())?,
            },
            "agreement" => RequirementKind::Agreement(AgreementIx(self.resolve(
                agreements,
                r.agreement.as_ref().expect("checked present"),
                at("agreement"),
            )?)),
            "profile" => RequirementKind::Profile(ProfileIx(self.resolve(
                profiles,
                r.profile.as_ref().expect("checked present"),
                at("profile"),
            )?)),
            "capability_score_at_least" => RequirementKind::CapabilityScoreAtLeast {
                min: *r.min.as_ref().expect("checked present").get_ref(),
            },
            "no_active_membership" => RequirementKind::NoActiveMembership(offer()?),
            "membership_in_renewal_window" => RequirementKind::MembershipInRenewalWindow(offer()?),
            "primary_contact_or_role" => RequirementKind::PrimaryContactOrRole(role_set(true)?),
            "appeals_left" => RequirementKind::AppealsLeft(program()?),
            _ => unreachable!("every name of KINDS is matched"),
        };

        let fixed = r.fixed_by.get_ref();
        let fixed_by = FixedBy {
            roles: self.resolve_set(roles, &fixed.roles, &at("fixed_by.roles"), RoleIx)?,
            primary_contact: fixed.primary_contact,
            support: fixed.support,
        };
        if fixed_by.roles.is_empty() && !fixed_by.primary_contact && !fixed_by.support {
            return Err(self.error(
                r.fixed_by.span(),
                at("fixed_by"),
                "name who can fix it: roles, primary_contact = true or support = true".to_string(),
            ));
        }
        let code = r.next_step.code.get_ref();
        if step_code(code).is_none() {
            return Err(self.error(
                r.next_step.code.span(),
                at("next_step.code"),
                format!("unknown next step code `{code}`"),
            ));
        }
        Ok(Requirement {
            id: r.id.get_ref().clone(),
            kind,
            reason: self.non_empty(&r.reason, at("reason"))?,
            fixed_by,
            next_step: NextStepRef {
                code: code.clone(),
                page: self.page(&r.next_step.page, at("next_step.page"))?,
            },
        })
    }

    fn statuses<S: Copy + PartialEq>(
        &self,
        r: &RawRequirement,
        field: &str,
        all: &[S],
        name: impl Fn(S) -> &'static str,
    ) -> Result<Vec<S>, CatalogError> {
        let list = r.statuses.as_ref().expect("checked present");
        if list.get_ref().is_empty() {
            return Err(self.error(
                list.span(),
                field.to_string(),
                "list at least one status".to_string(),
            ));
        }
        let mut statuses = Vec::with_capacity(list.get_ref().len());
        for (i, text) in list.get_ref().iter().enumerate() {
            let Some(&status) = all.iter().find(|s| name(**s) == text.get_ref()) else {
                let known: Vec<&str> = all.iter().map(|s| name(*s)).collect();
                return Err(self.error(
                    text.span(),
                    format!("{field}[{i}]"),
                    format!(
                        "unknown status `{}`; expected one of {}",
                        text.get_ref(),
                        known.join(", ")
                    ),
                ));
            };
            if statuses.contains(&status) {
                return Err(self.error(
                    text.span(),
                    format!("{field}[{i}]"),
                    format!("status `{}` is listed twice", text.get_ref()),
                ));
            }
            statuses.push(status);
        }
        Ok(statuses)
    }

    fn requirement_list(
        &self,
        requirements: &Ids,
        list: &[Text],
        field: &str,
    ) -> Result<Vec<RequirementIx>, CatalogError> {
        let mut out: Vec<RequirementIx> = Vec::with_capacity(list.len());
        for (i, id) in list.iter().enumerate() {
            let ix = RequirementIx(self.resolve(requirements, id, format!("{field}[{i}]"))?);
            if out.contains(&ix) {
                return Err(self.error(
                    id.span(),
                    format!("{field}[{i}]"),
                    format!("requirement `{}` is listed twice", id.get_ref()),
                ));
            }
            out.push(ix);
        }
        Ok(out)
    }

    fn check_parent_cycles(
        &self,
        raw: &[RawWorkspace],
        workspaces: &[Workspace],
    ) -> Result<(), CatalogError> {
        for (start, w) in workspaces.iter().enumerate() {
            let mut chain = vec![w.id.as_str()];
            let mut current = w.parent;
            while let Some(parent) = current {
                let p = &workspaces[parent.index()];
                chain.push(p.id.as_str());
                if parent.index() == start {
                    let span = raw[start]
                        .parent
                        .as_ref()
                        .expect("a workspace in a cycle has a parent")
                        .span();
                    return Err(self.error(
                        span,
                        format!("workspace[{start}].parent"),
                        format!("workspace parents form a cycle: {}", chain.join(" → ")),
                    ));
                }
                if chain.len() > workspaces.len() + 1 {
                    // A cycle further up that does not include `start`;
                    // reported when the loop reaches one of its members.
                    break;
                }
                current = p.parent;
            }
        }
        Ok(())
    }

    /// An action that requires enrollment in a program must also require each
    /// agreement the program requires: otherwise the catalog would open it
    /// without the agreement ("all required agreements must be accepted").
    fn check_program_agreements(
        &self,
        raw: &RawCatalog,
        programs: &[Program],
        requirements: &[Requirement],
        actions: &[Action],
    ) -> Result<(), CatalogError> {
        for (i, action) in actions.iter().enumerate() {
            let mut accepted: Set<AgreementIx> = Set::EMPTY;
            let mut needed: Set<AgreementIx> = Set::EMPTY;
            let mut program_of_need = None;
            for ix in &action.all_requirements {
                match &requirements[ix.index()].kind {
                    RequirementKind::Agreement(a) => accepted.insert(*a),
                    RequirementKind::Enrollment { program, .. } => {
                        let wants = programs[program.index()].agreements;
                        if !wants.is_subset(needed) {
                            program_of_need = Some(*program);
                        }
                        needed = needed.union(wants);
                    }
                    _ => {}
                }
            }
            if let Some(missing) = needed.difference(accepted).iter().next() {
                let program = program_of_need.expect("a needed agreement comes from a program");
                return Err(self.error(
                    raw.action[i].id.span(),
                    format!("action[{i}].requires"),
                    format!(
                        "action `{}` requires enrollment in `{}` but no requirement checks its agreement `{}`",
                        action.id,
                        programs[program.index()].id,
                        raw.agreement[missing.index()].id.get_ref(),
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The workspace chain's requirements (outermost first), then the action's
/// own; each once, first occurrence kept.
fn flatten(
    workspaces: &[Workspace],
    workspace: WorkspaceIx,
    own: &[RequirementIx],
) -> Vec<RequirementIx> {
    let mut chain = vec![workspace];
    let mut current = workspaces[workspace.index()].parent;
    while let Some(parent) = current {
        chain.push(parent);
        current = workspaces[parent.index()].parent;
    }
    let mut all: Vec<RequirementIx> = Vec::new();
    let lists = chain
        .iter()
        .rev()
        .map(|w| workspaces[w.index()].requires.as_slice())
        .chain(std::iter::once(own));
    for list in lists {
        for ix in list {
            if !all.contains(ix) {
                all.push(*ix);
            }
        }
    }
    all
}

/// Ids are what URLs, JSON and scenario files carry: keep them plain.
fn check_id(id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.' || c == '-'
        });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "id `{id}` must start with a lower-case letter and hold only a-z, 0-9, `_`, `-` or `.`"
        ))
    }
}

/// The diagnosis step a code names, if any.
fn step_code(code: &str) -> Option<StepCode> {
    code.parse().ok()
}
