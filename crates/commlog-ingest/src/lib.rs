//! Capture connectors, pure half: everything between the raw bytes a provider sends and a
//! provider-neutral event, with no I/O.
//!
//! - [`signature`]: webhook authenticity (Twilio, Slack, Meta/WhatsApp, Commlog's own scheme).
//! - [`twilio`], [`generic`]: call status callbacks → [`event::CallEvent`]; [`snapshot`] folds
//!   call events into one converged [`snapshot::CallSnapshot`] whatever their arrival order.
//! - [`cdr`], [`xml_cdr`]: Asterisk/FreeSWITCH call-detail records → [`cdr::CdrRecord`].
//! - [`slack`], [`whatsapp`], [`graph`]: messaging webhooks → [`event::MessageEvent`].
//!
//! Every parser takes a size-bounded input, returns a [`ParseError`] (or a per-line
//! [`cdr::CdrLineError`]) naming what is wrong, and never panics on what it is given.
//! Verify signatures on the raw bytes first, then parse.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cdr;
mod cdr_fields;
pub mod cdr_profile;
pub mod email;
pub mod error;
pub mod event;
mod form;
pub mod generic;
pub mod graph;
pub mod signature;
pub mod slack;
pub mod snapshot;
pub mod twilio;
pub mod tz;
pub mod whatsapp;
pub mod xml_cdr;

pub use error::ParseError;
pub use event::{
    CallEvent, CallOutcome, CallSource, CallState, MessageChange, MessageChannel, MessageEvent,
    RecordingEvent, RecordingRef, RecordingStatus,
};
pub use signature::SignatureError;
pub use snapshot::{CallSnapshot, merge};

/// The largest webhook body any parser here accepts (1 MiB); enforce it before buffering too.
pub const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;
