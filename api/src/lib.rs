//! The HTTP side of AstroGrowth: REST API, dashboard and admin queue UI. Built in the
//! API issue on top of `jobs::admin` and `shared`.
