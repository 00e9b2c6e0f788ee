//! Master keys, and secrets at rest: the operator's master keys (current and retired, see
//! [`MasterKeys`]) wrap the data keys of encryption at rest (`commlog_store::encryption`) and
//! seal integration credentials (webhook secrets, auth tokens, verify tokens) with AES-256-GCM;
//! they never enter the database. Each value is
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

/// The operator's master keys: the current one (`COMMLOG_MASTER_KEY`, 64 hex characters, else
/// `<data_dir>/master.key`, made on first start with mode 0600) and retired ones that still open
/// what they wrapped (`COMMLOG_RETIRED_MASTER_KEYS`, comma-separated, and the files
/// `<data_dir>/master-keys/*.key`). None of them is ever stored in the database: back up the key
/// files separately from it.
#[derive(Clone)]
pub struct MasterKeys {
    pub current: [u8; 32],
    pub retired: Vec<[u8; 32]>,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MasterKeys(current {}, {} retired)",
            commlog_store::encryption::master_key_id(&self.current),
            self.retired.len()
        )
    }
}

fn parse_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = hex::decode(text.trim())
        .map_err(|_| anyhow::anyhow!("a master key must be 64 hex characters"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("a master key must be 32 bytes (64 hex characters)"))
}

#[cfg(unix)]
fn private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}
#[cfg(not(unix))]
fn private(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Writes a key file atomically (aside, then renamed), readable by its owner only.
fn write_key(path: &Path, key: &[u8; 32]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, hex::encode(key))?;
    private(&tmp)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

impl MasterKeys {
    pub fn load(data_dir: &Path) -> anyhow::Result<Self> {
        let mut retired = Vec::new();
        if let Ok(list) = std::env::var("COMMLOG_RETIRED_MASTER_KEYS") {
            for k in list.split(',').filter(|k| !k.trim().is_empty()) {
                retired.push(parse_key(k)?);
            }
        }
        if let Ok(entries) = std::fs::read_dir(data_dir.join("master-keys")) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "key") {
                    retired.push(parse_key(&std::fs::read_to_string(e.path())?)?);
                }
            }
        }
        if let Ok(text) = std::env::var("COMMLOG_MASTER_KEY") {
            return Ok(Self {
                current: parse_key(&text)?,
                retired,
            });
        }
        let path = data_dir.join("master.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(Self {
                current: parse_key(&text)?,
                retired,
            });
        }
        let key: [u8; 32] = rand::random();
        write_key(&path, &key)?;
        Ok(Self {
            current: key,
            retired,
        })
    }

    /// Makes a new current master key in `<data_dir>/master.key`, keeping the old one in
    /// `<data_dir>/master-keys/<id>.key`; returns (old id, new id). Refused when the key comes
    /// from the environment: the operator replaces it there.
    pub fn rotate(data_dir: &Path) -> anyhow::Result<(String, String)> {
        if std::env::var_os("COMMLOG_MASTER_KEY").is_some() {
            anyhow::bail!(
                "the master key comes from COMMLOG_MASTER_KEY: put a new key there and the old one in COMMLOG_RETIRED_MASTER_KEYS, then run `commlog keys rewrap`"
            );
        }
        let old = Self::load(data_dir)?.current;
        let old_id = commlog_store::encryption::master_key_id(&old);
        // The old key is kept first, so that no moment exists without it.
        write_key(
            &data_dir.join("master-keys").join(format!("{old_id}.key")),
            &old,
        )?;
        let new: [u8; 32] = rand::random();
        write_key(&data_dir.join("master.key"), &new)?;
        Ok((old_id, commlog_store::encryption::master_key_id(&new)))
    }

    /// A keyring for encryption at rest that reads these keys again from `data_dir` when it
    /// meets a master key it does not know (another process rotated them).
    pub fn keyring(&self, data_dir: &Path) -> std::sync::Arc<commlog_store::encryption::Keyring> {
        let ring = std::sync::Arc::new(commlog_store::encryption::Keyring::new(
            self.current,
            &self.retired,
        ));
        let dir = data_dir.to_path_buf();
        ring.set_loader(std::sync::Arc::new(move || {
            MasterKeys::load(&dir).ok().map(|k| (k.current, k.retired))
        }));
        ring
    }
}

/// Seals and opens small secrets with the master key (and opens with retired ones).
#[derive(Clone)]
pub struct SecretCipher {
    key_id: String,
    cipher: Aes256Gcm,
    /// The root of keys derived from the master key (not the master key itself).
    derivation: [u8; 32],
    retired: std::collections::HashMap<String, Aes256Gcm>,
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
        let mut derivation = Sha256::new();
        derivation.update(b"commlog key derivation\0");
        derivation.update(key.expose());
        Self {
            key_id,
            cipher,
            derivation: derivation.finalize().into(),
            retired: Default::default(),
        }
    }

    /// A key for `label`, derived from the current master key (HMAC-SHA-256): the same for the
    /// same master key, another after a rotation.
    pub fn derive_key(&self, label: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.derivation).expect("any key length");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A cipher sealing with the current master key and opening with any configured one.
    pub fn from_keys(keys: &MasterKeys) -> Self {
        let mut c = Self::new(&Secret::new(keys.current));
        for k in &keys.retired {
            c.retired.insert(
                commlog_store::encryption::master_key_id(k),
                Aes256Gcm::new(&Key::<Aes256Gcm>::from(*k)),
            );
        }
        c
    }

    /// The cipher from the master keys of `data_dir` (see [`MasterKeys::load`]).
    pub fn load(data_dir: &Path) -> anyhow::Result<Self> {
        Ok(Self::from_keys(&MasterKeys::load(data_dir)?))
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
        let cipher = if key_id == self.key_id {
            &self.cipher
        } else {
            self.retired
                .get(key_id)
                .ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?
        };
        let blob = STANDARD_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Malformed)?;
        if blob.len() < 12 + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ct) = blob.split_at(12);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Malformed)?;
        let plain = cipher
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
