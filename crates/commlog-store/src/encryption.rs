//! Encryption at rest: envelope keys and sealed fields.
//!
//! Master keys never enter the database: the operator keeps them (a file or the environment)
//! and hands them to [`Keyring::new`]. Each company's data is sealed with AES-256-GCM under
//! *data keys* — one for the company, one per contact and per customer (so erasing a person can
//! destroy their key: crypto-shredding), and one that keys the search index — stored in the
//! `data_keys` table wrapped by a master key, whose id is stored beside each wrapped key. Rotating
//! the master key re-wraps data keys only; sealed values stay as they are.
//!
//! A sealed value is text: `enc1:<data key id>:<base64(nonce ‖ ciphertext)>`, bound by its
//! associated data to the column and row it belongs to, so a ciphertext moved to another row does
//! not open and a changed byte is an integrity error, never garbage.
//!
//! Full-text search works on sealed content through a blind index: each normalised word of a log
//! is stored as `HMAC-SHA256(search key, word)` (first 16 bytes, hex), and a search looks up the
//! keyed hashes of its words. It matches whole words, case- and accent-insensitively; it does not
//! stem, match prefixes or phrases, or rank.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use uuid::Uuid;

/// The prefix of every sealed value.
pub const SEALED_PREFIX: &str = "enc1:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("a sealed value is malformed")]
    Malformed,
    #[error("a sealed value failed its integrity check (altered, or moved from another record)")]
    Integrity,
    #[error("master key {0} is not configured")]
    UnknownMasterKey(String),
    #[error("data key {0} is destroyed or unknown")]
    UnknownDataKey(Uuid),
}

/// The id of a master key: the first 4 bytes of its SHA-256, in hex.
pub fn master_key_id(key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(key)[..4])
}

/// One unwrapped data key.
pub struct DataKey {
    pub id: Uuid,
    cipher: Aes256Gcm,
    /// For the search key: the HMAC key of the blind index.
    raw: [u8; 32],
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({})", self.id)
    }
}

impl DataKey {
    pub fn new(id: Uuid, raw: [u8; 32]) -> Self {
        Self {
            id,
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(raw)),
            raw,
        }
    }

    /// `enc1:<id>:<base64>` of `plaintext`, bound to `aad`.
    pub fn seal(&self, plaintext: &str, aad: &str) -> String {
        let nonce: [u8; 12] = rand::random();
        // Encryption with a valid key and a fresh nonce cannot fail.
        let ct = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!(
            "{SEALED_PREFIX}{}:{}",
            self.id.simple(),
            STANDARD_NO_PAD.encode(blob)
        )
    }

    fn open_bytes(&self, blob: &[u8], aad: &str) -> Result<Vec<u8>, SealError> {
        if blob.len() < 12 + 16 {
            return Err(SealError::Malformed);
        }
        let (nonce, ct) = blob.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SealError::Malformed)?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SealError::Integrity)
    }

    /// Seals bytes (files): `nonce ‖ ciphertext`, bound to `aad`.
    pub fn seal_bytes(&self, plaintext: &[u8], aad: &str) -> Vec<u8> {
        let nonce: [u8; 12] = rand::random();
        let ct = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out
    }

    pub fn open_sealed_bytes(&self, blob: &[u8], aad: &str) -> Result<Vec<u8>, SealError> {
        self.open_bytes(blob, aad)
    }

    /// The blind-index token of one normalised word.
    pub fn token(&self, word: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.raw).expect("any key length");
        mac.update(word.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

/// The data key id a sealed value names, if it is one.
pub fn sealed_key_id(text: &str) -> Option<Result<Uuid, SealError>> {
    let rest = text.strip_prefix(SEALED_PREFIX)?;
    Some(
        rest.split_once(':')
            .and_then(|(id, _)| Uuid::parse_str(id).ok())
            .ok_or(SealError::Malformed),
    )
}

/// Opens `text` with `key` (which must be the key it names).
pub fn open(key: &DataKey, text: &str, aad: &str) -> Result<String, SealError> {
    let rest = text
        .strip_prefix(SEALED_PREFIX)
        .ok_or(SealError::Malformed)?;
    let (_, b64) = rest.split_once(':').ok_or(SealError::Malformed)?;
    let blob = STANDARD_NO_PAD
        .decode(b64)
        .map_err(|_| SealError::Malformed)?;
    String::from_utf8(key.open_bytes(&blob, aad)?).map_err(|_| SealError::Malformed)
}

/// The words a text is indexed and searched by: lower-cased, accents removed, split on
/// anything not a letter or digit; words of one character are skipped.
pub fn index_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 1)
        .map(fold)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Lower-cases and strips the common Latin accents (é → e), so "Café" finds "cafe".
fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            other => other,
        })
        .collect()
}

/// Reads the operator's master keys again: (current, retired). Called when a data key names a
/// master key this process does not know yet — another process rotated the keys — so reads keep
/// working through a rotation without a restart.
pub type MasterKeyLoader = Arc<dyn Fn() -> Option<([u8; 32], Vec<[u8; 32]>)> + Send + Sync>;

/// The master keys an operator configured, and the data keys unwrapped so far.
pub struct Keyring {
    current: RwLock<(String, [u8; 32])>,
    masters: RwLock<HashMap<String, [u8; 32]>>,
    loader: RwLock<Option<MasterKeyLoader>>,
    data: RwLock<HashMap<Uuid, Arc<DataKey>>>,
    /// Live data key per (company, scope).
    scopes: RwLock<HashMap<(Uuid, String), Uuid>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring(current {})", self.current_master_id())
    }
}

impl Keyring {
    /// A keyring wrapping new data keys with `current`; `retired` keys still unwrap old ones.
    pub fn new(current: [u8; 32], retired: &[[u8; 32]]) -> Self {
        let mut masters: HashMap<String, [u8; 32]> =
            retired.iter().map(|k| (master_key_id(k), *k)).collect();
        let id = master_key_id(&current);
        masters.insert(id.clone(), current);
        Self {
            current: RwLock::new((id, current)),
            masters: RwLock::new(masters),
            loader: RwLock::default(),
            data: RwLock::default(),
            scopes: RwLock::default(),
        }
    }

    pub fn current_master_id(&self) -> String {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// Makes `key` the master key new data keys are wrapped with (the old one keeps opening).
    pub fn set_current(&self, key: [u8; 32]) {
        let id = master_key_id(&key);
        self.masters
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), key);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = (id, key);
    }

    /// Where to read the master keys again when an unknown one is met.
    pub fn set_loader(&self, loader: MasterKeyLoader) {
        *self.loader.write().unwrap_or_else(|e| e.into_inner()) = Some(loader);
    }

    /// Every configured master key id, the current one first.
    pub fn master_ids(&self) -> Vec<String> {
        let current = self.current_master_id();
        let mut ids: Vec<String> = self
            .masters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .filter(|k| **k != current)
            .cloned()
            .collect();
        ids.sort();
        ids.insert(0, current);
        ids
    }

    /// The master key with this id, reading the keys again once if it is unknown.
    fn master(&self, id: &str) -> Result<[u8; 32], SealError> {
        if let Some(k) = self
            .masters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            return Ok(*k);
        }
        let loader = self
            .loader
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some((current, retired)) = loader.and_then(|l| l()) {
            {
                let mut masters = self.masters.write().unwrap_or_else(|e| e.into_inner());
                for k in retired {
                    masters.insert(master_key_id(&k), k);
                }
            }
            self.set_current(current);
        }
        self.masters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .copied()
            .ok_or_else(|| SealError::UnknownMasterKey(id.to_owned()))
    }

    /// Wraps any secret bytes (a file's data key) with the current master key, bound to `aad`:
    /// (master key id, nonce ‖ ciphertext).
    pub fn wrap_raw(&self, raw: &[u8; 32], aad: &str) -> (String, Vec<u8>) {
        let (mid, master) = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        (mid, DataKey::new(Uuid::nil(), master).seal_bytes(raw, aad))
    }

    /// Unwraps what [`Keyring::wrap_raw`] wrapped.
    pub fn unwrap_raw(
        &self,
        master_id: &str,
        blob: &[u8],
        aad: &str,
    ) -> Result<[u8; 32], SealError> {
        let master = self.master(master_id)?;
        DataKey::new(Uuid::nil(), master)
            .open_bytes(blob, aad)?
            .try_into()
            .map_err(|_| SealError::Malformed)
    }

    fn wrap_aad(company: Uuid, id: Uuid, scope: &str) -> String {
        format!("data-key:{company}:{id}:{scope}")
    }

    /// Wraps a data key with the current master key: (master key id, base64 blob).
    pub fn wrap(&self, company: Uuid, id: Uuid, scope: &str, raw: &[u8; 32]) -> (String, String) {
        let (mid, master) = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let k = DataKey::new(Uuid::nil(), master);
        let blob = k.seal_bytes(raw, &Self::wrap_aad(company, id, scope));
        (mid, STANDARD_NO_PAD.encode(blob))
    }

    /// Unwraps a stored data key.
    pub fn unwrap(
        &self,
        company: Uuid,
        id: Uuid,
        scope: &str,
        master_id: &str,
        wrapped: &str,
    ) -> Result<[u8; 32], SealError> {
        let master = self.master(master_id)?;
        let blob = STANDARD_NO_PAD
            .decode(wrapped)
            .map_err(|_| SealError::Malformed)?;
        let raw = DataKey::new(Uuid::nil(), master)
            .open_bytes(&blob, &Self::wrap_aad(company, id, scope))?;
        raw.try_into().map_err(|_| SealError::Malformed)
    }

    pub fn cached(&self, id: Uuid) -> Option<Arc<DataKey>> {
        self.data
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    pub fn cached_scope(&self, company: Uuid, scope: &str) -> Option<Arc<DataKey>> {
        let id = *self
            .scopes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(company, scope.to_owned()))?;
        self.cached(id)
    }

    pub fn remember(&self, company: Uuid, scope: &str, key: Arc<DataKey>) {
        self.scopes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert((company, scope.to_owned()), key.id);
        self.data
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.id, key);
    }

    /// Forgets a destroyed data key.
    pub fn forget(&self, company: Uuid, scope: &str) {
        if let Some(id) = self
            .scopes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(company, scope.to_owned()))
        {
            self.data
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
    }
}

tokio::task_local! {
    static KEYS: Option<Arc<Keyring>>;
}

/// Runs `f` with the store's keyring (none: encryption at rest is off).
pub(crate) async fn within<F: std::future::Future>(keys: Option<Arc<Keyring>>, f: F) -> F::Output {
    KEYS.scope(keys, f).await
}

/// The keyring of the running store call, when encryption at rest is on.
pub(crate) fn current() -> Option<Arc<Keyring>> {
    KEYS.try_with(Clone::clone).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_where_they_belong() {
        let k = DataKey::new(Uuid::now_v7(), [3; 32]);
        let sealed = k.seal("call me at 555", "content:1");
        assert!(sealed.starts_with(SEALED_PREFIX));
        assert!(!sealed.contains("555"));
        assert_eq!(sealed_key_id(&sealed), Some(Ok(k.id)));
        assert_eq!(
            open(&k, &sealed, "content:1").as_deref(),
            Ok("call me at 555")
        );
        assert_eq!(open(&k, &sealed, "content:2"), Err(SealError::Integrity));
        // A flipped byte anywhere in the ciphertext is an integrity error.
        let mut bytes = sealed.clone().into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        assert!(matches!(
            open(&k, &tampered, "content:1"),
            Err(SealError::Integrity | SealError::Malformed)
        ));
        assert_eq!(sealed_key_id("plain text"), None);
    }

    #[test]
    fn data_keys_unwrap_under_any_configured_master_key() {
        let old = [1u8; 32];
        let ring = Keyring::new(old, &[]);
        let (company, id) = (Uuid::now_v7(), Uuid::now_v7());
        let (mid, wrapped) = ring.wrap(company, id, "company", &[9; 32]);
        assert_eq!(mid, master_key_id(&old));
        ring.set_current([2u8; 32]);
        assert_eq!(
            ring.unwrap(company, id, "company", &mid, &wrapped),
            Ok([9; 32])
        );
        assert_eq!(
            ring.unwrap(company, id, "contact:x", &mid, &wrapped),
            Err(SealError::Integrity)
        );
        let fresh = Keyring::new([2u8; 32], &[]);
        assert!(matches!(
            fresh.unwrap(company, id, "company", &mid, &wrapped),
            Err(SealError::UnknownMasterKey(_))
        ));
    }

    #[test]
    fn words_are_folded_for_the_blind_index() {
        assert_eq!(
            index_words("Café RENEWAL, renewal; a x42"),
            vec!["cafe", "renewal", "x42"]
        );
        let k = DataKey::new(Uuid::nil(), [5; 32]);
        assert_eq!(k.token("renewal"), k.token("renewal"));
        assert_ne!(
            k.token("renewal"),
            DataKey::new(Uuid::nil(), [6; 32]).token("renewal")
        );
    }
}
