//! SQL-level tests (`#[pg_test]`, run in PostgreSQL by `cargo pgrx test`):
//! the PostgREST flow as PostgREST plays it (`request.*` settings in,
//! `response.*` out), accounts, passwords, privileges, signing keys, and compatibility
//! with the plpgsql + caddy-jwt setup. Each file holds one `#[pg_schema] mod
//! tests`: pgrx runs them from schema `tests`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod accounts;
mod claims;
mod compat;
mod defence;
mod fixtures;
mod mfa;
mod passkeys;
mod passwords;
mod privileges;
mod session_api;
mod sessions;
mod settings;
mod signing_keys;
mod signup;
