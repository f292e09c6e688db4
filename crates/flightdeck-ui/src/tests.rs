//! The routes, driven with `oneshot`: content types, ETags and 304s, 404s.

use super::router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

async fn get(path: &str, if_none_match: Option<&str>) -> axum::response::Response {
    let mut req = Request::get(path);
    if let Some(tag) = if_none_match {
        req = req.header(header::IF_NONE_MATCH, tag);
    }
    router()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

fn header(res: &axum::response::Response, name: header::HeaderName) -> &str {
    res.headers().get(name).unwrap().to_str().unwrap()
}

#[tokio::test]
async fn the_page_is_html_with_an_etag_and_nosniff() {
    let res = get("/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert_eq!(header(&res, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(header(&res, header::CACHE_CONTROL), "no-cache");
    assert!(header(&res, header::ETAG).starts_with('"'));
}

#[tokio::test]
async fn modules_are_javascript_and_styles_css() {
    let res = get("/assets/app.js", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    let res = get("/assets/vendor/preact-htm.mjs", None).await;
    assert_eq!(
        header(&res, header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    let res = get("/assets/style.css", None).await;
    assert_eq!(
        header(&res, header::CONTENT_TYPE),
        "text/css; charset=utf-8"
    );
}

#[tokio::test]
async fn a_matching_etag_gets_304_and_a_stale_one_the_file() {
    let etag = header(&get("/assets/app.js", None).await, header::ETAG).to_owned();
    let res = get("/assets/app.js", Some(&etag)).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&res, header::ETAG), etag);
    let res = get("/assets/app.js", Some(&format!("\"stale\", W/{etag}"))).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = get("/assets/app.js", Some("\"stale\"")).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_assets_and_the_tests_folder_are_404() {
    assert_eq!(
        get("/assets/nope.js", None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/assets/tests/package.json", None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/assets/../Cargo.toml", None).await.status(),
        StatusCode::NOT_FOUND
    );
}
