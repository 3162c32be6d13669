//! Duurloop: running therapy on prescription. See `docs/ARCHITECTURE.md` for the map.

pub mod app;
pub mod charts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod export;
pub mod geo;
pub mod i18n;
pub mod mail;
pub mod migrations;
pub mod secrets;
pub mod state;
pub mod store;
pub mod web;
