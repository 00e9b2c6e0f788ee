//! Identifiers: every new row gets a time-ordered UUIDv7 so that inserts stay index-local.

use uuid::Uuid;

/// A fresh time-ordered identifier.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
