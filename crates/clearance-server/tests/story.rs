//! The seed's whole story over a real HTTP socket: Membership locked and why,
//! support authorizes, a role is granted, Buy disabled with its reasons, the
//! profiles completed, Buy succeeds, and the audit trail shows every step with
//! its actor.

mod common;

use common::{Demo, unmet_ids};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_story_from_locked_membership_to_a_purchase() {
    let demo = Demo::start().await;
    let alice = demo.partner("contoso");
    let agent = demo.agent();

    // 1. Membership is locked by enrollment and verification, not by roles.
    let (status, check) = demo
        .post(
            "/v1/check",
            &alice,
            json!({"tenant": "contoso", "user": "alice", "action": "membership.view"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(check["allowed"], false);
    assert_eq!(
        unmet_ids(&check),
        ["maicpp_enrollment_active", "maicpp_verification_authorized"]
    );
    assert_eq!(
        check["unmet"][1]["next_step"]["code"],
        "review_verification_summary"
    );
    assert_eq!(check["unmet"][1]["fixed_by"]["support"], true);

    // Roles cannot be changed while verification is not Authorized.
    let (status, refused) = demo
        .post(
            "/v1/tenants/contoso/users",
            &alice,
            json!({"user": "frank", "roles": []}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["error"]["code"], "roles_frozen");

    // The diagnosis is the seed's: Legal Info, the summary, then support.
    let (status, diagnosis) = demo.get("/v1/tenants/contoso/diagnosis", &alice).await;
    assert_eq!(status, StatusCode::OK, "{diagnosis}");
    let codes: Vec<&str> = diagnosis["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|step| step["code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        [
            "check_legal_info",
            "review_verification_summary",
            "contact_support"
        ]
    );

    // The verification summary: pending 8 business days, past its SLA, no banner.
    let (status, summary) = demo
        .get("/v1/tenants/contoso/verification/maicpp", &alice)
        .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["status"], "pending");
    assert_eq!(summary["business_days_elapsed"], 8);
    assert_eq!(summary["overdue"], true);
    assert_eq!(summary["action_required"], false);
    assert_eq!(summary["appeals_left"], 3);

    // 2. Support reviews and authorizes; the enrollment becomes Active.
    let (status, review) = demo
        .post(
            "/v1/tenants/contoso/programs/maicpp/start-review",
            &agent,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{review}");
    let (status, authorized) = demo
        .post(
            "/v1/tenants/contoso/programs/maicpp/authorize",
            &agent,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{authorized}");
    let kinds: Vec<&str> = authorized["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["type"].as_str().expect("type"))
        .collect();
    assert_eq!(kinds, ["verification_changed", "enrollment_changed"]);
    let revision = authorized["revision"].as_u64().expect("a revision");

    // 3. A new user is added and granted the MAICPP partner admin role.
    let (status, added) = demo
        .post(
            "/v1/tenants/contoso/users",
            &alice,
            json!({"user": "frank", "roles": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    let (status, frank_locked) = demo
        .post(
            "/v1/check",
            &alice,
            json!({"tenant": "contoso", "user": "frank", "action": "membership.view"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unmet_ids(&frank_locked), ["membership_role"]);
    let (status, granted) = demo
        .post(
            "/v1/tenants/contoso/users/frank/roles",
            &alice,
            json!({"op": "grant", "roles": ["maicpp_partner_admin"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    let granted_revision = granted["revision"].as_u64().expect("a revision");
    assert!(granted_revision > revision);

    // Membership opens for frank (reading at least his grant's revision).
    let (status, open) = demo
        .post(
            "/v1/check",
            &alice,
            json!({"tenant": "contoso", "user": "frank", "action": "membership.view",
                   "min_revision": granted_revision}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(open["allowed"], true, "{open}");

    // 4. Buy Now is disabled, and the reasons are what is still unmet.
    let (_, buy) = demo
        .post(
            "/v1/check",
            &alice,
            json!({"tenant": "contoso", "user": "frank", "action": "membership_offers.buy"}),
        )
        .await;
    assert_eq!(buy["allowed"], false);
    assert_eq!(
        unmet_ids(&buy),
        ["payment_profile_complete", "tax_profile_complete"]
    );
    let (status, refused) = demo
        .post(
            "/v1/tenants/contoso/memberships/maicpp_core_benefits/buy",
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["error"]["code"], "denied");
    assert_eq!(
        refused["error"]["unmet"], buy["unmet"],
        "the refusal explains itself"
    );

    // 5. The admin completes the profiles.
    for profile in ["payment", "tax"] {
        let (status, body) = demo
            .post(
                &format!("/v1/tenants/contoso/profiles/{profile}"),
                &alice,
                json!({"complete": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // 6. Buy succeeds for frank.
    let frank = demo
        .server
        .service
        .issue_token(
            &clearance_server::demo::support_admin(),
            clearance_server::Principal::Partner {
                tenant: "contoso".into(),
                user: "frank".into(),
            },
            None,
        )
        .await
        .expect("a token for frank")
        .token;
    let (status, bought) = demo
        .post(
            "/v1/tenants/contoso/memberships/maicpp_core_benefits/buy",
            &frank,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bought}");
    assert_eq!(bought["events"][0]["type"], "membership_bought");
    let (_, legal) = demo.get("/v1/tenants/contoso/legal-info", &alice).await;
    assert_eq!(legal["memberships"][0]["offer"], "maicpp_core_benefits");
    assert_eq!(legal["programs"][0]["enrollment"], "active");
    assert_eq!(legal["programs"][0]["verification"], "authorized");

    // 7. The audit trail shows each step with its actor, in order.
    let trail = demo.trail("contoso").await;
    let steps: Vec<(String, Value)> = trail
        .iter()
        .map(|event| {
            (
                event["type"].as_str().expect("type").to_owned(),
                event["actor"].clone(),
            )
        })
        .collect();
    let alice_actor = json!({"kind": "partner", "user": "alice"});
    let sam = json!({"kind": "support", "id": "sam", "role": "support_agent"});
    let expected_tail = [
        ("verification_changed".to_owned(), sam.clone()),
        ("verification_changed".to_owned(), sam.clone()),
        ("enrollment_changed".to_owned(), sam.clone()),
        ("user_added".to_owned(), alice_actor.clone()),
        ("roles_granted".to_owned(), alice_actor.clone()),
        ("profile_updated".to_owned(), alice_actor.clone()),
        ("profile_updated".to_owned(), alice_actor.clone()),
        (
            "membership_bought".to_owned(),
            json!({"kind": "partner", "user": "frank"}),
        ),
    ];
    assert_eq!(
        steps[steps.len() - expected_tail.len()..],
        expected_tail[..]
    );
    assert_eq!(
        steps[..3],
        [
            (
                "tenant_created".to_owned(),
                json!({"kind": "support", "id": "ada", "role": "support_admin"})
            ),
            ("enrolled".to_owned(), alice_actor.clone()),
            ("verification_changed".to_owned(), alice_actor.clone()),
        ]
    );
    let seqs: Vec<u64> = trail
        .iter()
        .map(|event| event["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, (1..=trail.len() as u64).collect::<Vec<_>>());
    demo.stop().await;
}
