//! Finding orders in the console: search as you type, highlights, facets, the
//! URL as the whole state, the order page, and order data shown as text.

use super::{HOSTILE_NOTE, Shop};

#[tokio::test]
async fn staff_search_as_they_type_and_the_address_restores_every_view() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    page.sign_in("/", &shop.app.admin).await;
    page.wait_for("#results[data-state=ready]").await;

    assert_eq!(page.search("jnae").await, 1, "typo tolerant");
    assert_eq!(
        page.text("#results a.hit .hit-number").await,
        format!("#{}", shop.jane["number"])
    );
    let marked = page.text("#results a.hit mark").await;
    assert_eq!(marked.to_lowercase(), "jane", "the match is highlighted");
    assert_eq!(
        page.text("#results a.hit .badge[data-status=pending]")
            .await
            .to_lowercase(),
        "pending"
    );
    assert!(page.text("#results a.hit .hit-total").await.contains("USD"));
    let href = page
        .wait_for("#results a.hit")
        .await
        .attr("href")
        .await
        .unwrap();
    assert_eq!(
        href.as_deref(),
        Some(Shop::page_of(&shop.jane).as_str()),
        "hits are real links"
    );
    assert_eq!(page.location().await, "/?q=jnae");

    assert_eq!(page.search("kettle").await, 2);
    page.click("#facets .chip[data-facet=store][data-value=default]")
        .await;
    page.wait_for_results("kettle store:default").await;
    assert_eq!(
        page.wait_for("#q")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("kettle store:default")
    );
    page.screenshot("search").await;

    page.client.back().await.unwrap();
    page.wait_for_results("kettle").await;
    page.client.back().await.unwrap();
    assert_eq!(
        page.wait_for_results("jnae").await,
        1,
        "Back restores the earlier search"
    );
    page.client.forward().await.unwrap();
    page.wait_for_results("kettle").await;
    page.client.refresh().await.unwrap();
    assert_eq!(
        page.wait_for_results("kettle").await,
        2,
        "a reload restores the search"
    );

    let field = page.wait_for("#q").await;
    field.clear().await.unwrap();
    field.send_keys("status:lost").await.unwrap();
    page.wait_for("#results[data-state=error][data-q='status:lost']")
        .await;
    assert!(
        page.text("#results").await.contains("status"),
        "the problem names the qualifier"
    );
    page.finish().await;
}

#[tokio::test]
async fn an_order_page_shows_the_snapshot_timeline_and_the_note_as_text() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    page.sign_in(&Shop::page_of(&shop.jane), &shop.app.admin)
        .await;
    page.wait_for("#order[data-state=ready]").await;
    assert!(
        page.text("#order-title")
            .await
            .contains(&shop.jane["number"].to_string())
    );
    let rows = page.all("#order-items tr.item").await;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        page.text("#order-items tr.item .item-sku").await,
        "MUG-BLUE"
    );
    assert_eq!(
        page.text("#order-items tr.item .item-line-total").await,
        "25.00"
    );
    assert!(page.text("#order-total").await.contains("65.00"));
    assert!(page.text("#order-address").await.contains("Kraków"));
    assert_eq!(page.text("#order-tags .tag").await, "vip");
    assert_eq!(
        page.text("#order-note").await,
        HOSTILE_NOTE,
        "the note is text"
    );
    let injected = page
        .client
        .execute(
            "return document.querySelectorAll('#order img').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(injected, 0, "no element was made from order data");
    assert!(
        !page
            .all("#timeline li.event[data-kind=created]")
            .await
            .is_empty()
    );
    page.screenshot("order").await;

    // Only the allowed transitions are offered; taking one moves the order on.
    let offered: Vec<String> = futures::future::join_all(
        page.all("#transitions button.transition")
            .await
            .into_iter()
            .map(|button| async move { button.attr("data-to").await.unwrap().unwrap_or_default() }),
    )
    .await;
    assert_eq!(offered, ["processing"]);
    page.click("#transitions button.transition[data-to=processing]")
        .await;
    page.wait_for(
        "#order-status .badge[data-status=processing], #order-status[data-status=processing]",
    )
    .await;
    page.wait_for("#timeline li.event[data-kind=status_changed]")
        .await;
    let stored: String = sqlx::query_scalar("select status from orders where id = $1::uuid")
        .bind(shop.jane["id"].as_str().unwrap())
        .fetch_one(&shop.app.pool)
        .await
        .unwrap();
    assert_eq!(stored, "processing");
    page.finish().await;
}

#[tokio::test]
async fn a_write_on_a_changed_order_says_so_and_shows_the_fresh_order() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    page.sign_in(&Shop::page_of(&shop.john), &shop.app.admin)
        .await;
    page.wait_for("#order[data-state=ready][data-version='1']")
        .await;

    // A colleague tags the order behind the page's back.
    let path = format!("/v1/orders/{}", shop.john["id"].as_str().unwrap());
    let changed = shop
        .app
        .patch(&path, &serde_json::json!({"tags": ["urgent"]}))
        .key(&shop.app.admin)
        .send()
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);

    page.click("#transitions button.transition[data-to=processing]")
        .await;
    let conflict = page.wait_for("#conflict:not([hidden])").await;
    assert!(
        conflict
            .text()
            .await
            .unwrap()
            .contains("changed by someone else")
    );
    page.wait_for("#order[data-state=ready][data-version='2']")
        .await;
    assert_eq!(
        page.text("#order-tags .tag").await,
        "urgent",
        "the fresh order is shown"
    );
    let status: String = sqlx::query_scalar("select status from orders where id = $1::uuid")
        .bind(shop.john["id"].as_str().unwrap())
        .fetch_one(&shop.app.pool)
        .await
        .unwrap();
    assert_eq!(status, "pending", "nothing was overwritten");
    page.finish().await;
}

/// The visible controls without an accessible name, and status badges without
/// a word, as an assistive tool would meet them.
const UNNAMED: &str = "(() => {
  const text = (el) => (el?.textContent || '').trim();
  const name = (el) => (el.getAttribute('aria-label') || '').trim()
    || (el.getAttribute('aria-labelledby') || '').split(/\\s+/)
         .map((id) => text(document.getElementById(id))).join(' ').trim()
    || [...(el.labels || [])].map(text).join(' ').trim()
    || (['BUTTON', 'A', 'SUMMARY'].includes(el.tagName) ? text(el) : '')
    || (el.getAttribute('title') || '').trim();
  const shown = (el) => el.getClientRects().length > 0;
  const controls = [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button, a[href], summary')];
  const unnamed = controls.filter(shown).filter((el) => !name(el));
  const mute = [...document.querySelectorAll('.badge')].filter((el) => !text(el));
  return JSON.stringify(unnamed.concat(mute).map((el) => el.outerHTML.slice(0, 120)));
})()";

#[tokio::test]
async fn every_control_has_a_name_and_every_badge_a_word() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    page.goto("/").await;
    page.wait_for("#sign-in #api-key").await;
    let mut found = vec![("sign-in".to_string(), page.until("a check", UNNAMED).await)];
    page.sign_in("/", &shop.app.admin).await;
    page.wait_for_results("").await;
    found.push(("search".into(), page.until("a check", UNNAMED).await));
    page.goto(&Shop::page_of(&shop.jane)).await;
    page.wait_for("#order[data-state=ready]").await;
    found.push(("order".into(), page.until("a check", UNNAMED).await));
    page.goto("/reports").await;
    page.wait_for("#reports[data-state=ready]").await;
    found.push(("reports".into(), page.until("a check", UNNAMED).await));
    page.goto("/admin").await;
    page.wait_for("#index-health[data-state=ready]").await;
    found.push(("admin".into(), page.until("a check", UNNAMED).await));
    let unnamed: Vec<String> = found
        .into_iter()
        .filter(|(_, list)| list != "[]")
        .map(|(view, list)| format!("{view}: {list}"))
        .collect();
    assert!(unnamed.is_empty(), "controls without a name: {unnamed:#?}");
    page.finish().await;
}

#[tokio::test]
async fn an_agent_edits_tracking_with_field_errors_and_cancels_after_confirming() {
    let Some((shop, page)) = Shop::in_browser().await else {
        return;
    };
    page.sign_in(&Shop::page_of(&shop.jane), &shop.app.admin)
        .await;
    page.wait_for("#order[data-state=ready][data-version='1']")
        .await;

    // A carrier left blank: the API's field message shows beside the field.
    page.wait_for("#edit-tracking-number")
        .await
        .send_keys("1Z999")
        .await
        .unwrap();
    page.click("#edit-save").await;
    let message = page
        .text(".field-error[data-field='tracking.carrier']:not([hidden])")
        .await;
    assert!(!message.is_empty(), "the carrier's message is shown");
    page.wait_for("#edit-carrier")
        .await
        .send_keys("DHL")
        .await
        .unwrap();
    page.click("#edit-save").await;
    page.wait_for("#order[data-state=ready][data-version='2']")
        .await;
    assert!(page.text("#order-tracking").await.contains("1Z999"));

    // Cancelling asks first; once confirmed, the stock comes back.
    page.click("#cancel-order").await;
    assert!(
        !page
            .text("#confirm-dialog[open] #confirm-message")
            .await
            .is_empty()
    );
    page.click("#confirm-dialog[open] #confirm-yes").await;
    page.wait_for(
        "#order-status .badge[data-status=cancelled], #order-status[data-status=cancelled]",
    )
    .await;
    let stock: i32 = sqlx::query_scalar("select stock from products where sku = 'MUG-BLUE'")
        .fetch_one(&shop.app.pool)
        .await
        .unwrap();
    assert_eq!(stock, 100, "the cancelled order's mugs are back in stock");
    assert!(
        page.all("#cancel-order").await.is_empty(),
        "a final order offers no cancel"
    );
    page.finish().await;
}
