//! The usability walkthrough's journeys (issue 14), walked in a real headless
//! Chromium as partners and a support agent would: each test fails on a
//! portal that strands the user the way the walkthrough found.

mod common;

use common::PASSWORD;
use common::browser::{
    Driver, click_button, click_link, fill, sign_in, sign_out, wait, wait_notice, wait_title,
};

/// Item 2: a tenant cannot lock itself out; users can be removed; an added
/// user gets a one-time set-up link; the user-id field says what it accepts.
#[tokio::test]
async fn the_last_global_admin_is_kept_and_a_new_user_sets_up_a_sign_in() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = common::start().await;
    let browser = driver.browser(1280, 900).await;
    sign_in(&browser, &server, "frank@fabrikam", "fabrikam — home").await;
    click_link(&browser, "Users").await;
    wait_title(&browser, "User management").await;
    // The page says up front that frank's Global Admin role is kept.
    wait(
        &browser,
        "//tr[th[starts-with(normalize-space(), 'frank')]]//p[contains(., 'last Global Admin')]",
    )
    .await;
    // Frank unticks every role of his own and saves: refused, with the reason.
    wait(
        &browser,
        "//summary[normalize-space()='Change roles of frank']",
    )
    .await
    .click()
    .await
    .expect("open frank's roles");
    for role in ["global_admin", "maicpp_partner_admin"] {
        wait(&browser, &format!("//input[@id='role-frank-{role}']"))
            .await
            .click()
            .await
            .expect("untick the role");
    }
    wait(
        &browser,
        "//form[contains(@action, '/users/frank/roles')]//button[normalize-space()='Save roles']",
    )
    .await
    .click()
    .await
    .expect("save roles");
    wait(&browser, "//*[contains(., 'last Global Admin')]").await;
    let users = server
        .service
        .users(&common::staff(), "fabrikam", None)
        .await
        .expect("fabrikam's users")
        .users;
    let frank = users.iter().find(|user| user.id == "frank").expect("frank");
    assert!(
        frank.roles.iter().any(|role| role == "global_admin"),
        "frank kept Global Admin: {:?}",
        frank.roles
    );

    // The user-id field says what it accepts; adding carol shows her set-up link.
    browser
        .goto(&server.at("/t/fabrikam/users"))
        .await
        .expect("users");
    wait(
        &browser,
        "//span[@id='new-user-hint'][contains(., 'no spaces')]",
    )
    .await;
    fill(&browser, "new-user", "carol").await;
    wait(&browser, "//input[@id='new-role-global_admin']")
        .await
        .click()
        .await
        .expect("tick Global Admin");
    click_button(&browser, "Add user").await;
    wait_notice(&browser, "User carol added.").await;
    let link = wait(
        &browser,
        "//section[contains(@class,'setup-link')]//code[contains(., '/setup/')]",
    )
    .await
    .text()
    .await
    .expect("the set-up link");

    // Bob can be removed; frank (the primary contact) has no Remove button.
    click_button(&browser, "Remove bob").await;
    wait_notice(&browser, "User removed.").await;
    let buttons = browser
        .find_all(fantoccini::Locator::XPath(
            "//button[normalize-space()='Remove frank']",
        ))
        .await
        .expect("buttons");
    assert!(buttons.is_empty(), "the primary contact cannot be removed");
    sign_out(&browser).await;

    // Carol opens her link, chooses a password, and signs in.
    browser.goto(&link).await.expect("the set-up link");
    wait_title(&browser, "Set up your sign-in").await;
    fill(&browser, "password", PASSWORD).await;
    fill(&browser, "password_again", PASSWORD).await;
    click_button(&browser, "Set password").await;
    wait_title(&browser, "Your sign-in is ready").await;
    browser.goto(&link).await.expect("the link again");
    wait_title(&browser, "Set-up link not usable").await;
    sign_in(&browser, &server, "carol@fabrikam", "fabrikam — home").await;
    browser.close().await.expect("the session closes");
    let state = server
        .service
        .tenant(&common::staff(), "fabrikam", None)
        .await
        .expect("fabrikam");
    assert!(
        state.users.iter().all(|user| user.id != "bob"),
        "bob removed"
    );
}

/// The badge of the tile titled `name` on Home reads `text`.
async fn tile_badge(browser: &fantoccini::Client, name: &str, text: &str) {
    wait(
        browser,
        &format!(
            "//li[contains(@class,'tile')][.//h3[normalize-space()='{name}']]//span[contains(@class,'badge')][normalize-space()='{text}']"
        ),
    )
    .await;
}

/// Item 4: Home tells the truth: state badges, the root cause first,
/// "You need permission" only for roles, the action-required banner.
#[tokio::test]
async fn home_tiles_show_state_and_root_cause_and_the_banner() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = common::start().await;
    common::build_showcase(&server.service).await;
    let browser = driver.browser(1280, 900).await;

    sign_in(&browser, &server, "alice@contoso", "contoso — home").await;
    // Verification is what blocks Membership: it is named first.
    let first = wait(
        &browser,
        "//li[contains(@class,'tile')][.//h3[normalize-space()='Membership']]//p[@class='one-line']",
    )
    .await
    .text()
    .await
    .expect("the first reason");
    assert!(
        first.contains("Verification (vetting)"),
        "the tile leads with the root cause, not the symptom: {first}"
    );
    tile_badge(&browser, "Verification summary", "✕ Overdue").await;
    let open = browser
        .find_all(fantoccini::Locator::XPath(
            "//li[contains(@class,'tile')][.//h3[normalize-space()='Verification summary']]//span[normalize-space()='✓ Open']",
        ))
        .await
        .expect("badges");
    assert!(
        open.is_empty(),
        "an overdue verification is not a green Open"
    );
    tile_badge(&browser, "User management", "… Partly locked").await;
    // The page behind a locked tile is locked, not a permission problem.
    click_link(&browser, "Membership").await;
    wait_title(&browser, "Locked until verification is Authorized").await;
    sign_out(&browser).await;

    // Challenged: the banner is on Home and leads to the verification page.
    sign_in(&browser, &server, "lee@litware", "litware — home").await;
    tile_badge(&browser, "Verification summary", "✕ Action required").await;
    wait(
        &browser,
        "//section[contains(@class,'banner')][contains(., 'Action required')][contains(., 'could not verify the business address')]",
    )
    .await;
    click_link(&browser, "Resolve").await;
    wait_title(&browser, "Verification summary").await;
    sign_out(&browser).await;

    // Rejected: the reason is on Home.
    sign_in(&browser, &server, "nina@northwind", "northwind — home").await;
    tile_badge(&browser, "Verification summary", "✕ Rejected").await;
    wait(
        &browser,
        "//section[contains(@class,'banner')][contains(., 'registration certificate is unreadable')]",
    )
    .await;
    browser.close().await.expect("the session closes");
}

/// Item 6: no internal codes where people read: the diagnosis names steps
/// and pages by their labels, a case names its program, the console's
/// button names the program.
#[tokio::test]
async fn partner_and_operator_pages_show_labels_not_codes() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = common::start().await;
    common::build_showcase(&server.service).await;
    let browser = driver.browser(1280, 900).await;
    let jargon = [
        "check_legal_info",
        "review_verification_summary",
        "contact_support",
        "Account → legal-info",
        "call-to-action",
        "SLA sweeper",
        "whatever the user's roles",
        "no action-required banner",
        "verify_enrollment",
    ];
    let readable = async |path: &str| {
        browser.goto(&server.at(path)).await.expect("navigate");
        wait(&browser, "//main/h1").await;
        let text = browser
            .find(fantoccini::Locator::Css("main"))
            .await
            .expect("main")
            .text()
            .await
            .expect("text");
        for code in jargon {
            assert!(!text.contains(code), "{path} shows {code:?}:\n{text}");
        }
        text
    };
    sign_in(&browser, &server, "alice@contoso", "contoso — home").await;
    let diagnosis = readable("/t/contoso/diagnosis").await;
    assert!(
        diagnosis.contains("Go to Account settings → Legal Info"),
        "{diagnosis}"
    );
    assert!(
        !diagnosis.contains("Verification summary (Account settings → Legal Info)"),
        "{diagnosis}"
    );
    assert!(diagnosis.contains("Contact support"), "{diagnosis}");
    readable("/t/contoso").await;
    readable("/t/contoso/account/legal-info").await;
    let case = readable("/t/contoso/support/cases/case-1").await;
    assert!(
        case.contains("Microsoft AI Cloud Partner Program") && !case.contains("maicpp"),
        "{case}"
    );
    sign_out(&browser).await;
    sign_in(&browser, &server, "agent@support", "Verification queue").await;
    click_link(&browser, "contoso").await;
    wait_title(&browser, "Tenant contoso").await;
    click_button(&browser, "Authorize Microsoft AI Cloud Partner Program").await;
    wait_notice(&browser, "Verification authorized").await;
    browser.close().await.expect("the session closes");
}
