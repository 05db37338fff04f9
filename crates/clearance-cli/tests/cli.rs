//! Drives the `clearance` binary over the example scenarios: output, JSON
//! shape and exit codes (0 allowed, 1 denied, 2 bad input).

use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn clearance(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_clearance"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("the clearance binary runs");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const SEED: &str = "scenarios/01-seed-pending-past-sla.toml";

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clearance-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write scratch file");
    path
}

#[test]
fn seed_membership_is_denied_with_both_reasons() {
    let run = clearance(&["check", "--scenario", SEED, "--action", "membership.view"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn seed_buy_as_json() {
    let run = clearance(&[
        "check",
        "--scenario",
        SEED,
        "--action",
        "membership_offers.buy",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(json["action"], "membership_offers.buy");
    assert_eq!(json["allowed"], false);
    let requirements: Vec<&str> = json["unmet"]
        .as_array()
        .expect("unmet list")
        .iter()
        .map(|u| u["requirement"].as_str().expect("id"))
        .collect();
    assert_eq!(
        requirements,
        [
            "maicpp_enrollment_active",
            "maicpp_verification_authorized",
            "payment_profile_complete"
        ]
    );
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn authorized_tenant_buy_is_disabled_only_by_the_payment_profile() {
    let run = clearance(&[
        "check",
        "--scenario",
        "scenarios/02-authorized-buy-disabled.toml",
        "--action",
        "membership_offers.buy",
    ]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn allowed_prints_a_tick_and_exits_0() {
    let run = clearance(&[
        "check",
        "--scenario",
        "scenarios/06-healthy.toml",
        "--action",
        "membership_offers.renew",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "{\n  \"action\": \"membership_offers.renew\",\n  \"allowed\": true,\n  \"unmet\": []\n}\n"
    );
    let run = clearance(&[
        "check",
        "--scenario",
        "scenarios/06-healthy.toml",
        "--action",
        "membership.view",
    ]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "✔ membership.view (View Membership): allowed\n");
}

/// Every example scenario against the actions the seed talks about.
#[test]
fn scenario_matrix() {
    let actions = [
        "legal_info.view",
        "membership.view",
        "membership_offers.buy",
        "membership_offers.renew",
        "users.manage_roles",
        "verification.appeal",
        "support.open_case",
    ];
    let mut files: Vec<String> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    let mut table = String::new();
    for file in &files {
        table.push_str(&format!("{file}\n"));
        for action in actions {
            let path = format!("scenarios/{file}");
            let run = clearance(&["check", "--scenario", &path, "--action", action, "--json"]);
            assert!(
                run.code == 0 || run.code == 1,
                "{file} {action}: {}",
                run.stderr
            );
            let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
            assert_eq!(
                json["allowed"] == true,
                run.code == 0,
                "exit code follows allowed"
            );
            let unmet: Vec<&str> = json["unmet"]
                .as_array()
                .expect("unmet")
                .iter()
                .map(|u| u["requirement"].as_str().expect("id"))
                .collect();
            let verdict = if run.code == 0 { "allowed" } else { "denied " };
            let line = format!("  {verdict} {action:<24} {}", unmet.join(", "));
            table.push_str(line.trim_end());
            table.push('\n');
        }
    }
    insta::assert_snapshot!(table);
}

#[test]
fn unknown_action_is_bad_input() {
    let run = clearance(&["check", "--scenario", SEED, "--action", "membership.buy"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: --action: unknown action `membership.buy` (`clearance catalog show` lists them)\n"
    );
}

#[test]
fn missing_scenario_file_is_bad_input() {
    let run = clearance(&[
        "check",
        "--scenario",
        "scenarios/none.toml",
        "--action",
        "membership.view",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: cannot read the scenario file scenarios/none.toml"),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_scenario_names_file_line_and_key() {
    let text = std::fs::read_to_string(repo().join(SEED)).expect("seed");
    let path = scratch(
        "bad-country.toml",
        &text.replace("country = \"US\"", "country = \"usa\""),
    );
    let run = clearance(&[
        "check",
        "--scenario",
        path.to_str().expect("utf-8"),
        "--action",
        "membership.view",
    ]);
    assert_eq!(run.code, 2);
    let line = text
        .lines()
        .position(|l| l.starts_with("country"))
        .expect("country line")
        + 1;
    assert_eq!(
        run.stderr,
        format!(
            "error: {}:{line}: tenant.country: `usa` is not an ISO 3166 alpha-2 code: two upper-case letters, such as \"US\"\n",
            path.display()
        )
    );

    let path = scratch(
        "bad-status.toml",
        &text.replace("\"pending_qualification\"", "\"qualifying\""),
    );
    let run = clearance(&["diagnose", "--scenario", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(": tenant.programs.maicpp.enrollment: unknown variant `qualifying`"),
        "{}",
        run.stderr
    );
}

#[test]
fn help_never_prints_the_database_password_from_the_environment() {
    for command in ["serve", "gen"] {
        let output = Command::new(env!("CARGO_BIN_EXE_clearance"))
            .args([command, "--help"])
            .env(
                "CLEARANCE_DATABASE",
                "postgres://app:S3cretPassw0rd@db.internal/clearance",
            )
            .output()
            .expect("the clearance binary runs");
        assert!(output.status.success(), "{command} --help");
        let help = String::from_utf8(output.stdout).expect("utf-8 stdout");
        assert!(help.contains("[env: CLEARANCE_DATABASE]"), "{help}");
        assert!(!help.contains("S3cretPassw0rd"), "{help}");
        assert!(!help.contains("db.internal"), "{help}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let run = clearance(&["check", "--action", "membership.view"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--scenario <FILE>"), "{}", run.stderr);
}

#[test]
fn catalog_validate_the_default() {
    let run = clearance(&["catalog", "validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("✔ embedded catalog/partner-center.toml is valid: 3 programs"),
        "{}",
        run.stdout
    );
    let run = clearance(&["catalog", "validate", "catalog/partner-center.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("✔ catalog/partner-center.toml is valid"),
        "{}",
        run.stdout
    );
}

#[test]
fn catalog_validate_reports_file_line_and_field() {
    let text =
        std::fs::read_to_string(repo().join("catalog/partner-center.toml")).expect("catalog");
    let broken = text.replacen(
        "parent = \"membership\"",
        "parent = \"membership_offers\"",
        1,
    );
    let path = scratch("cycle.toml", &broken);
    let run = clearance(&["catalog", "validate", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    let line = broken
        .lines()
        .position(|l| l == "parent = \"membership_offers\"")
        .expect("line")
        + 1;
    assert!(
        run.stderr.starts_with(&format!(
            "error: {}:{line}: workspace[3].parent: workspace parents form a cycle",
            path.display()
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn another_catalog_can_be_used() {
    let catalog = r#"
[vetting]
sla_business_days = 3
max_appeals = 1
enroll_roles = ["owner"]
owner_roles = ["owner"]

[[role]]
id = "owner"
name = "Owner"

[[requirement]]
id = "is_owner"
kind = "any_role"
roles = ["owner"]
reason = "Only the owner may open the vault."
fixed_by = { support = true }
next_step = { code = "contact_support", page = "/support" }

[[workspace]]
id = "vault"
name = "Vault"
page = "/vault"
requires = ["is_owner"]

[[action]]
id = "vault.open"
name = "Open the vault"
workspace = "vault"
"#;
    // Every gate off: a vault has no users page, cases or offers.
    let gates: String = clearance_core::catalog::Gates::KEYS
        .iter()
        .map(|(key, _)| format!("{key} = \"off\"\n"))
        .collect();
    let catalog_path = scratch("vault.toml", &format!("{catalog}\n[gates]\n{gates}"));
    let scenario = "now = \"2026-11-24T10:00:00Z\"\n[tenant]\nid = \"t\"\ncountry = \"NL\"\n[user]\nid = \"u\"\nroles = [\"owner\"]\n";
    let scenario_path = scratch("vault-scenario.toml", scenario);
    let catalog_arg = catalog_path.to_str().expect("utf-8");
    let scenario_arg = scenario_path.to_str().expect("utf-8");
    let run = clearance(&[
        "--catalog",
        catalog_arg,
        "check",
        "--scenario",
        scenario_arg,
        "--action",
        "vault.open",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "✔ vault.open (Open the vault): allowed\n");
    // The default catalog's ids are unknown to it.
    let run = clearance(&[
        "--catalog",
        catalog_arg,
        "check",
        "--scenario",
        SEED,
        "--action",
        "vault.open",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown profile `tax`"),
        "{}",
        run.stderr
    );
    let run = clearance(&["--catalog", catalog_arg, "catalog", "show", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(json["actions"][0]["id"], "vault.open");
    assert_eq!(json["vetting"]["max_appeals"], 1);
}

#[test]
fn catalog_show_lists_workspaces_actions_and_requirements() {
    let run = clearance(&["catalog", "show"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!(run.stdout);
    let run = clearance(&["catalog", "show", "--json"]);
    assert_eq!(run.code, 0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(json["programs"].as_array().expect("programs").len(), 3);
    assert!(
        json["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .any(|a| a["id"] == "users.manage_roles")
    );
}

#[test]
fn seed_diagnosis_is_legal_info_verification_summary_then_support() {
    let run = clearance(&["diagnose", "--scenario", SEED]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
    let run = clearance(&["diagnose", "--scenario", SEED, "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let object = json.as_object().expect("an object");
    // Sorted: serde_json keeps insertion order when a workspace build unifies
    // its `preserve_order` feature in, and sorts keys otherwise.
    let mut keys: Vec<&String> = object.keys().collect();
    keys.sort();
    assert_eq!(keys, ["cause", "findings", "steps"]);
    let codes: Vec<&str> = json["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|step| {
            let keys: Vec<&String> = step.as_object().expect("step object").keys().collect();
            assert_eq!(keys, ["code", "text"]);
            step["code"].as_str().expect("code")
        })
        .collect();
    assert_eq!(
        codes,
        [
            "check_legal_info",
            "review_verification_summary",
            "contact_support"
        ]
    );
}

/// The step codes each example scenario's diagnosis gives.
#[test]
fn diagnosis_codes_of_every_scenario() {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".toml"))
        .collect();
    files.sort();
    let mut table = String::new();
    for file in &files {
        let run = clearance(&[
            "diagnose",
            "--scenario",
            &format!("scenarios/{file}"),
            "--json",
        ]);
        assert_eq!(run.code, 0, "{file}: {}", run.stderr);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
        let codes: Vec<&str> = json["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|step| step["code"].as_str().expect("code"))
            .collect();
        let line = format!("{file}: {}", codes.join(", "));
        table.push_str(line.trim_end());
        table.push('\n');
    }
    insta::assert_snapshot!(table);
}

/// `clearance diagnose --json` prints the API's `DiagnosisView` (the type
/// `GET /v1/tenants/{t}/diagnosis` returns, built by the same
/// `DiagnosisView::new`): for the seed the findings are equal, with ids and
/// ISO dates, never indices.
#[test]
fn seed_diagnosis_json_carries_the_apis_findings() {
    let run = clearance(&["diagnose", "--scenario", SEED, "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: clearance_server::views::DiagnosisView =
        serde_json::from_str(&run.stdout).expect("the API's DiagnosisView");
    let catalog = clearance_core::Catalog::partner_center();
    let text = std::fs::read_to_string(repo().join(SEED)).expect("seed scenario");
    let seed = clearance_core::Scenario::from_toml(catalog, SEED, &text).expect("seed parses");
    let diagnosis = clearance_core::diagnose(catalog, &seed.tenant, &seed.user, seed.now);
    let api = clearance_server::views::DiagnosisView::new(catalog, &diagnosis);
    assert_eq!(printed, api);
    let findings = serde_json::to_value(&api.findings).expect("JSON");
    assert_eq!(
        findings,
        serde_json::json!([
            {
                "code": "check_legal_info",
                "program": "maicpp",
                "enrollment_status": "pending_qualification",
                "verification_status": "pending"
            },
            {
                "code": "review_verification_summary",
                "program": "maicpp",
                "situation": "waiting",
                "verification_status": "pending",
                "submitted_at": "2026-11-12T09:00:00Z",
                "sla_business_days": 5
            },
            {
                "code": "contact_support",
                "program": "maicpp",
                "situation": "past_sla",
                "verification_status": "pending",
                "submitted_at": "2026-11-12T09:00:00Z",
                "sla_business_days": 5,
                "business_days_elapsed": 8,
                "due": "2026-11-19",
                "banner": false
            }
        ])
    );
}

/// The default catalog's text.
fn default_catalog() -> String {
    std::fs::read_to_string(repo().join("catalog/partner-center.toml")).expect("catalog")
}

/// `text` without the `[[action]]` table whose id is `id`.
fn without_action(text: &str, id: &str) -> String {
    let start = text
        .find(&format!("[[action]]\nid = \"{id}\"\n"))
        .expect("the action is in the catalog");
    let end = text[start + 1..]
        .find("\n[[")
        .map_or(text.len(), |at| start + 1 + at + 1);
    format!("{}{}", &text[..start], &text[end..])
}

/// 1-based line of the first line of `text` equal to `line`.
fn line_number(text: &str, line: &str) -> usize {
    text.lines().position(|l| l == line).expect("line in text") + 1
}

/// Runs `clearance` with a deadline, so a server that starts (it must not)
/// fails the test instead of hanging it.
fn clearance_before_deadline(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clearance"))
        .args(args)
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the clearance binary runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
            child.kill().expect("kill the server");
            panic!("`clearance {}` kept running", args.join(" "));
        }
        std::thread::park_timeout(std::time::Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}

/// F5: a catalog without the action of a gate used to load, and the workflow
/// then let everyone through. Now `catalog validate` and `serve` refuse it,
/// naming the file, the line and the gate; so too when the gate's key is gone.
#[test]
fn a_catalog_without_a_gates_action_is_refused_by_validate_and_serve() {
    let text = default_catalog();
    for (action, gate, gates) in [
        ("users.manage_roles", "manage_roles", "role changes"),
        ("verification.appeal", "appeal", "appeals"),
        (
            "support.open_case",
            "open_case",
            "opening and escalating support cases",
        ),
    ] {
        let broken = without_action(&text, action);
        assert!(!broken.contains(&format!("id = \"{action}\"")));
        let path = scratch(&format!("without-{gate}.toml"), &broken);
        let file = path.to_str().expect("utf-8");
        let line = line_number(&broken, &format!("{gate} = \"{action}\""));
        let expected = format!(
            "error: {file}:{line}: gates.{gate}: unknown action `{action}`; name the action that gates {gates}, or \"off\""
        );
        let run = clearance(&["catalog", "validate", file]);
        assert_eq!(run.code, 2, "{}", run.stdout);
        assert_eq!(run.stdout, "");
        assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
        let data = std::env::temp_dir().join(format!(
            "clearance-cli-tests-{}-serve-{gate}",
            std::process::id()
        ));
        let run = clearance_before_deadline(&[
            "serve",
            "--catalog",
            file,
            "--data-dir",
            data.to_str().expect("utf-8"),
            "--listen",
            "127.0.0.1:0",
        ]);
        assert_eq!(run.code, 2, "{}", run.stdout);
        assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
        assert!(!data.exists(), "serve created its store before refusing");

        // Without the gate's key as well: the gate is missing, at the table.
        let gate_line = format!("{gate} = \"{action}\"\n");
        let missing = broken.replacen(&gate_line, "", 1);
        let path = scratch(&format!("missing-{gate}.toml"), &missing);
        let file = path.to_str().expect("utf-8");
        let run = clearance(&["catalog", "validate", file]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.starts_with(&format!(
                "error: {file}:{}: gates.{gate}: missing: name the action that gates {gates}, or \"off\"",
                line_number(&missing, "[gates]")
            )),
            "{}",
            run.stderr
        );
    }
}

/// Turning a gate off is accepted, and visible in `catalog show`.
#[test]
fn a_gate_turned_off_is_accepted_and_shown() {
    let text = without_action(&default_catalog(), "users.manage_roles")
        .replacen(
            "manage_roles = \"users.manage_roles\"",
            "manage_roles = \"off\"",
            1,
        )
        .replacen("add_user = \"users.manage_roles\"", "add_user = \"off\"", 1)
        .replacen(
            "remove_user = \"users.manage_roles\"",
            "remove_user = \"off\"",
            1,
        );
    let path = scratch("roles-off.toml", &text);
    let file = path.to_str().expect("utf-8");
    let run = clearance(&["catalog", "validate", file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(", 15 gates (3 off) "), "{}", run.stdout);

    let run = clearance(&["--catalog", file, "catalog", "show"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("\nGates (off: manage_roles, add_user, remove_user):\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\n  manage_roles     off                      role changes\n"),
        "{}",
        run.stdout
    );

    let run = clearance(&["--catalog", file, "catalog", "show", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let gates = json["gates"].as_array().expect("gates");
    assert_eq!(gates.len(), 15);
    let off: Vec<&str> = gates
        .iter()
        .filter(|g| g["off"] == true)
        .map(|g| g["gate"].as_str().expect("key"))
        .collect();
    assert_eq!(off, ["manage_roles", "add_user", "remove_user"]);
    assert_eq!(gates[0]["action"], "off");
    assert_eq!(gates[3]["action"], "verification.appeal");
    assert_eq!(json["offers"][1]["renew"], "off");
    assert_eq!(json["programs"][0]["home"], "membership");
}

/// F4: the demo's tokens and passwords act as staff and tenant admins, so
/// `--demo` is refused on an address other machines reach unless asked for by
/// name, before any store is created; `serve --help` names that flag.
#[test]
fn demo_off_loopback_is_refused_unless_asked_for() {
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let data = std::env::temp_dir().join(format!(
            "clearance-cli-tests-{}-demo-public",
            std::process::id()
        ));
        let run = clearance_before_deadline(&[
            "serve",
            "--demo",
            "--data-dir",
            data.to_str().expect("utf-8"),
            "--listen",
            listen,
        ]);
        assert_eq!(run.code, 2, "{}", run.stdout);
        assert!(
            run.stderr.starts_with(&format!(
                "error: --demo is refused on --listen {listen}: it is not a loopback address"
            )),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("--demo-on-public-address"),
            "{}",
            run.stderr
        );
        assert!(!data.exists(), "serve created its store before refusing");
    }
    let help = clearance(&["serve", "--help"]);
    assert_eq!(help.code, 0);
    assert!(
        help.stdout.contains("--demo-on-public-address"),
        "{}",
        help.stdout
    );
}

#[test]
fn a_bad_single_sign_on_configuration_stops_serve_naming_the_issuer_and_the_field() {
    let dir = std::env::temp_dir().join(format!("clearance-cli-tests-{}-oidc", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let config = dir.join("sso.toml");
    std::fs::write(
        &config,
        "[[issuer]]\nname = \"entra\"\nurl = \"https://login.example/v2.0\"\nclient_id = \"c\"\n\
         client_secret_env = \"CLEARANCE_TEST_UNSET_SECRET\"\naudience = \"partner\"\n\
         tenant_claim = \"tenant\"\n",
    )
    .expect("written");
    let data = dir.join("data");
    let run = clearance_before_deadline(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--public-url",
        "http://127.0.0.1:8080",
        "--data-dir",
        data.to_str().expect("utf-8"),
        "--oidc-config",
        config.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "issuer `entra`, field `client_secret_env`: the environment variable CLEARANCE_TEST_UNSET_SECRET is not set"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("sso.toml"), "{}", run.stderr);
    assert!(!data.exists(), "serve created its store before refusing");
    // Passwords cannot be switched off without an issuer to sign in through.
    let run = clearance_before_deadline(&["serve", "--no-local-accounts"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("--oidc-config"), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}
