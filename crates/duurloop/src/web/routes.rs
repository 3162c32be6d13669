//! A router that remembers what it serves, so tests can check every route is covered.

use axum::{Router, handler::Handler, routing::MethodRouter};

use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: &'static str,
    pub path: &'static str,
}

pub struct RouteTable {
    router: Router<AppState>,
    list: Vec<RouteInfo>,
}

impl Default for RouteTable {
    fn default() -> Self {
        Self::new()
    }
}

impl RouteTable {
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            list: Vec::new(),
        }
    }

    fn add(mut self, method: &'static str, path: &'static str, mr: MethodRouter<AppState>) -> Self {
        self.list.push(RouteInfo { method, path });
        self.router = self.router.route(path, mr);
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("GET", path, axum::routing::get(h))
    }
    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("POST", path, axum::routing::post(h))
    }
    /// A POST route for file uploads, with its own body limit (the default is 2 MiB).
    pub fn post_upload<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        h: H,
        limit: usize,
    ) -> Self {
        self.add(
            "POST",
            path,
            axum::routing::post(h).layer(axum::extract::DefaultBodyLimit::max(limit)),
        )
    }
    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("PUT", path, axum::routing::put(h))
    }
    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("DELETE", path, axum::routing::delete(h))
    }

    pub fn finish(self) -> (Router<AppState>, Vec<RouteInfo>) {
        (self.router, self.list)
    }
}

impl RouteTable {
    /// Records a route that another router serves (Swagger UI), so tests still see it.
    pub fn note(mut self, method: &'static str, path: &'static str) -> Self {
        self.list.push(RouteInfo { method, path });
        self
    }
}
