//! GraphiQL served from the binary: the page, one script and one stylesheet, so that
//! it works with no network but the connection to blogql (API.md, Transport).
//!
//! The files are `assets/graphiql/dist/`, built by `assets/graphiql/build.sh` from the
//! npm versions pinned in `assets/graphiql/package-lock.json` and committed, so
//! `cargo build` needs neither Node.js nor a network. The script holds all start-up
//! code and the page has no inline script or style, so the page runs under a
//! Content-Security-Policy of `'self'` (plus `data:` for the fonts and icons inlined in
//! the stylesheet).
use axum::{
    Router,
    http::header,
    response::{Html, IntoResponse},
    routing::get,
};

const JS: &[u8] = include_bytes!("../../assets/graphiql/dist/graphiql.js");
const CSS: &[u8] = include_bytes!("../../assets/graphiql/dist/graphiql.css");
/// Every bundled package with its version, licence and licence text (MIT requires the
/// notice to travel with the code; the bundle's banner points here).
const LICENSES: &str = include_str!("../../assets/graphiql/dist/LICENSES.txt");
/// Written by `build.sh`: it refers to the assets as `…?v=<content hash>`, so a new
/// build has new URLs and the old ones can be cached for good.
const PAGE: &str = include_str!("../../assets/graphiql/dist/index.html");

/// The URLs change whenever the content does (the `v` hash), so browsers never need to
/// revalidate.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `/graphiql/graphiql.js`, `/graphiql/graphiql.css` and `/graphiql/LICENSES.txt`. They
/// use no state, so they merge into a router of any state.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/graphiql/graphiql.js",
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
        .route(
            "/graphiql/graphiql.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/graphiql/LICENSES.txt",
            get(|| async { ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], LICENSES) }),
        )
}

/// The GraphiQL page, titled "blogql". It holds no token: the Headers tab shows only a
/// placeholder for the development token that `cargo run` prints.
pub fn page() -> Html<&'static str> {
    Html(PAGE)
}

fn asset(content_type: &'static str, body: &'static [u8]) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, IMMUTABLE),
        ],
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::{CSS, PAGE};

    /// Each `src` and `href` of the page is one of blogql's own asset URLs (or the
    /// empty `data:` favicon), and the page has no inline script.
    #[test]
    fn the_page_loads_only_blogqls_own_assets() {
        let mut references = 0;
        for attribute in ["src=\"", "href=\""] {
            for (at, _) in PAGE.match_indices(attribute) {
                let url = &PAGE[at + attribute.len()..];
                assert!(
                    url.starts_with("/graphiql/") || url.starts_with("data:"),
                    "{}",
                    &url[..url.find('"').unwrap_or(url.len())]
                );
                references += 1;
            }
        }
        assert_eq!(references, 3, "{PAGE}");
        assert!(PAGE.contains("/graphiql/graphiql.js?v="), "{PAGE}");
        assert!(PAGE.contains("/graphiql/graphiql.css?v="), "{PAGE}");
        assert!(!PAGE.contains("<script>") && !PAGE.contains("style="), "{PAGE}");
        assert!(PAGE.contains("<title>blogql</title>"), "{PAGE}");
    }

    /// Fonts and icons are `data:` URLs inside the stylesheet; nothing is imported.
    #[test]
    fn the_stylesheet_refers_to_no_other_file() {
        let css = String::from_utf8_lossy(CSS);
        assert!(!css.contains("@import"));
        for (at, _) in css.match_indices("url(") {
            let url = css[at + 4..].trim_start_matches(['"', '\'']);
            assert!(
                url.starts_with("data:") || url.starts_with('#'),
                "{}",
                url.chars().take(80).collect::<String>()
            );
        }
    }
}
