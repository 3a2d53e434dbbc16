//! `GET /`: the live page. One HTML document with its CSS and script inline (the files in
//! `assets/`, embedded at compile time: nothing is fetched from anywhere else), and the
//! `/api/state` document of the moment embedded as JSON, so the first paint already shows
//! the tasks. The script then polls `api/state` and `api/history` every 2 s and draws the
//! hashrate chart as SVG; every value from the network enters the DOM as text.

use crate::view::StateView;

/// Everything before the embedded state.
const BEFORE_STATE: &str = concat!(
    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">",
    // No favicon request: the browser would ask for /favicon.ico otherwise.
    "<link rel=\"icon\" href=\"data:,\"><title>mesos-miner</title><style>",
    include_str!("assets/page.css"),
    "</style></head><body id=\"page\">",
    include_str!("assets/body.html"),
    "<script id=\"initial-state\" type=\"application/json\">",
);

/// Everything after it.
const AFTER_STATE: &str = concat!(
    "</script><script>",
    include_str!("assets/page.js"),
    "</script></body></html>\n",
);

/// JSON made safe inside a `<script>` element: `<`, `>` and `&` as `\u` escapes (valid in
/// JSON strings, and no other place of a JSON text holds them), so a task message reading
/// `</script>` cannot end the element (HTML spec, "restrictions for contents of script
/// elements"). U+2028/2029 are escaped too, for old parsers that take JSON as JavaScript.
pub fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The page with `view` embedded.
pub fn render(view: &StateView) -> String {
    let json = serde_json::to_string(view).unwrap_or_else(|_| "null".into());
    let json = script_json(&json);
    let mut out = String::with_capacity(BEFORE_STATE.len() + json.len() + AFTER_STATE.len());
    out.push_str(BEFORE_STATE);
    out.push_str(&json);
    out.push_str(AFTER_STATE);
    out
}

/// Bytes of the page without any state (the weight the issue bounds at 200 KB).
pub fn static_weight() -> usize {
    BEFORE_STATE.len() + AFTER_STATE.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_json_cannot_close_the_script() {
        let view = StateView {
            master: Some("</script><script>alert(1)</script>&\u{2028}".into()),
            ..StateView::default()
        };
        let html = render(&view);
        assert_eq!(html.matches("</script>").count(), 2, "only the page's own");
        let start = html.find("application/json\">").expect("state element") + 18;
        let end = start + html[start..].find("</script>").expect("end");
        let back: StateView = serde_json::from_str(&html[start..end]).expect("valid JSON");
        assert_eq!(back, view);
    }
}
