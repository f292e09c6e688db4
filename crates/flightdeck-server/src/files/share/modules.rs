//! The page of `ui/` as one file: `index.html` with its stylesheets and icon inlined, and its
//! script replaced by the shared data, `ui/shared.js`, and the page's modules as `data:`
//! URLs under an import map. A module's relative imports (`from './lib/api.js'`) are
//! rewritten to names the map knows (`flightdeck/lib/api.js`): a `data:` module has no base
//! URL to resolve them against.

use super::data_url;
use serde_json::{Map, Value};

/// Where the page's files live in the import map.
const PREFIX: &str = "flightdeck/";

/// The whole page around `data`, titled `title`.
pub fn html(data: &Value, title: &str) -> String {
    let text = |path: &str| String::from_utf8_lossy(&file(path)).into_owned();
    let icon = data_url("image/svg+xml", &file("favicon.svg"));
    let mut imports = Map::new();
    for path in flightdeck_ui::files().filter(|p| p.ends_with(".js") || p.ends_with(".mjs")) {
        if path == "shared.js" {
            continue;
        }
        let source = rewrite(&text(&path), &path).replace("/assets/favicon.svg", &icon);
        imports.insert(
            format!("{PREFIX}{path}"),
            Value::String(data_url("text/javascript", source.as_bytes())),
        );
    }
    let map = serde_json::json!({ "imports": imports });
    let scripts = format!(
        "<script type=\"application/json\" id=\"flightdeck-shared\">{}</script>\n  \
         <script>{}</script>\n  \
         <script type=\"importmap\">{}</script>\n  \
         <script type=\"module\">import '{PREFIX}app.js';</script>",
        script_safe(&data.to_string()),
        text("shared.js"),
        map
    );
    text("index.html")
        .replace(
            "<link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\">",
            &format!("<link rel=\"icon\" href=\"{icon}\" type=\"image/svg+xml\">"),
        )
        .replace(
            "<link rel=\"stylesheet\" href=\"/assets/style.css\">",
            &format!("<style>{}</style>", text("style.css")),
        )
        .replace(
            "<link rel=\"stylesheet\" href=\"/assets/vendor/uplot.css\">",
            &format!("<style>{}</style>", text("vendor/uplot.css")),
        )
        .replace(
            "<script type=\"module\" src=\"/assets/app.js\"></script>",
            &scripts,
        )
        .replace(
            "<title>Flightdeck</title>",
            &format!("<title>{} · Flightdeck (shared)</title>", escape(title)),
        )
}

fn file(path: &str) -> Vec<u8> {
    // The page's own files are built in (or read from ui/ in a debug build).
    flightdeck_ui::file(path).unwrap_or_default()
}

/// JSON that may sit inside a `<script>` element: `</` never appears in it.
fn script_safe(json: &str) -> String {
    json.replace("</", "<\\/")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `source` (the module at `path`) with each relative import named under [`PREFIX`]: the
/// specifier right after `from`, `import` or `import(` (looked for as such, so an apostrophe
/// in a comment pairs with nothing).
pub fn rewrite(source: &str, path: &str) -> String {
    let dir: Vec<&str> = match path.rsplit_once('/') {
        Some((d, _)) => d.split('/').collect(),
        None => Vec::new(),
    };
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some((at, open)) = next_specifier(rest) {
        let quote = rest.as_bytes()[at + open - 1] as char;
        let start = at + open;
        let Some(len) = rest[start..].find(quote) else {
            break;
        };
        let literal = &rest[start..start + len];
        out.push_str(&rest[..start]);
        if literal.starts_with("./") || literal.starts_with("../") {
            out.push_str(PREFIX);
            out.push_str(&resolve(&dir, literal));
        } else {
            out.push_str(literal);
        }
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// The next `from '`, `import "`, `import('` ...: its offset and its length (up to the
/// opening quote, included).
fn next_specifier(s: &str) -> Option<(usize, usize)> {
    const OPENERS: [&str; 6] = [
        "from '",
        "from \"",
        "import '",
        "import \"",
        "import('",
        "import(\"",
    ];
    OPENERS
        .iter()
        .filter_map(|o| s.find(o).map(|i| (i, o.len())))
        .min()
}

/// `relative` (`./x.js`, `../lib/y.js`) from the folder `dir`, as a path inside `ui/`.
fn resolve(dir: &[&str], relative: &str) -> String {
    let mut parts: Vec<&str> = dir.to_vec();
    for segment in relative.split('/') {
        match segment {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports_are_named_under_the_prefix_and_nothing_else_changes() {
        let src = "import { html } from '../vendor/preact-htm.mjs';\nimport \"./a.js\";\nconst s = './not-an-import.js';\nconst m = await import('../lib/x.js');";
        let out = rewrite(src, "views/graph.js");
        assert_eq!(
            out,
            "import { html } from 'flightdeck/vendor/preact-htm.mjs';\nimport \"flightdeck/views/a.js\";\nconst s = './not-an-import.js';\nconst m = await import('flightdeck/lib/x.js');"
        );
        assert_eq!(
            rewrite("import { a } from './lib/a.js';", "app.js"),
            "import { a } from 'flightdeck/lib/a.js';"
        );
    }
}
