//! Working from the console: roles and store scopes, saved searches as tabs,
//! export, reports, index health, the keyboard, sign-out and a revoked key.

use ordersearch::http::auth::Role;

use super::Shop;

/// WebDriver's codes for the keys a staff member presses.
const ENTER: char = '\u{e007}';
const ESCAPE: char = '\u{e00c}';

#[tokio::test]
async fn a_scoped_support_key_sees_its_store_only_and_no_admin_actions() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    let key = shop.app.key(Role::Support, Some("eu")).await;
    page.sign_in("/", &key).await;
    assert!(page.text("#whoami").await.contains("support"));
    assert!(
        page.all("#nav-admin").await.is_empty(),
        "no admin link for support"
    );
    assert!(
        page.all("#nav-reports").await.is_empty(),
        "no reports for support"
    );
    assert_eq!(page.search("").await, 1, "only the eu order");
    assert_eq!(
        page.text("#results a.hit .hit-number").await,
        format!("#{}", shop.anna["number"])
    );
    assert_eq!(page.search("jane").await, 0);

    page.goto(&Shop::page_of(&shop.jane)).await;
    page.wait_for("#order[data-state=notfound]").await;
    page.goto(&Shop::page_of(&shop.anna)).await;
    page.wait_for("#order[data-state=ready]").await;
    assert!(
        page.all("#transitions button.transition").await.is_empty(),
        "support only cancels"
    );
    page.wait_for("#cancel-order").await;
    page.goto("/admin").await;
    let banner = page.text("#error-banner:not([hidden])").await;
    assert!(banner.contains("cannot open index health"), "{banner}");
    assert!(
        page.all("#reindex").await.is_empty(),
        "no reindex button for support"
    );

    page.click("#sign-out").await;
    page.wait_for("#sign-in #api-key").await;
    let stored = page
        .client
        .execute("return sessionStorage.length", vec![])
        .await
        .unwrap();
    assert_eq!(stored, 0, "sign-out clears the key");
    page.finish().await;
}

#[tokio::test]
async fn a_revoked_key_goes_back_to_sign_in_with_a_message() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    let (key, id) = shop
        .app
        .create_api_key(&serde_json::json!({"name": "agent", "role": "support"}))
        .await;
    page.goto("/").await;
    page.wait_for("#sign-in #api-key")
        .await
        .send_keys("os_wrong")
        .await
        .unwrap();
    page.click("#sign-in button[type=submit]").await;
    page.wait_for("#sign-in-message:not(:empty)").await;
    assert!(page.all("#whoami:not(:empty)").await.is_empty());

    page.sign_in("/", &key).await;
    page.wait_for_results("").await;
    shop.app.revoke_api_key(&id).await;
    page.wait_for("#q").await.send_keys("kettle").await.unwrap();
    let message = page.text("#sign-in-message:not(:empty)").await;
    assert!(message.to_lowercase().contains("sign in"), "{message}");
    page.finish().await;
}

#[tokio::test]
async fn saved_searches_are_tabs_with_counts_and_their_own_address() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    page.sign_in("/", &shop.app.admin).await;
    page.search("kettle").await;
    page.click("#save-search").await;
    page.wait_for("#save-dialog[open] #save-name")
        .await
        .send_keys("Kettles")
        .await
        .unwrap();
    page.click("#save-dialog[open] #save-shared").await;
    page.click("#save-form button[type=submit]").await;
    let tab = page.wait_for("#saved-tabs a.saved-tab").await;
    let id = tab.attr("data-id").await.unwrap().expect("a saved id");
    assert_eq!(page.text("#saved-tabs a.saved-tab .tab-count").await, "2");
    let stored: (String, bool) =
        sqlx::query_as("select q, shared from saved_searches where id = $1::uuid")
            .bind(&id)
            .fetch_one(&shop.app.pool)
            .await
            .unwrap();
    assert_eq!(stored, ("kettle".to_string(), true));

    page.search("").await;
    page.click(&format!("#saved-tabs a.saved-tab[data-id='{id}']"))
        .await;
    page.until(
        "the saved tab's address",
        &format!("location.pathname === '/saved/{id}'"),
    )
    .await;
    page.wait_for(&format!(
        "#saved-tabs a.saved-tab[data-id='{id}'][aria-current=page]"
    ))
    .await;
    page.until(
        "the saved search's hits",
        "document.querySelectorAll('#results[data-state=ready] a.hit').length === 2",
    )
    .await;

    page.click("#rename-saved").await;
    let field = page.wait_for("#rename-dialog[open] #rename-name").await;
    field.clear().await.unwrap();
    field.send_keys("All kettles").await.unwrap();
    page.click("#rename-dialog[open] button[type=submit]").await;
    page.until(
        "the renamed tab",
        "document.querySelector('#saved-tabs a.saved-tab')?.textContent.includes('All kettles')",
    )
    .await;

    page.click("#delete-saved").await;
    page.click("#confirm-dialog[open] #confirm-yes").await;
    page.until(
        "the tab to go",
        "document.querySelectorAll('#saved-tabs a.saved-tab').length === 0",
    )
    .await;
    let left: i64 = sqlx::query_scalar("select count(*) from saved_searches")
        .fetch_one(&shop.app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    page.finish().await;
}

#[tokio::test]
async fn the_keyboard_alone_finds_and_opens_an_order() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    page.sign_in("/", &shop.app.admin).await;
    page.wait_for_results("").await;
    // Sent to the page rather than as a raw key: chromedriver's raw key sends
    // the character on its own after the keydown, which a person's browser
    // drops once the keydown is handled, so it would land in the box.
    page.wait_for("body").await.send_keys("/").await.unwrap();
    page.until(
        "the box to have focus",
        "document.activeElement?.id === 'q'",
    )
    .await;
    page.wait_for("#q").await.send_keys("kettle").await.unwrap();
    page.wait_for_results("kettle").await;
    page.press(ESCAPE).await;
    page.until("the box to let go", "document.activeElement?.id !== 'q'")
        .await;
    page.press('?').await;
    page.wait_for("#keys-help[open]").await;
    page.press(ESCAPE).await;
    page.until(
        "the help to close",
        "!document.querySelector('#keys-help[open]')",
    )
    .await;
    page.press('j').await;
    page.wait_for("#results a.hit[aria-current=true]").await;
    page.press('j').await;
    let number = page
        .until(
            "the second hit to be current",
            "(() => { const hit = document.querySelectorAll('#results a.hit')[1]; \
             return hit?.getAttribute('aria-current') === 'true' && hit.dataset.number; })()",
        )
        .await;
    let number = number.as_str().unwrap().to_string();
    page.press(ENTER).await;
    page.wait_for(&format!("#order[data-state=ready][data-number='{number}']"))
        .await;
    page.press(ESCAPE).await;
    page.wait_for_results("kettle").await;

    // Focus that follows keys is drawn: after a key press, Chromium treats a
    // focus as the keyboard's (headless Chromium does not move focus on Tab).
    page.press(ESCAPE).await;
    let outline = page
        .until(
            "a focused control",
            "(() => { const button = document.querySelector('#sign-out'); button.focus(); \
             return button.matches(':focus-visible') && getComputedStyle(button).outlineStyle; })()",
        )
        .await;
    assert_ne!(outline, "none", "keyboard focus is visible");
    page.finish().await;
}

#[tokio::test]
async fn export_downloads_the_current_search_through_the_api() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    page.sign_in("/", &shop.app.admin).await;
    page.search("kettle").await;
    page.click("#export-ndjson").await;
    let exported = page
        .until("the export", "document.body.dataset.lastExport")
        .await;
    let exported = exported.as_str().unwrap();
    assert!(exported.starts_with("ndjson:"), "{exported}");
    let bytes: usize = exported["ndjson:".len()..].parse().unwrap();
    let direct = shop
        .app
        .get("/v1/orders/export?q=kettle&format=ndjson")
        .key(&shop.app.admin)
        .send()
        .await;
    assert_eq!(bytes, direct.bytes.len(), "the same file the API gives");
    page.finish().await;
}

#[tokio::test]
async fn reports_and_index_health_answer_for_an_admin() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    page.sign_in("/reports", &shop.app.admin).await;
    page.wait_for("#reports[data-state=ready]").await;
    assert_eq!(
        page.text(".card[data-metric=total_orders] .card-value")
            .await,
        "2"
    );
    page.until(
        "hourly bars",
        "document.querySelectorAll('#hourly-chart rect.bar').length > 0",
    )
    .await;
    let orders = page.client.execute(
        "return [...document.querySelectorAll('#hourly-chart rect.bar')].reduce((n, bar) => n + Number(bar.dataset.orders), 0)",
        vec![],
    ).await.unwrap();
    assert_eq!(orders, 2, "the chart carries the hours' orders");
    assert!(page.text("#top-quantity").await.contains("MUG-BLUE"));
    page.screenshot("reports").await;

    page.goto("/admin").await;
    page.wait_for("#index-health[data-state=ready]").await;
    assert_eq!(page.text("dd[data-field=backend]").await, "embedded");
    assert_eq!(page.text("dd[data-field=documents]").await, "3");
    page.click("#reconcile").await;
    page.wait_for("#admin-message:not(:empty)").await;
    page.screenshot("admin").await;
    page.finish().await;
}

#[tokio::test]
async fn the_console_fits_a_phone_screen() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    page.client.set_window_size(390, 844).await.unwrap();
    page.sign_in("/", &shop.app.admin).await;
    page.search("kettle").await;
    let overflow = page
        .client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, 0, "no sideways scrolling at 390 px");
    page.screenshot("search-phone").await;
    page.finish().await;
}
