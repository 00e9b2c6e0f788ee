//! The `commlog` server: configuration, the REST API, authentication, blob storage, the HTTP
//! transport (TLS, CORS, security headers, rate limits) and the command-line tasks (migrate,
//! company and user creation, seeding, OpenAPI export).
#![forbid(unsafe_code)]

pub mod analytics;
pub mod api;
pub mod attach;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod capture;
pub mod cli;
pub mod compliance;
pub mod crypto;
pub mod email_import;
pub mod error;
pub mod events;
pub mod extract;
pub mod http;
pub mod import;
pub mod models;
pub mod processing;
pub mod secret;
pub mod seed;
pub mod smtp;
pub mod state;
pub mod totp;
pub mod web;
