//! The HTTP transport around the API: security response headers, CORS, per-caller rate
//! limits, TLS 1.3 serving, and the configuration that switches them on.

pub mod buckets;
pub mod config;
pub mod cors;
pub mod headers;
pub mod ratelimit;
pub mod tls;

pub use config::{HttpArgs, HttpConfig};
