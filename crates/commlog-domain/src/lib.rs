//! Commlog's pure domain: identifiers, enumerations, the status state machine, the role and
//! permission matrix, and the validation rules of a communication log.
//!
//! Nothing here does I/O; the store and the server build on these types so that a rule is
//! written once and holds for every interface.
#![forbid(unsafe_code)]

pub mod analytics;
pub mod audit;
pub mod buckets;
pub mod calendar;
pub mod compliance;
pub mod enums;
pub mod error;
pub mod filters;
pub mod ids;
pub mod list;
pub mod log;
pub mod permissions;
pub mod phone;
pub mod processing;
pub mod records;
pub mod status;
pub mod time_fmt;
pub mod validation;

pub use enums::*;
pub use error::{FieldError, ValidationErrors};
pub use ids::new_id;
pub use log::{
    CommunicationLog, CommunicationLogPatch, NewCommunicationLog, NewParticipant, Participant,
};
pub use permissions::{Actor, Permission, Visibility};
pub use records::*;
