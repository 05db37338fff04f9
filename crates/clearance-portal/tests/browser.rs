//! End-to-end in a real headless Chromium against a real server on loopback:
//! the seed's story from both sides, a partner editing the URL to another
//! tenant, and a form sent without its CSRF token.

mod common;

use common::browser::{
    Driver, click_button, click_link, fill, sign_in, sign_out, wait, wait_notice, wait_title,
};

#[tokio::test]
async fn the_seed_story_locked_support_authorized_learn_why_complete_and_buy() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = common::start().await;
    let browser = driver.browser(1280, 900).await;

    // The admin of the seed's tenant signs in and sees Membership locked, and why.
    sign_in(&browser, &server, "alice@contoso", "contoso — home").await;
    wait(
        &browser,
        "//li[contains(@class,'tile') and contains(@class,'locked')][.//h3[normalize-space()='Membership']]",
    )
    .await;
    click_link(&browser, "Why is Membership locked?").await;
    wait_title(&browser, "Why: Membership").await;
    wait(
        &browser,
        "//p[contains(., 'Microsoft AI Cloud Partner Program enrollment is not Active')]",
    )
    .await;
    wait(
        &browser,
        "//p[contains(., 'Microsoft AI Cloud Partner Program is not Authorized')]",
    )
    .await;

    // The diagnosis sends the admin to support (SLA passed, no banner); a case is opened.
    click_link(&browser, "Diagnosis").await;
    wait_title(&browser, "Diagnosis").await;
    wait(
        &browser,
        "//ol[@class='steps']/li//strong[text()='Contact support']",
    )
    .await;
    click_link(&browser, "Support").await;
    wait_title(&browser, "Support").await;
    fill(
        &browser,
        "subject",
        "MAICPP pending qualification for two weeks",
    )
    .await;
    fill(
        &browser,
        "body",
        "Verification has been Pending for more than 5 business days with no banner.",
    )
    .await;
    click_button(&browser, "Open case").await;
    wait_notice(&browser, "Support case opened.").await;
    sign_out(&browser).await;

    // An operator signs in, finds the tenant in the queue and authorizes.
    sign_in(&browser, &server, "agent@support", "Verification queue").await;
    wait(
        &browser,
        "//tr[th/a[text()='contoso']]//span[contains(., 'Overdue')]",
    )
    .await;
    click_link(&browser, "contoso").await;
    wait_title(&browser, "Tenant contoso").await;
    click_button(&browser, "Authorize Microsoft AI Cloud Partner Program").await;
    wait_notice(&browser, "Verification authorized").await;
    fill(
        &browser,
        "resolution-case-1",
        "Vetting reviewed and authorized.",
    )
    .await;
    click_button(&browser, "Resolve case").await;
    wait_notice(&browser, "Support case resolved.").await;
    sign_out(&browser).await;

    // The admin signs in again: Membership is open, Buy Now is disabled, and says why.
    sign_in(&browser, &server, "alice@contoso", "contoso — home").await;
    wait(
        &browser,
        "//li[contains(@class,'tile') and contains(@class,'open')]//h3/a[normalize-space()='Membership']",
    )
    .await
    .click()
    .await
    .expect("open Membership");
    wait_title(&browser, "Membership").await;
    click_link(&browser, "See membership offers").await;
    wait_title(&browser, "Membership offers").await;
    let offer = "//section[@aria-labelledby='offer-maicpp_core_benefits']";
    let buy_row = format!("{offer}//div[@class='buy'][.//button[normalize-space()='Buy Now']]");
    let buy = wait(
        &browser,
        &format!("{offer}//button[normalize-space()='Buy Now']"),
    )
    .await;
    assert!(
        !buy.is_enabled().await.expect("enabled state"),
        "Buy Now must start disabled"
    );
    wait(
        &browser,
        &format!("{buy_row}//summary[normalize-space()='Learn why Buy is disabled']"),
    )
    .await
    .click()
    .await
    .expect("open Learn why");
    let unmet = wait(
        &browser,
        &format!(
            "{buy_row}//details[@open]//p[contains(., 'The payment profile is not complete.')]"
        ),
    )
    .await;
    assert!(
        unmet.is_displayed().await.expect("displayed"),
        "the reason is shown"
    );
    // The tax profile is complete, so only the payment profile is listed.
    let reasons = browser
        .find_all(fantoccini::Locator::XPath(&format!(
            "{buy_row}//details//ol[@class='unmet']/li"
        )))
        .await
        .expect("the unmet list");
    assert_eq!(reasons.len(), 1, "exactly one unmet criterion");

    // Complete the missing item from the link in the panel, then buy.
    wait(
        &browser,
        &format!("{buy_row}//details//a[normalize-space()='Complete the profile']"),
    )
    .await
    .click()
    .await
    .expect("follow the next step");
    wait_title(&browser, "Account settings → Payment and tax profiles").await;
    click_button(&browser, "Mark payment profile complete").await;
    wait_notice(&browser, "Profile updated.").await;
    click_link(&browser, "Offers").await;
    wait_title(&browser, "Membership offers").await;
    let buy = wait(
        &browser,
        &format!("{offer}//button[normalize-space()='Buy Now']"),
    )
    .await;
    assert!(
        buy.is_enabled().await.expect("enabled state"),
        "Buy Now is enabled once nothing is unmet"
    );
    buy.click().await.expect("Buy Now");
    wait_notice(&browser, "Membership bought.").await;
    // Bought: Buy is disabled again, now because the membership is active.
    wait(&browser, &format!("{buy_row}//details//p[contains(., 'already has an active Partner Success Core Benefits membership')]")).await;

    browser.close().await.expect("the session closes");
    let state = server
        .service
        .tenant(&common::staff(), "contoso", None)
        .await
        .expect("contoso");
    assert_eq!(state.memberships.len(), 1);
}

#[tokio::test]
async fn a_partner_cannot_reach_another_tenant_by_editing_the_url() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = common::start().await;
    let browser = driver.browser(1280, 900).await;
    sign_in(&browser, &server, "alice@contoso", "contoso — home").await;
    for path in [
        "/t/fabrikam",
        "/t/fabrikam/users",
        "/t/fabrikam/support",
        "/ops/queue",
    ] {
        browser.goto(&server.at(path)).await.expect("navigate");
        wait_title(&browser, "Page not found").await;
        let source = browser.source().await.expect("the page");
        assert!(
            !source.contains("frank"),
            "{path} shows the other tenant's data"
        );
    }
    browser.close().await.expect("the session closes");
}

#[tokio::test]
async fn a_form_sent_without_its_csrf_token_is_refused() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = common::start().await;
    let browser = driver.browser(1280, 900).await;
    sign_in(&browser, &server, "alice@contoso", "contoso — home").await;
    browser
        .goto(&server.at("/t/contoso/support"))
        .await
        .expect("navigate");
    wait_title(&browser, "Support").await;
    fill(&browser, "subject", "Forged").await;
    fill(&browser, "body", "This form lost its token.").await;
    browser
        .execute(
            "document.querySelector('form[action$=\"/support/cases\"] input[name=csrf]').remove();",
            Vec::new(),
        )
        .await
        .expect("the token is removed");
    click_button(&browser, "Open case").await;
    wait_title(&browser, "Form refused").await;
    browser.close().await.expect("the session closes");
    let state = server
        .service
        .tenant(&common::staff(), "contoso", None)
        .await
        .expect("contoso");
    assert!(state.cases.is_empty(), "the refused form opened no case");
}
