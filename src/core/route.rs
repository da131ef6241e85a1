//! The app's routes: which page a path shows. Three routes do not need a router framework, and
//! leptos_router alone costs about 45 KB gzip of wasm (measured), a third of the size budget.

/// What the content area shows for a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/`: the start page.
    Home,
    /// `/views/<id>`: one configured API view.
    View(String),
    /// Anything else.
    NotFound,
}

/// The route for `path` (no query or fragment). One trailing slash is ignored. View ids are
/// restricted by the configuration to letters, digits, `-` and `_`, so a segment with anything
/// else (an encoded slash, say) matches no view and shows "not found".
pub fn parse(path: &str) -> Route {
    let path = match path.strip_suffix('/') {
        Some(rest) if !rest.is_empty() => rest,
        _ => path,
    };
    if path == "/" || path.is_empty() {
        return Route::Home;
    }
    match path.strip_prefix("/views/") {
        Some(id) if !id.is_empty() && !id.contains('/') => Route::View(id.to_string()),
        _ => Route::NotFound,
    }
}

/// The path of an API view's page.
pub fn view_path(id: &str) -> String {
    format!("/views/{id}")
}

/// The path part of `path?query#fragment`.
pub fn path_of(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_with_and_without_slash() {
        assert_eq!(parse("/"), Route::Home);
        assert_eq!(parse(""), Route::Home);
    }

    #[test]
    fn view_ids() {
        assert_eq!(parse("/views/studies"), Route::View("studies".into()));
        assert_eq!(parse("/views/studies/"), Route::View("studies".into()));
        assert_eq!(parse(&view_path("me")), Route::View("me".into()));
    }

    #[test]
    fn everything_else_is_not_found() {
        for path in ["/views", "/views/", "/views/a/b", "/nope", "/views//"] {
            assert_eq!(parse(path), Route::NotFound, "{path}");
        }
    }

    #[test]
    fn path_of_strips_query_and_fragment() {
        assert_eq!(path_of("/views/a?x=1#y"), "/views/a");
        assert_eq!(path_of("/#y"), "/");
        assert_eq!(path_of("/plain"), "/plain");
    }
}
