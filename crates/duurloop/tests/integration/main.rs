//! One integration-test binary. Every test starts the real app on port 0 with a fresh
//! database: SQLite, or PostgreSQL when `DUURLOOP_TEST_POSTGRES_URL` is set.

mod helpers;

mod accounts;
mod api;
mod audit_chain;
mod authz;
mod erasure;
mod export;
mod front_door;
mod funding;
mod mail;
mod measure;
mod messages;
mod openapi;
mod orgs;
mod platform;
mod rate_limits;
mod region;
mod reports;
mod research;
mod retention;
mod secrets;
mod training;
