//! What can go wrong in the store, in terms the API can map to a status code.

use commlog_domain::ValidationErrors;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row within the caller's scope (also: exists but is not visible).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (`constraint` names it).
    #[error("conflict: {message}")]
    Conflict { constraint: String, message: String },
    /// The input breaks a rule; each error names its field.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    /// A business rule refuses the operation in the current state (e.g. deleting a log with an
    /// active follow-up); `code` is stable for clients.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The caller may see the row but not do this to it.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The database cannot be reached or is overloaded; worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

impl StoreError {
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(ValidationErrors::single(field, code, message))
    }

    pub fn corrupt(what: &str) -> Self {
        Self::Other(format!("unreadable stored value in {what}"))
    }
}

impl From<ValidationErrors> for StoreError {
    fn from(e: ValidationErrors) -> Self {
        Self::Invalid(e)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match &e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => Self::Unavailable(e.to_string()),
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                match db.kind() {
                    ErrorKind::UniqueViolation => Self::Conflict {
                        constraint: db.constraint().unwrap_or("unique").to_owned(),
                        message: "a record with the same unique value already exists".into(),
                    },
                    ErrorKind::ForeignKeyViolation => Self::invalid(
                        "reference",
                        "unknown_reference",
                        "a referenced record does not exist in this company",
                    ),
                    // PostgreSQL: too many connections, shutting down, cannot connect now;
                    // SQLite: busy / locked.
                    _ if matches!(
                        code.as_str(),
                        "53300" | "57P01" | "57P02" | "57P03" | "5" | "6" | "517"
                    ) =>
                    {
                        Self::Unavailable(db.message().to_owned())
                    }
                    _ => Self::Other(e.to_string()),
                }
            }
            _ => Self::Other(e.to_string()),
        }
    }
}
