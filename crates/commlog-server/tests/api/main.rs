//! API integration tests: every endpoint through the real router, on SQLite and PostgreSQL.

mod helpers;

mod analytics;
mod attachments;
mod auth;
mod capture;
mod cli;
mod compliance;
mod contract;
mod email;
mod encryption;
mod errors;
mod events;
mod hardening;
mod identity;
mod imap;
mod logs;
mod people;
mod processing;
mod reference;
mod roles;
mod tenancy;
mod web;
