//! Sign-in: argon2id password hashes, HS256 JWT access and refresh tokens carrying user,
//! company and role, and the [`Auth`] extractor every `/api/` handler takes.

use crate::error::ApiError;
use crate::state::AppState;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use commlog_domain::{Actor, Permission, Role};
use commlog_store::{RequestMeta, Scope};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use uuid::Uuid;

pub const ACCESS_TTL_SECONDS: i64 = 15 * 60;
pub const REFRESH_TTL_SECONDS: i64 = 7 * 24 * 3600;
/// How long a second factor may take after the password was accepted.
pub const MFA_TTL_SECONDS: i64 = 5 * 60;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// Whether `password` matches the stored PHC hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The password policy: long enough to resist guessing, short enough to hash quickly.
pub fn check_password_policy(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if !(10..=200).contains(&n) {
        return Err(ApiError::field(
            "password",
            "weak_password",
            "a password must be 10 to 200 characters",
        ));
    }
    Ok(())
}

/// What a token says about its bearer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: Uuid,
    pub cid: Uuid,
    pub role: Role,
    pub team: Option<Uuid>,
    pub cmp: bool,
    /// `access` or `refresh`: a refresh token is never accepted as an access token.
    pub typ: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: Uuid,
    /// The session an access or refresh token belongs to (none for an MFA challenge token).
    #[serde(default)]
    pub sid: Option<Uuid>,
    /// Always [`AUDIENCE`]: a token minted for another service with the same key is refused.
    #[serde(default)]
    pub aud: String,
}

/// The audience every Commlog token names and every check requires.
pub const AUDIENCE: &str = "commlog-api";

/// Claims of the request's access token, already verified (by the rate limiter) and put in
/// the request's extensions, which only the server writes.
#[derive(Debug, Clone)]
pub struct VerifiedAccess(pub Claims);

/// The signing keys.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// Signs a token of type `typ` (`access`, `refresh` or `mfa`) for `user` in session `sid`;
    /// `jti` names this very token (a refresh token's `jti` is what rotation compares).
    pub fn issue(
        &self,
        user: &commlog_domain::User,
        typ: &str,
        sid: Option<Uuid>,
        jti: Uuid,
    ) -> Result<(String, i64), ApiError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = match typ {
            "refresh" => REFRESH_TTL_SECONDS,
            "mfa" => MFA_TTL_SECONDS,
            "ws" => crate::events::ws::TICKET_TTL_SECONDS,
            _ => ACCESS_TTL_SECONDS,
        };
        let claims = Claims {
            sub: user.id,
            cid: user.company_id,
            role: user.role,
            team: user.team_id,
            cmp: user.is_compliance,
            typ: typ.into(),
            exp: now + ttl,
            iat: now,
            jti,
            sid,
            aud: AUDIENCE.into(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)?;
        Ok((token, ttl))
    }

    /// Verifies signature, algorithm (HS256 only), expiry and token type.
    pub fn verify(&self, token: &str, typ: &str) -> Result<Claims, ApiError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 5;
        v.set_required_spec_claims(&["exp", "sub", "aud"]);
        v.set_audience(&[AUDIENCE]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map_err(|_| ApiError::unauthorized("the token is invalid or has expired"))?;
        if data.claims.typ != typ {
            return Err(ApiError::unauthorized(
                "the token is invalid or has expired",
            ));
        }
        Ok(data.claims)
    }
}

/// An authenticated caller: its scope for the store and its permissions.
pub struct Auth {
    pub scope: Scope,
    /// The session behind a person's access token (none for API tokens).
    pub session_id: Option<Uuid>,
    store: std::sync::Arc<commlog_store::Store>,
}

impl Auth {
    pub fn actor(&self) -> &Actor {
        &self.scope.actor
    }

    /// Refuses with 403 unless the caller's role (and token scope) grants `p`; denials are audited.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.actor().can(p) {
            return Ok(());
        }
        tracing::info!(user = %self.actor().user_id, company = %self.actor().company_id, permission = p.as_str(), "permission denied");
        let (store, scope) = (self.store.clone(), self.scope.clone());
        // The denial changes nothing, so its record need not hold up the answer.
        tokio::spawn(async move {
            let changes = serde_json::json!({"permission": p.as_str()});
            if let Err(e) = store
                .record_audit(&scope, "permission_denied", "permission", None, changes)
                .await
            {
                tracing::warn!(error = %e, "could not audit a permission denial");
            }
        });
        Err(ApiError::forbidden("your role does not allow this"))
    }

    /// Records a read of sensitive content (transcripts, attachments, exports).
    pub async fn audit_read(
        &self,
        what: &str,
        entity_type: &str,
        id: Uuid,
    ) -> Result<(), ApiError> {
        self.store
            .record_audit(
                &self.scope,
                what,
                entity_type,
                Some(id),
                serde_json::json!({}),
            )
            .await?;
        Ok(())
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized("sign in first: send Authorization: Bearer <access token>")
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?
            .trim();
        let meta = request_meta(parts);
        let store = state.store.clone();
        if let Some(rest) = token.strip_prefix(API_TOKEN_PREFIX) {
            let actor = api_token_actor(state, rest).await?;
            return Ok(Auth {
                scope: Scope { actor, meta },
                session_id: None,
                store,
            });
        }
        let claims = match parts.extensions.get::<VerifiedAccess>() {
            Some(verified) => verified.0.clone(),
            None => state.jwt.verify(token, "access")?,
        };
        let (actor, sid) = session_actor(state, &claims).await?;
        Ok(Auth {
            scope: Scope { actor, meta },
            session_id: Some(sid),
            store,
        })
    }
}

impl Auth {
    /// The caller of a signed-in session, for front ends that authenticate otherwise (the web
    /// app's cookies) and then share the API's handlers.
    pub fn for_session(
        state: &AppState,
        actor: Actor,
        session_id: Uuid,
        meta: RequestMeta,
    ) -> Self {
        Auth {
            scope: Scope { actor, meta },
            session_id: Some(session_id),
            store: state.store.clone(),
        }
    }
}

/// The person behind a verified token of a session, and the session. Re-read on every
/// request: a revoked session, a deactivated user or a changed role takes effect at once, not
/// when the token expires.
pub async fn session_actor(state: &AppState, claims: &Claims) -> Result<(Actor, Uuid), ApiError> {
    let sid = claims
        .sid
        .ok_or_else(|| ApiError::unauthorized("the token is invalid or has expired"))?;
    let (user, _) = state
        .store
        .session_user(claims.cid, sid)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the session has ended; sign in again"))?;
    let actor = Actor {
        company_id: user.company_id,
        user_id: user.id,
        role: user.role,
        team_id: user.team_id,
        compliance: user.is_compliance,
        limited_to: None,
    };
    Ok((actor, sid))
}

/// API tokens look like `clt_<id>_<secret>`: the id finds the row, the secret's hash must match.
pub const API_TOKEN_PREFIX: &str = "clt_";

/// A new API token's (id, full token text, stored hash).
pub fn new_api_token() -> (Uuid, String, String) {
    let id = Uuid::now_v7();
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let hash = token_hash(&secret);
    (
        id,
        format!("{API_TOKEN_PREFIX}{}_{secret}", id.simple()),
        hash,
    )
}

fn token_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

async fn api_token_actor(state: &AppState, rest: &str) -> Result<Actor, ApiError> {
    let invalid = || ApiError::unauthorized("the API token is invalid, expired or revoked");
    let (id, secret) = rest.split_once('_').ok_or_else(invalid)?;
    let id = Uuid::parse_str(id).map_err(|_| invalid())?;
    let (company_id, token, stored) = state
        .store
        .api_token_for_auth(id)
        .await?
        .ok_or_else(invalid)?;
    let presented = token_hash(secret);
    // Compare in constant time: the stored value is a hash, but timing should say nothing.
    let same = presented.len() == stored.len()
        && presented
            .bytes()
            .zip(stored.bytes())
            .fold(0_u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(invalid());
    }
    let limited_to = token
        .permissions
        .iter()
        .filter_map(|p| Permission::parse(p))
        .collect::<Vec<_>>();
    Ok(Actor {
        company_id,
        user_id: token.created_by_user_id,
        role: token.role,
        team_id: None,
        compliance: false,
        limited_to: (!token.permissions.is_empty()).then_some(limited_to),
    })
}

/// Client address, user agent and request id, for the audit trail.
pub fn request_meta(parts: &Parts) -> RequestMeta {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect::<String>())
    };
    RequestMeta {
        ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        user_agent: header("user-agent"),
        request_id: header("x-request-id"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_typed_and_signed() {
        let keys = JwtKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let user = commlog_domain::User {
            id: Uuid::now_v7(),
            company_id: Uuid::now_v7(),
            email: "a@b.co".into(),
            full_name: "A".into(),
            role: Role::SalesRep,
            team_id: None,
            capacity: 5,
            is_active: true,
            is_compliance: false,
            created_at: time::OffsetDateTime::now_utc(),
        };
        let (access, _) = keys
            .issue(&user, "access", Some(Uuid::now_v7()), Uuid::now_v7())
            .expect("issue");
        assert_eq!(keys.verify(&access, "access").expect("valid").sub, user.id);
        assert!(keys.verify(&access, "refresh").is_err());
        let other = JwtKeys::from_secret(b"another secret another secret!!");
        assert!(other.verify(&access, "access").is_err());
        let mut tampered = access.clone();
        tampered.insert(access.len() / 2, 'x');
        assert!(keys.verify(&tampered, "access").is_err());
    }
}
