//! Screenshots of the main pages for `docs/`, taken in headless Chromium at
//! 1280 px (and two at 390 px). Runs only with `CLEARANCE_SCREENSHOTS=docs`:
//!
//! ```text
//! CLEARANCE_SCREENSHOTS=docs cargo test -p clearance-portal --test screenshots
//! ```

mod common;

use std::path::PathBuf;

use common::browser::{Driver, sign_in, sign_out, wait, wait_title};
use fantoccini::Client;

/// Tallest capture, so a long page does not make a huge image.
const MAX_HEIGHT: u32 = 1700;

async fn capture(browser: &Client, url: &str, title: &str, width: u32, file: &str) {
    browser.set_window_size(width, 900).await.expect("resize");
    browser.goto(url).await.expect("navigate");
    wait_title(browser, title).await;
    shoot(browser, width, file).await;
}

async fn shoot(browser: &Client, width: u32, file: &str) {
    // Headless Chromium's viewport is shorter than its window by a fixed
    // frame: measure it, then size the window so the whole page (up to
    // MAX_HEIGHT) is in the viewport.
    browser.set_window_size(width, 900).await.expect("resize");
    let measure = "return [window.innerHeight, document.documentElement.scrollHeight];";
    let sizes = browser
        .execute(measure, Vec::new())
        .await
        .expect("the page height");
    let number = |index: usize| sizes[index].as_u64().expect("a number") as u32;
    let frame = 900u32.saturating_sub(number(0));
    let height = (number(1) + frame).clamp(600, MAX_HEIGHT);
    browser
        .set_window_size(width, height)
        .await
        .expect("resize to the page");
    let png = browser.screenshot().await.expect("a screenshot");
    let path = docs().join(file);
    std::fs::write(&path, png)
        .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
    println!("wrote {}", path.display());
}

fn docs() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    std::fs::create_dir_all(&dir).expect("docs/ exists");
    dir
}

#[tokio::test]
async fn capture_the_main_pages_into_docs() {
    if std::env::var("CLEARANCE_SCREENSHOTS").as_deref() != Ok("docs") {
        println!("skipped: set CLEARANCE_SCREENSHOTS=docs to capture the screenshots");
        return;
    }
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = common::start().await;
    common::build_showcase(&server.service).await;
    let browser = driver.browser(1280, 900).await;

    capture(&browser, &server.at("/login"), "Sign in", 1280, "login.png").await;
    sign_in(&browser, &server, "alice@contoso", "contoso — home").await;
    let contoso = |path: &str| server.at(&format!("/t/contoso{path}"));
    capture(
        &browser,
        &contoso(""),
        "contoso — home",
        1280,
        "home-locked.png",
    )
    .await;
    capture(
        &browser,
        &contoso("/why/membership"),
        "Why: Membership",
        1280,
        "why-membership-locked.png",
    )
    .await;
    capture(
        &browser,
        &contoso("/account/legal-info"),
        "Account settings → Legal Info",
        1280,
        "legal-info.png",
    )
    .await;
    capture(
        &browser,
        &contoso("/diagnosis"),
        "Diagnosis",
        1280,
        "diagnosis.png",
    )
    .await;
    capture(
        &browser,
        &contoso("/users"),
        "User management",
        1280,
        "users-refused.png",
    )
    .await;
    capture(
        &browser,
        &contoso("/support/cases/case-1"),
        "Support case case-1",
        1280,
        "support-case.png",
    )
    .await;
    capture(
        &browser,
        &contoso(""),
        "contoso — home",
        390,
        "home-390.png",
    )
    .await;
    sign_out(&browser).await;

    browser.set_window_size(1280, 900).await.expect("resize");
    sign_in(&browser, &server, "nina@northwind", "northwind — home").await;
    capture(
        &browser,
        &server.at("/t/northwind/account/verification"),
        "Verification summary",
        1280,
        "verification-rejected-appeal.png",
    )
    .await;
    sign_out(&browser).await;

    sign_in(&browser, &server, "lee@litware", "litware — home").await;
    capture(
        &browser,
        &server.at("/t/litware/account/verification"),
        "Verification summary",
        1280,
        "verification-challenged.png",
    )
    .await;
    sign_out(&browser).await;

    sign_in(&browser, &server, "frank@fabrikam", "fabrikam — home").await;
    for (width, file) in [
        (1280, "offers-learn-why.png"),
        (390, "offers-learn-why-390.png"),
    ] {
        browser.set_window_size(width, 900).await.expect("resize");
        browser
            .goto(&server.at("/t/fabrikam/membership/offers"))
            .await
            .expect("navigate");
        wait_title(&browser, "Membership offers").await;
        wait(&browser, "//section[@aria-labelledby='offer-maicpp_core_benefits']//div[@class='buy'][.//button[normalize-space()='Buy Now']]//summary")
            .await
            .click()
            .await
            .expect("open Learn why");
        wait(&browser, "//details[@open]").await;
        shoot(&browser, width, file).await;
    }
    browser.set_window_size(1280, 900).await.expect("resize");
    sign_out(&browser).await;

    sign_in(&browser, &server, "agent@support", "Verification queue").await;
    capture(
        &browser,
        &server.at("/ops/queue"),
        "Verification queue",
        1280,
        "ops-queue.png",
    )
    .await;
    capture(
        &browser,
        &server.at("/ops/tenants/contoso"),
        "Tenant contoso",
        1280,
        "ops-tenant.png",
    )
    .await;
    capture(
        &browser,
        &server.at("/ops/cases"),
        "Support cases",
        1280,
        "ops-cases.png",
    )
    .await;
    browser.close().await.expect("the session closes");
}
