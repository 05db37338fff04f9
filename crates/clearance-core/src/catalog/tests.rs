//! Loader tests: the default catalog, and every validation error with its
//! file, line and field.

use super::*;

/// A small valid catalog; tests replace one line of it to break it.
const MINI: &str = r#"[vetting]
sla_business_days = 5
max_appeals = 3
appeal_roles = ["admin"]
enroll_roles = ["admin"]
owner_roles = ["admin"]

[calendar]
holidays = ["2026-12-25"]

[[program]]
id = "main"
name = "Main program"
agreements = ["terms"]
home = "inner"

[[agreement]]
id = "terms"
name = "Terms"

[[profile]]
id = "payment"
name = "Payment profile"

[[role]]
id = "admin"
name = "Admin"

[[role]]
id = "buyer"
name = "Buyer"

[[offer]]
id = "basic"
name = "Basic"
program = "main"
renewal_window_days = 30
term_days = 365
buy = "inner.buy"
renew = "off"

[[requirement]]
id = "is_admin"
kind = "any_role"
roles = ["admin"]
reason = "Needs the admin role."
fixed_by = { roles = ["admin"] }
next_step = { code = "assign_role", page = "/users" }

[[requirement]]
id = "enrolled"
kind = "enrollment"
program = "main"
statuses = ["active"]
reason = "The enrollment is not active."
fixed_by = { support = true }
next_step = { code = "check_legal_info", page = "/account/legal-info" }

[[requirement]]
id = "terms_accepted"
kind = "agreement"
agreement = "terms"
reason = "The terms are not accepted."
fixed_by = { roles = ["admin"] }
next_step = { code = "accept_agreement", page = "/account/legal-info" }

[[requirement]]
id = "paid"
kind = "profile"
profile = "payment"
reason = "The payment profile is incomplete."
fixed_by = { roles = ["admin"], primary_contact = true }
next_step = { code = "complete_profile", page = "/account/profiles" }

[[workspace]]
id = "outer"
name = "Outer"
page = "/outer"
requires = ["is_admin"]

[[workspace]]
id = "inner"
name = "Inner"
page = "/inner"
parent = "outer"
requires = ["enrolled", "terms_accepted"]

[[action]]
id = "inner.buy"
name = "Buy"
workspace = "inner"
requires = ["paid", "is_admin"]

[gates]
manage_roles = "inner.buy"
add_user = "inner.buy"
remove_user = "inner.buy"
appeal = "off"
open_case = "off"
comment_case = "off"
view_cases = "off"
legal_info = "off"
verification = "off"
tenant_summary = "off"
view_users = "off"
audit_trail = "off"
other_users = "off"
membership_page = "off"
offers_page = "inner.buy"
"#;

fn mini() -> Catalog {
    Catalog::from_toml("mini.toml", MINI).expect("the test catalog is valid")
}

/// `MINI` with the first occurrence of `from` replaced by `to`.
fn broken(from: &str, to: &str) -> CatalogError {
    assert!(MINI.contains(from), "test fixture lacks {from:?}");
    let text = MINI.replacen(from, to, 1);
    Catalog::from_toml("mini.toml", &text).expect_err("the broken catalog must be refused")
}

fn line_of(needle: &str) -> usize {
    let at = MINI.find(needle).expect("needle in fixture");
    MINI[..at].lines().count() + usize::from(MINI[..at].ends_with('\n'))
}

#[track_caller]
fn assert_error(error: &CatalogError, line: usize, field: &str, message_part: &str) {
    assert_eq!(error.file, "mini.toml", "{error}");
    assert_eq!(error.line, line, "{error}");
    assert_eq!(error.field, field, "{error}");
    assert!(
        error.message.contains(message_part),
        "message {:?} lacks {message_part:?}",
        error.message
    );
}

#[test]
fn the_default_catalog_loads() {
    let catalog = Catalog::partner_center();
    for id in [
        "membership.view",
        "membership_offers.view",
        "membership_offers.buy",
        "membership_offers.renew",
        "users.view",
        "users.manage_roles",
        "legal_info.view",
        "verification.view",
        "verification.appeal",
        "referrals.view",
        "incentives.view",
        "support.open_case",
        "support.view_cases",
    ] {
        assert!(catalog.action_ix(id).is_some(), "missing action {id}");
    }
    for id in ["maicpp", "csp", "developer"] {
        assert!(catalog.program_ix(id).is_some(), "missing program {id}");
    }
    for id in [
        "global_admin",
        "account_admin",
        "user_management_admin",
        "maicpp_partner_admin",
        "referrals_admin",
        "incentives_admin",
    ] {
        assert!(catalog.role_ix(id).is_some(), "missing role {id}");
    }
    let csp = catalog.program(catalog.program_ix("csp").expect("csp"));
    let mpa = catalog.agreement_ix("mpa").expect("mpa");
    assert!(csp.agreements.contains(mpa));
    assert_eq!(catalog.vetting.sla_business_days, 5);
    assert_eq!(catalog.vetting.max_appeals, 3);
    let core = catalog
        .offer_ix("maicpp_core_benefits")
        .expect("core offer");
    assert_eq!(catalog.offer(core).renewal_window_days, 60);
    assert_eq!(catalog.offer(core).term_days, 365);
}

#[test]
fn lookups_return_the_item_with_that_id() {
    let catalog = Catalog::partner_center();
    for (i, action) in catalog.actions.iter().enumerate() {
        assert_eq!(catalog.action_ix(&action.id).map(ActionIx::index), Some(i));
    }
    for (i, requirement) in catalog.requirements.iter().enumerate() {
        let found = catalog.requirement_ix(&requirement.id);
        assert_eq!(found.map(RequirementIx::index), Some(i));
    }
    for (i, workspace) in catalog.workspaces.iter().enumerate() {
        assert_eq!(
            catalog.workspace_ix(&workspace.id).map(WorkspaceIx::index),
            Some(i)
        );
    }
    for (i, role) in catalog.roles.iter().enumerate() {
        assert_eq!(catalog.role_ix(&role.id).map(RoleIx::index), Some(i));
    }
    for (i, profile) in catalog.profiles.iter().enumerate() {
        assert_eq!(
            catalog.profile_ix(&profile.id).map(ProfileIx::index),
            Some(i)
        );
    }
    for (i, agreement) in catalog.agreements.iter().enumerate() {
        assert_eq!(
            catalog.agreement_ix(&agreement.id).map(AgreementIx::index),
            Some(i)
        );
    }
    for (i, offer) in catalog.offers.iter().enumerate() {
        assert_eq!(catalog.offer_ix(&offer.id).map(OfferIx::index), Some(i));
    }
    for (i, program) in catalog.programs.iter().enumerate() {
        assert_eq!(
            catalog.program_ix(&program.id).map(ProgramIx::index),
            Some(i)
        );
    }
    assert_eq!(catalog.action_ix("no.such_action"), None);
    assert_eq!(catalog.role_ix("Global_Admin"), None);
}

#[test]
fn the_seed_holidays_are_in_the_calendar() {
    let holidays = Catalog::partner_center().calendar.holidays();
    assert!(holidays.contains(&jiff::civil::date(2026, 11, 26)));
    assert!(holidays.contains(&jiff::civil::date(2027, 12, 24)));
    assert_eq!(holidays.len(), 23);
}

#[test]
fn all_requirements_are_the_chain_outermost_first_then_the_action_deduplicated() {
    let catalog = mini();
    let action = &catalog.actions[0];
    let ids: Vec<&str> = action
        .all_requirements
        .iter()
        .map(|ix| catalog.requirement(*ix).id.as_str())
        .collect();
    assert_eq!(ids, ["is_admin", "enrolled", "terms_accepted", "paid"]);
    assert_eq!(catalog.workspaces[1].actions, vec![ActionIx(0)]);
    assert!(catalog.workspaces[0].actions.is_empty());
}

#[test]
fn membership_offers_inherit_membership_requirements() {
    let catalog = Catalog::partner_center();
    let buy = catalog.action(catalog.action_ix("membership_offers.buy").expect("buy"));
    let ids: Vec<&str> = buy
        .all_requirements
        .iter()
        .map(|ix| catalog.requirement(*ix).id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "membership_role",
            "maicpp_enrollment_active",
            "maicpp_verification_authorized",
            "payment_profile_complete",
            "tax_profile_complete",
            "no_active_core_membership",
        ]
    );
}

#[test]
fn fingerprint_is_stable_and_follows_the_text() {
    let a = mini();
    let b = Catalog::from_toml("other-name.toml", MINI).expect("valid");
    assert_eq!(a.fingerprint(), b.fingerprint());
    // FNV-1a of the empty string and of "a": fixed values, whatever the platform.
    assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    let changed =
        Catalog::from_toml("mini.toml", &MINI.replace("Buyer", "Purchaser")).expect("still valid");
    assert_ne!(a.fingerprint(), changed.fingerprint());
}

#[test]
fn requirement_kind_names_round_trip_through_the_loader() {
    let catalog = Catalog::partner_center();
    let mut seen: Vec<&str> = catalog.requirements.iter().map(|r| r.kind.name()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen.len(),
        10,
        "the default catalog uses every kind: {seen:?}"
    );
}

#[test]
fn toml_syntax_error_names_line() {
    let error = broken("max_appeals = 3", "max_appeals = = 3");
    assert_eq!(error.line, 3, "{error}");
    assert_eq!(error.file, "mini.toml");
}

#[test]
fn unknown_top_level_section_is_refused() {
    let error = broken("[calendar]", "[calender]");
    assert_error(&error, 8, "calender", "unknown field `calender`");
}

#[test]
fn unknown_key_in_an_item_is_refused() {
    let error = broken("name = \"Buyer\"", "name = \"Buyer\"\ncolour = \"red\"");
    assert_error(
        &error,
        line_of("name = \"Buyer\"") + 1,
        "role[1].colour",
        "unknown field",
    );
}

#[test]
fn unknown_key_in_an_inline_table_is_refused() {
    let error = broken(
        "fixed_by = { support = true }",
        "fixed_by = { support = true, who = 1 }",
    );
    assert_error(
        &error,
        line_of("fixed_by = { support = true }"),
        "requirement[1].fixed_by.who",
        "unknown field",
    );
}

#[test]
fn wrong_type_names_the_field() {
    let error = broken("term_days = 365", "term_days = \"a year\"");
    assert_error(
        &error,
        line_of("term_days = 365"),
        "offer[0].term_days",
        "invalid type",
    );
}

#[test]
fn missing_field_is_named() {
    let error = broken("id = \"buyer\"\nname = \"Buyer\"", "id = \"buyer\"");
    assert_eq!(error.field, "role[1].name", "{error}");
    assert!(error.message.contains("missing field"), "{error}");
}

#[test]
fn duplicate_id_points_at_the_second_and_names_the_first() {
    let error = broken("id = \"buyer\"", "id = \"admin\"");
    assert_error(
        &error,
        line_of("id = \"buyer\""),
        "role[1].id",
        &format!(
            "duplicate role id `admin` (first defined on line {})",
            line_of("id = \"admin\"")
        ),
    );
}

#[test]
fn malformed_id_is_refused() {
    let error = broken("id = \"buyer\"", "id = \"Buyer Two\"");
    assert_error(
        &error,
        line_of("id = \"buyer\""),
        "role[1].id",
        "must start with",
    );
}

#[test]
fn unknown_reference_in_each_place_is_refused() {
    let cases = [
        (
            "appeal_roles = [\"admin\"]",
            "appeal_roles = [\"boss\"]",
            "vetting.appeal_roles[0]",
            "unknown role `boss`",
        ),
        (
            "agreements = [\"terms\"]",
            "agreements = [\"tos\"]",
            "program[0].agreements[0]",
            "unknown agreement `tos`",
        ),
        (
            "program = \"main\"\nrenewal",
            "program = \"side\"\nrenewal",
            "offer[0].program",
            "unknown program `side`",
        ),
        (
            "roles = [\"admin\"]\nreason",
            "roles = [\"root\"]\nreason",
            "requirement[0].roles[0]",
            "unknown role `root`",
        ),
        (
            "program = \"main\"\nstatuses",
            "program = \"side\"\nstatuses",
            "requirement[1].program",
            "unknown program `side`",
        ),
        (
            "agreement = \"terms\"",
            "agreement = \"tos\"",
            "requirement[2].agreement",
            "unknown agreement `tos`",
        ),
        (
            "profile = \"payment\"",
            "profile = \"tax\"",
            "requirement[3].profile",
            "unknown profile `tax`",
        ),
        (
            "fixed_by = { roles = [\"admin\"] }",
            "fixed_by = { roles = [\"root\"] }",
            "requirement[0].fixed_by.roles[0]",
            "unknown role `root`",
        ),
        (
            "parent = \"outer\"",
            "parent = \"outside\"",
            "workspace[1].parent",
            "unknown workspace `outside`",
        ),
        (
            "requires = [\"is_admin\"]",
            "requires = [\"is_boss\"]",
            "workspace[0].requires[0]",
            "unknown requirement `is_boss`",
        ),
        (
            "workspace = \"inner\"",
            "workspace = \"middle\"",
            "action[0].workspace",
            "unknown workspace `middle`",
        ),
        (
            "requires = [\"paid\", \"is_admin\"]",
            "requires = [\"paid\", \"rich\"]",
            "action[0].requires[1]",
            "unknown requirement `rich`",
        ),
    ];
    for (from, to, field, message) in cases {
        let error = broken(from, to);
        assert_error(&error, line_of(from), field, message);
    }
}

#[test]
fn workspace_parent_cycle_is_refused() {
    let text = MINI.replacen(
        "page = \"/outer\"\n",
        "page = \"/outer\"\nparent = \"inner\"\n",
        1,
    );
    let error = Catalog::from_toml("mini.toml", &text).expect_err("cycle");
    assert_eq!(error.field, "workspace[0].parent");
    assert_eq!(error.line, line_of("page = \"/outer\"") + 1);
    assert!(error.message.contains("outer → inner → outer"), "{error}");
}

#[test]
fn workspace_that_is_its_own_parent_is_refused() {
    let error = broken("parent = \"outer\"", "parent = \"inner\"");
    assert_error(
        &error,
        line_of("parent = \"outer\""),
        "workspace[1].parent",
        "inner → inner",
    );
}

#[test]
fn bad_status_name_is_refused_with_the_valid_ones() {
    let error = broken("statuses = [\"active\"]", "statuses = [\"activ\"]");
    assert_error(
        &error,
        line_of("statuses = [\"active\"]"),
        "requirement[1].statuses[0]",
        "unknown status `activ`; expected one of active, pending_qualification",
    );
}

#[test]
fn verification_statuses_are_checked_too() {
    let error = broken(
        "kind = \"enrollment\"\nprogram = \"main\"\nstatuses = [\"active\"]",
        "kind = \"verification\"\nprogram = \"main\"\nstatuses = [\"active\"]",
    );
    assert!(
        error
            .message
            .contains("unknown status `active`; expected one of not_started"),
        "{error}"
    );
    assert_eq!(error.field, "requirement[1].statuses[0]");
}

#[test]
fn empty_status_list_is_refused() {
    let error = broken("statuses = [\"active\"]", "statuses = []");
    assert_error(
        &error,
        line_of("statuses = [\"active\"]"),
        "requirement[1].statuses",
        "at least one status",
    );
}

#[test]
fn more_than_64_roles_is_refused() {
    let mut text = MINI.to_string();
    for i in 0..63 {
        text.push_str(&format!(
            "\n[[role]]\nid = \"extra_{i}\"\nname = \"Extra {i}\"\n"
        ));
    }
    let error = Catalog::from_toml("mini.toml", &text).expect_err("65 roles");
    assert_eq!(error.field, "role[64].id");
    assert!(error.message.contains("at most 64"), "{error}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[error.line - 1], "id = \"extra_62\"");
}

#[test]
fn exactly_64_programs_is_fine_and_65_is_not() {
    let mut text = MINI.to_string();
    for i in 0..63 {
        text.push_str(&format!(
            "\n[[program]]\nid = \"p{i}\"\nname = \"P{i}\"\nhome = \"off\"\n"
        ));
    }
    assert_eq!(
        Catalog::from_toml("mini.toml", &text)
            .expect("64 programs")
            .programs
            .len(),
        64
    );
    text.push_str("\n[[program]]\nid = \"p63\"\nname = \"P63\"\nhome = \"off\"\n");
    let error = Catalog::from_toml("mini.toml", &text).expect_err("65 programs");
    assert_eq!(error.field, "program[64].id");
    assert!(error.message.contains("too many programs"), "{error}");
}

#[test]
fn more_than_64_agreements_and_profiles_are_refused() {
    for (section, existing) in [("agreement", 1), ("profile", 1)] {
        let mut text = MINI.to_string();
        for i in 0..(65 - existing) {
            text.push_str(&format!(
                "\n[[{section}]]\nid = \"x{i}\"\nname = \"X{i}\"\n"
            ));
        }
        let error = Catalog::from_toml("mini.toml", &text).expect_err("65 items");
        assert_eq!(error.field, format!("{section}[64].id"));
    }
}

#[test]
fn empty_role_list_is_refused() {
    let error = broken("roles = [\"admin\"]\nreason", "roles = []\nreason");
    assert_error(
        &error,
        line_of("roles = [\"admin\"]\nreason"),
        "requirement[0].roles",
        "at least one role",
    );
    let error = broken("enroll_roles = [\"admin\"]", "enroll_roles = []");
    assert_error(&error, 5, "vetting.enroll_roles", "at least one role");
}

#[test]
fn primary_contact_or_role_may_list_no_role() {
    let text = MINI.replacen(
        "kind = \"any_role\"\nroles = [\"admin\"]",
        "kind = \"primary_contact_or_role\"\nroles = []",
        1,
    );
    let catalog = Catalog::from_toml("mini.toml", &text).expect("primary contact only");
    assert_eq!(
        catalog.requirements[0].kind,
        RequirementKind::PrimaryContactOrRole(Set::EMPTY)
    );
}

#[test]
fn unknown_kind_is_refused() {
    let error = broken("kind = \"any_role\"", "kind = \"some_role\"");
    assert_error(
        &error,
        line_of("kind = \"any_role\""),
        "requirement[0].kind",
        "unknown kind `some_role`",
    );
}

#[test]
fn a_kind_with_a_missing_field_is_refused() {
    let error = broken(
        "program = \"main\"\nstatuses = [\"active\"]\n",
        "program = \"main\"\n",
    );
    assert_error(
        &error,
        line_of("kind = \"enrollment\""),
        "requirement[1].statuses",
        "kind `enrollment` needs `statuses`",
    );
}

#[test]
fn a_kind_with_an_extra_field_is_refused() {
    let error = broken("agreement = \"terms\"", "agreement = \"terms\"\nmin = 3");
    assert_error(
        &error,
        line_of("agreement = \"terms\"") + 1,
        "requirement[2].min",
        "`min` does not apply to kind `agreement`",
    );
}

#[test]
fn unknown_next_step_code_is_refused() {
    let error = broken("code = \"assign_role\"", "code = \"call_mum\"");
    assert_error(
        &error,
        line_of("code = \"assign_role\""),
        "requirement[0].next_step.code",
        "unknown next step code `call_mum`",
    );
}

#[test]
fn page_must_be_a_path() {
    let error = broken("page = \"/inner\"", "page = \"inner page\"");
    assert_error(
        &error,
        line_of("page = \"/inner\""),
        "workspace[1].page",
        "must be a portal path",
    );
}

#[test]
fn nobody_to_fix_is_refused() {
    let error = broken("fixed_by = { support = true }", "fixed_by = {}");
    assert_error(
        &error,
        line_of("fixed_by = { support = true }"),
        "requirement[1].fixed_by",
        "name who can fix it",
    );
}

#[test]
fn empty_reason_is_refused() {
    let error = broken("reason = \"Needs the admin role.\"", "reason = \"  \"");
    assert_error(
        &error,
        line_of("reason = \"Needs the admin role.\""),
        "requirement[0].reason",
        "must not be empty",
    );
}

#[test]
fn bad_holiday_is_refused() {
    let error = broken(
        "holidays = [\"2026-12-25\"]",
        "holidays = [\"2026-12-25\", \"2026-13-01\"]",
    );
    assert_error(
        &error,
        9,
        "calendar.holidays[1]",
        "`2026-13-01` is not a date",
    );
}

#[test]
fn renewal_window_longer_than_the_term_is_refused() {
    let error = broken("renewal_window_days = 30", "renewal_window_days = 400");
    assert_error(
        &error,
        line_of("renewal_window_days = 30"),
        "offer[0].renewal_window_days",
        "longer than the term",
    );
}

#[test]
fn zero_sla_is_refused() {
    let error = broken("sla_business_days = 5", "sla_business_days = 0");
    assert_error(
        &error,
        2,
        "vetting.sla_business_days",
        "at least one business day",
    );
}

#[test]
fn requirement_listed_twice_in_one_list_is_refused() {
    let error = broken(
        "requires = [\"paid\", \"is_admin\"]",
        "requires = [\"paid\", \"paid\"]",
    );
    assert_error(
        &error,
        line_of("requires = [\"paid\", \"is_admin\"]"),
        "action[0].requires[1]",
        "listed twice",
    );
}

#[test]
fn enrollment_without_the_programs_agreement_is_refused() {
    let error = broken(
        "requires = [\"enrolled\", \"terms_accepted\"]",
        "requires = [\"enrolled\"]",
    );
    assert_error(
        &error,
        line_of("id = \"inner.buy\""),
        "action[0].requires",
        "requires enrollment in `main` but no requirement checks its agreement `terms`",
    );
}

#[test]
fn error_display_is_file_line_field_message() {
    let error = broken("term_days = 365", "term_days = 0");
    assert_eq!(
        error.to_string(),
        format!(
            "mini.toml:{}: offer[0].term_days: a membership term must be at least one day",
            line_of("term_days = 365")
        )
    );
}

#[test]
fn a_missing_gate_is_refused_at_the_gates_table_naming_what_it_gates() {
    let error = broken("manage_roles = \"inner.buy\"\n", "");
    assert_error(
        &error,
        line_of("[gates]"),
        "gates.manage_roles",
        "missing: name the action that gates role changes, or \"off\"",
    );
    assert_eq!(
        error.to_string(),
        format!(
            "mini.toml:{}: gates.manage_roles: missing: name the action that gates role changes, or \"off\"",
            line_of("[gates]")
        )
    );
}

#[test]
fn every_gate_key_is_required() {
    for (key, gates) in Gates::KEYS {
        let line = MINI
            .lines()
            .find(|line| line.starts_with(&format!("{key} = ")))
            .expect("MINI sets every gate");
        let error = broken(&format!("{line}\n"), "");
        assert_error(
            &error,
            line_of("[gates]"),
            &format!("gates.{key}"),
            &format!("name the action that gates {gates}, or \"off\""),
        );
    }
}

#[test]
fn a_catalog_without_a_gates_table_is_refused() {
    let text = &MINI[..MINI.find("[gates]").expect("MINI has gates")];
    let error = Catalog::from_toml("mini.toml", text).expect_err("no [gates]");
    assert_eq!(error.field, "gates.manage_roles");
    assert!(error.message.contains("no [gates] table"), "{error}");
}

#[test]
fn a_gate_naming_an_unknown_action_is_refused_with_its_purpose() {
    let error = broken("appeal = \"off\"", "appeal = \"inner.appeal\"");
    assert_error(
        &error,
        line_of("appeal = \"off\""),
        "gates.appeal",
        "unknown action `inner.appeal`; name the action that gates appeals, or \"off\"",
    );
}

#[test]
fn an_unknown_gate_key_is_refused_with_the_known_ones() {
    let error = broken("appeal = \"off\"", "appeal = \"off\"\nappeals = \"off\"");
    assert_error(
        &error,
        line_of("appeal = \"off\"") + 1,
        "gates.appeals",
        "unknown gate; expected one of manage_roles, add_user, remove_user, appeal,",
    );
}

#[test]
fn gates_resolve_to_actions_or_off() {
    let catalog = mini();
    let buy = Gate::Action(catalog.action_ix("inner.buy").expect("buy"));
    assert_eq!(catalog.gates.manage_roles, buy);
    assert_eq!(catalog.gates.appeal, Gate::Off);
    assert_eq!(catalog.gates.appeal.action(), None);
    let basic = &catalog.offers[0];
    assert_eq!((basic.buy, basic.renew), (buy, Gate::Off));
    assert_eq!(catalog.programs[0].home, catalog.workspace_ix("inner"));
    assert!(catalog.is_purchase(catalog.action_ix("inner.buy").expect("buy")));
}

#[test]
fn an_offer_without_buy_or_renew_is_refused_at_its_line() {
    let error = broken("buy = \"inner.buy\"\n", "");
    assert_error(
        &error,
        line_of("id = \"basic\""),
        "offer[0].buy",
        "missing: name the action that buys this offer, or \"off\"",
    );
    let error = broken("renew = \"off\"\n", "");
    assert_error(
        &error,
        line_of("id = \"basic\""),
        "offer[0].renew",
        "missing: name the action that renews this offer, or \"off\"",
    );
    let error = broken("buy = \"inner.buy\"", "buy = \"inner.sell\"");
    assert_error(
        &error,
        line_of("buy = \"inner.buy\""),
        "offer[0].buy",
        "unknown action `inner.sell`",
    );
}

#[test]
fn a_program_without_a_home_is_refused_at_its_line() {
    let error = broken("home = \"inner\"\n", "");
    assert_error(
        &error,
        line_of("id = \"main\""),
        "program[0].home",
        "missing: name the workspace a partner lands on for this program, or \"off\"",
    );
    let error = broken("home = \"inner\"", "home = \"innermost\"");
    assert_error(
        &error,
        line_of("home = \"inner\""),
        "program[0].home",
        "unknown workspace `innermost`",
    );
    let off = Catalog::from_toml(
        "mini.toml",
        &MINI.replace("home = \"inner\"", "home = \"off\""),
    )
    .expect("home may be off");
    assert_eq!(off.programs[0].home, None);
}

#[test]
fn off_is_not_an_action_or_workspace_id() {
    let error = broken("id = \"inner.buy\"", "id = \"off\"");
    assert_error(
        &error,
        line_of("id = \"inner.buy\""),
        "action[0].id",
        "id `off` is reserved",
    );
}

#[test]
fn the_default_catalog_names_every_gate() {
    let catalog = Catalog::partner_center();
    let id = |gate: Gate| catalog.gate_id(gate);
    let gates = catalog.gates;
    assert_eq!(
        catalog
            .gates
            .all()
            .into_iter()
            .map(|(key, gate)| (key, id(gate)))
            .collect::<Vec<_>>(),
        [
            ("manage_roles", "users.manage_roles"),
            ("add_user", "users.manage_roles"),
            ("remove_user", "users.manage_roles"),
            ("appeal", "verification.appeal"),
            ("open_case", "support.open_case"),
            ("comment_case", "support.view_cases"),
            ("view_cases", "support.view_cases"),
            ("legal_info", "legal_info.view"),
            ("verification", "verification.view"),
            ("tenant_summary", "legal_info.view"),
            ("view_users", "users.view"),
            ("audit_trail", "legal_info.view"),
            ("other_users", "users.view"),
            ("membership_page", "membership.view"),
            ("offers_page", "membership_offers.view"),
        ]
    );
    assert!(gates.all().iter().all(|(_, gate)| *gate != Gate::Off));
    let offers: Vec<(&str, &str, &str)> = catalog
        .offers
        .iter()
        .map(|o| (o.id.as_str(), id(o.buy), id(o.renew)))
        .collect();
    assert_eq!(
        offers,
        [
            (
                "maicpp_core_benefits",
                "membership_offers.buy",
                "membership_offers.renew"
            ),
            (
                "maicpp_expanded_benefits",
                "membership_offers.buy_expanded",
                "off"
            ),
        ]
    );
    let homes: Vec<Option<&str>> = catalog
        .programs
        .iter()
        .map(|p| p.home.map(|w| catalog.workspace(w).id.as_str()))
        .collect();
    assert_eq!(
        homes,
        [
            Some("membership"),
            Some("customers"),
            Some("marketplace_offers")
        ]
    );
}
