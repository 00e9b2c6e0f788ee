//! Commlog's text analysis: pure CPU, no I/O and no async, so every function here can run
//! on a worker thread or in a test with nothing else set up.
//!
//! - [`text`] and [`cleanup`]: sentences, transcripts, words; quoted replies and signatures.
//! - [`sentiment`]: VADER and the aggregation of any engine's sentence scores.
//! - [`topics`]: YAKE-style key phrases per log and their counts over many logs.
//! - [`pii`]: e-mail addresses, phone numbers, payment cards, IBANs, US SSNs and known names,
//!   and masking.
//! - [`followup`]: a commitment with a due time ("call me back tomorrow at 3pm").
//! - [`language`]: the language of a message.
//! - [`categorize`]: keyword rules, and keywords learnt from corrected examples.
//! - [`escalation`]: rules that decide when a log needs a manager.
#![forbid(unsafe_code)]

pub mod categorize;
pub mod cleanup;
pub mod escalation;
pub mod followup;
pub mod language;
pub mod pii;
pub mod sentiment;
mod stopwords;
pub mod text;
pub mod topics;
