//! Secrets at rest: integration credentials (webhook secrets, auth tokens, verify tokens) are
//! sealed with AES-256-GCM under a master key that never enters the database. Each value is
//! bound to where it belongs (associated data such as `channel:<id>:webhook_secret`), so a
//! ciphertext copied into another row does not open, and a changed byte is an integrity error.

use crate::secret::Secret;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use sha2::{Digest, Sha256};
use std::path::Path;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the sealed value was made with key {0}, which is not configured")]
    UnknownKey(String),
    #[error("the sealed value failed its integrity check (altered, or bound to another record)")]
    Integrity,
}

/// Seals and opens small secrets with the master key.
#[derive(Clone)]
pub struct SecretCipher {
    key_id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretCipher({})", self.key_id)
    }
}

impl SecretCipher {
    pub fn new(key: &Secret<[u8; 32]>) -> Self {
        let digest = Sha256::digest(key.expose());
        let key_id = hex::encode(&digest[..4]);
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key.expose()));
        Self { key_id, cipher }
    }

    /// The master key from `COMMLOG_MASTER_KEY` (64 hex characters), else a random one kept in
    /// `<data_dir>/master.key` (mode 0600) — back that file up separately from the database.
    pub fn load(data_dir: &Path) -> anyhow::Result<Self> {
        let parse = |text: &str| -> anyhow::Result<[u8; 32]> {
            let bytes = hex::decode(text.trim())
                .map_err(|_| anyhow::anyhow!("the master key must be 64 hex characters"))?;
            bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("the master key must be 32 bytes (64 hex characters)"))
        };
        if let Ok(text) = std::env::var("COMMLOG_MASTER_KEY") {
            return Ok(Self::new(&Secret::new(parse(&text)?)));
        }
        let path = data_dir.join("master.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(Self::new(&Secret::new(parse(&text)?)));
        }
        std::fs::create_dir_all(data_dir)?;
        let key: [u8; 32] = rand::random();
        std::fs::write(&path, hex::encode(key))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(Self::new(&Secret::new(key)))
    }

    /// `v1:<key id>:<base64 nonce ‖ ciphertext>`, bound to `context`.
    pub fn seal(&self, plaintext: &str, context: &str) -> String {
        let nonce_bytes: [u8; 12] = rand::random();
        let nonce = Nonce::from(nonce_bytes);
        // Encryption with a valid key and nonce cannot fail; an empty result would fail to open.
        let ct = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut blob = nonce_bytes.to_vec();
        blob.extend_from_slice(&ct);
        format!("v1:{}:{}", self.key_id, STANDARD_NO_PAD.encode(blob))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Secret, CryptoError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some("v1"), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Malformed);
        };
        if key_id != self.key_id {
            return Err(CryptoError::UnknownKey(key_id.to_owned()));
        }
        let blob = STANDARD_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Malformed)?;
        if blob.len() < 12 + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ct) = blob.split_at(12);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Malformed)?;
        let plain = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Integrity)?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| CryptoError::Integrity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(byte: u8) -> SecretCipher {
        SecretCipher::new(&Secret::new([byte; 32]))
    }

    #[test]
    fn sealed_values_open_only_in_their_context_and_never_show_the_plaintext() {
        let c = cipher(7);
        let sealed = c.seal("whsec_hunter2", "channel:1:webhook_secret");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(
            c.open(&sealed, "channel:1:webhook_secret")
                .expect("opens")
                .expose(),
            "whsec_hunter2"
        );
        assert_eq!(
            c.open(&sealed, "channel:2:webhook_secret").map(|_| ()),
            Err(CryptoError::Integrity)
        );
        assert_ne!(
            sealed,
            c.seal("whsec_hunter2", "channel:1:webhook_secret"),
            "fresh nonce each time"
        );
    }

    #[test]
    fn a_changed_byte_is_an_integrity_error_never_garbage() {
        let c = cipher(7);
        let sealed = c.seal("secret value", "ctx");
        let (head, body) = sealed.rsplit_once(':').expect("format");
        let mut bytes = STANDARD_NO_PAD.decode(body).expect("b64");
        for i in [0, 12, bytes.len() - 1] {
            bytes[i] ^= 1;
            let tampered = format!("{head}:{}", STANDARD_NO_PAD.encode(&bytes));
            assert_eq!(
                c.open(&tampered, "ctx").map(|_| ()),
                Err(CryptoError::Integrity),
                "byte {i}"
            );
            bytes[i] ^= 1;
        }
        assert!(matches!(
            cipher(8).open(&sealed, "ctx"),
            Err(CryptoError::UnknownKey(_))
        ));
        assert_eq!(
            c.open("v1:zz", "ctx").map(|_| ()),
            Err(CryptoError::Malformed)
        );
        assert_eq!(
            c.open("plain text", "ctx").map(|_| ()),
            Err(CryptoError::Malformed)
        );
    }
}
