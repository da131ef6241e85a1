//! The app's own addresses as text: an API view's route, and the address a sign-in comes back
//! to.

/// The route of the API view `id` (`/views/<id>`, matched by the router's `/views/:id`).
pub fn view_path(id: &str) -> String {
    format!("/views/{id}")
}

/// Where a sign-in started on the page at `path`, with the query `search` (without its `?`),
/// comes back to: the same path and query.
pub fn return_path(path: &str, search: &str) -> String {
    if search.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{search}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_has_its_route() {
        assert_eq!(view_path("studies"), "/views/studies");
    }

    #[test]
    fn a_sign_in_returns_to_the_path_and_its_query() {
        assert_eq!(return_path("/views/studies", ""), "/views/studies");
        assert_eq!(return_path("/", "view=library"), "/?view=library");
    }
}
