//! The opt-in fallback for desktops without a Secret Service: every secret in one file,
//! encrypted with XChaCha20-Poly1305 under a key derived from the user's passphrase with
//! Argon2id.
//!
//! File layout (all integers little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0  | 8  | magic `CAPSTSEC` |
//! | 8  | 1  | format version (1) |
//! | 9  | 1  | KDF id (1 = Argon2id v0x13) |
//! | 10 | 4  | Argon2 memory (KiB) |
//! | 14 | 4  | Argon2 iterations |
//! | 18 | 4  | Argon2 lanes |
//! | 22 | 16 | salt |
//! | 38 | 24 | key-check nonce |
//! | 62 | 16 | key-check tag: AEAD of the empty message, AAD = bytes 0..62 |
//! | 78 | 24 | body nonce |
//! | 102 | .. | body ciphertext + 16-byte tag, AAD = bytes 0..102 |
//!
//! The key-check tag is what tells a wrong passphrase (`wrong_passphrase`) apart from a
//! damaged body (`corrupt`): the same AEAD tag alone could not. It also authenticates the KDF
//! parameters and salt, so editing them reads as a wrong passphrase, never as success.
//!
//! The body is a count followed by `(account, value)` pairs with length prefixes; it is built
//! and parsed in zeroized buffers and never goes through serde, so secrets cannot end up in
//! any other format by accident.
//!
//! Writes go to a 0600 temporary file in the same folder, are synced, then renamed over the
//! file, so a crash leaves either the old or the new file. A file that fails to open is never
//! rewritten: every error leaves it as it was.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::{Result, Secret, SecretKey, SecretStore, SecretsError, StoreKind, refuse_empty};

/// Shortest passphrase [`EncryptedFileStore::create`] accepts, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

const MAGIC: &[u8; 8] = b"CAPSTSEC";
const VERSION: u8 = 1;
const KDF_ARGON2ID_V13: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;

const PARAMS_START: usize = 10;
const SALT_START: usize = 22;
const CHECK_NONCE_START: usize = SALT_START + SALT_LEN; // 38
const CHECK_TAG_START: usize = CHECK_NONCE_START + NONCE_LEN; // 62
const CHECK_END: usize = CHECK_TAG_START + TAG_LEN; // 78
const HEADER_LEN: usize = CHECK_END + NONCE_LEN; // 102

// Bounds on KDF parameters read from a file, so a damaged or hostile header cannot make the
// app allocate gigabytes or spin for minutes before failing.
const MAX_MEMORY_KIB: u32 = 1 << 20; // 1 GiB
const MAX_ITERATIONS: u32 = 16;
const MAX_LANES: u32 = 16;

/// Argon2id cost parameters, stored in the file header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    memory_kib: u32,
    iterations: u32,
    lanes: u32,
}

impl KdfParams {
    /// RFC 9106's second recommended option (64 MiB, 3 passes); lanes = 1 because the
    /// `argon2` crate computes lanes sequentially here, so more lanes only cost time.
    pub const RECOMMENDED: Self = Self {
        memory_kib: 64 * 1024,
        iterations: 3,
        lanes: 1,
    };

    /// Custom parameters (tests use tiny ones to stay fast). `None` when out of range:
    /// memory 8×lanes KiB ..= 1 GiB, iterations 1..=16, lanes 1..=16.
    pub fn new(memory_kib: u32, iterations: u32, lanes: u32) -> Option<Self> {
        let ok = (1..=MAX_LANES).contains(&lanes)
            && (1..=MAX_ITERATIONS).contains(&iterations)
            && memory_kib >= 8 * lanes
            && memory_kib <= MAX_MEMORY_KIB;
        ok.then_some(Self {
            memory_kib,
            iterations,
            lanes,
        })
    }

    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    pub fn lanes(&self) -> u32 {
        self.lanes
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::RECOMMENDED
    }
}

type Entries = BTreeMap<String, Zeroizing<String>>;

struct Unlocked {
    /// Derived once at create/open; zeroized when the store is dropped.
    key: Zeroizing<[u8; KEY_LEN]>,
    /// Magic through key-check tag: fixed for the life of the file (same salt, same key).
    header: [u8; CHECK_END],
    entries: Entries,
}

pub struct EncryptedFileStore {
    path: PathBuf,
    params: KdfParams,
    state: Mutex<Unlocked>,
}

impl EncryptedFileStore {
    /// Creates a new, empty secrets file protected by `passphrase`. Refuses to replace an
    /// existing file (`file_exists`); creates missing parent folders (0700 on unix).
    pub fn create(path: impl Into<PathBuf>, passphrase: &Secret) -> Result<Self> {
        Self::create_with_params(path, passphrase, KdfParams::RECOMMENDED)
    }

    /// [`Self::create`] with explicit KDF cost (tests use cheap parameters).
    pub fn create_with_params(
        path: impl Into<PathBuf>,
        passphrase: &Secret,
        params: KdfParams,
    ) -> Result<Self> {
        let path = path.into();
        if passphrase.expose().chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(SecretsError::PassphraseTooShort {
                min_chars: MIN_PASSPHRASE_CHARS,
            });
        }
        match fs::symlink_metadata(&path) {
            Ok(_) => return Err(SecretsError::FileExists { path }),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(SecretsError::Io {
                    action: "inspect",
                    path,
                    source,
                });
            }
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(parent).map_err(|source| SecretsError::Io {
                action: "create the folder for",
                path: path.clone(),
                source,
            })?;
        }

        let (key, header) =
            new_key_and_header(passphrase, params).map_err(|source| SecretsError::Io {
                action: "create",
                path: path.clone(),
                source,
            })?;

        let store = Self {
            path,
            params,
            state: Mutex::new(Unlocked {
                key,
                header,
                entries: Entries::new(),
            }),
        };
        {
            let state = store.lock();
            store.persist(&state, &state.entries)?;
        }
        Ok(store)
    }

    /// Opens and unlocks an existing secrets file. Errors: `file_not_found`,
    /// `wrong_passphrase`, `corrupt`, `unsupported_version`, `file_io`. The file is left
    /// untouched in every error case.
    pub fn open(path: impl Into<PathBuf>, passphrase: &Secret) -> Result<Self> {
        let path = path.into();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(SecretsError::FileNotFound { path });
            }
            Err(source) => {
                return Err(SecretsError::Io {
                    action: "read",
                    path,
                    source,
                });
            }
        };
        let corrupt = |reason: &str| SecretsError::Corrupt {
            path: path.clone(),
            reason: reason.to_owned(),
        };

        if bytes.len() < 9 || &bytes[..8] != MAGIC {
            return Err(corrupt("it is not a Capstan secrets file"));
        }
        match bytes[8] {
            VERSION => {}
            0 => return Err(corrupt("its format version is invalid")),
            found => {
                return Err(SecretsError::UnsupportedVersion {
                    path,
                    found,
                    supported: VERSION,
                });
            }
        }
        if bytes.len() < HEADER_LEN + TAG_LEN {
            return Err(corrupt("it is truncated"));
        }
        if bytes[9] != KDF_ARGON2ID_V13 {
            return Err(corrupt("its key derivation method is unknown"));
        }
        let read_u32 = |at: usize| {
            let mut word = [0u8; 4];
            word.copy_from_slice(&bytes[at..at + 4]);
            u32::from_le_bytes(word)
        };
        let params = KdfParams::new(
            read_u32(PARAMS_START),
            read_u32(PARAMS_START + 4),
            read_u32(PARAMS_START + 8),
        )
        .ok_or_else(|| corrupt("its key derivation parameters are out of range"))?;

        let key = derive_key(passphrase, &bytes[SALT_START..CHECK_NONCE_START], params)
            .map_err(|reason| corrupt(&reason))?;
        let aead = cipher(&key);
        let check = aead.decrypt(
            XNonce::from_slice(&bytes[CHECK_NONCE_START..CHECK_TAG_START]),
            Payload {
                msg: &bytes[CHECK_TAG_START..CHECK_END],
                aad: &bytes[..CHECK_TAG_START],
            },
        );
        if check.is_err() {
            return Err(SecretsError::WrongPassphrase { path });
        }
        let plaintext = aead
            .decrypt(
                XNonce::from_slice(&bytes[CHECK_END..HEADER_LEN]),
                Payload {
                    msg: &bytes[HEADER_LEN..],
                    aad: &bytes[..HEADER_LEN],
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                corrupt("its contents fail authentication: the file was modified or damaged")
            })?;
        let entries =
            decode_entries(&plaintext).ok_or_else(|| corrupt("its contents cannot be read"))?;

        let mut header = [0u8; CHECK_END];
        header.copy_from_slice(&bytes[..CHECK_END]);
        Ok(Self {
            path,
            params,
            state: Mutex::new(Unlocked {
                key,
                header,
                entries,
            }),
        })
    }

    /// Re-encrypts the file under `new_passphrase` (new salt, same KDF cost). The store is
    /// already unlocked, so the old passphrase was proven at open; a UI that wants it typed
    /// again can check it with [`Self::open`] first. On error the file and the store keep
    /// the old passphrase.
    pub fn change_passphrase(&self, new_passphrase: &Secret) -> Result<()> {
        if new_passphrase.expose().chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(SecretsError::PassphraseTooShort {
                min_chars: MIN_PASSPHRASE_CHARS,
            });
        }
        let (key, header) =
            new_key_and_header(new_passphrase, self.params).map_err(|source| SecretsError::Io {
                action: "re-encrypt",
                path: self.path.clone(),
                source,
            })?;
        let mut state = self.lock();
        let next = Unlocked {
            key,
            header,
            entries: state.entries.clone(),
        };
        self.persist(&next, &next.entries)?;
        *state = next;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn kdf_params(&self) -> KdfParams {
        self.params
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().entries.is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, Unlocked> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Encrypts `entries` under a fresh nonce and replaces the file atomically.
    fn persist(&self, state: &Unlocked, entries: &Entries) -> Result<()> {
        let io_err = |action: &'static str| {
            let path = self.path.clone();
            move |source| SecretsError::Io {
                action,
                path,
                source,
            }
        };
        let plaintext = encode_entries(entries);
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut bytes = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        bytes.extend_from_slice(&state.header);
        bytes.extend_from_slice(&nonce);
        let ciphertext = cipher(&state.key)
            .encrypt(
                &nonce,
                Payload {
                    msg: &plaintext,
                    aad: &bytes,
                },
            )
            .map_err(|_| io_err("encrypt")(io::Error::other("the cipher rejected the message")))?;
        bytes.extend_from_slice(&ciphertext);
        write_atomically(&self.path, &bytes).map_err(io_err("write"))
    }
}

impl fmt::Debug for EncryptedFileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedFileStore")
            .field("path", &self.path)
            .field("kdf", &self.params)
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl SecretStore for EncryptedFileStore {
    fn kind(&self) -> StoreKind {
        StoreKind::EncryptedFile
    }

    fn get(&self, key: &SecretKey) -> Result<Option<Secret>> {
        Ok(self
            .lock()
            .entries
            .get(&key.account())
            .map(|value| Secret::new(value.as_str())))
    }

    fn set(&self, key: &SecretKey, value: &Secret) -> Result<()> {
        refuse_empty(key, value)?;
        let mut state = self.lock();
        // Write first, then update memory: a failed write leaves both as they were.
        let mut next = state.entries.clone();
        next.insert(key.account(), Zeroizing::new(value.expose().to_owned()));
        self.persist(&state, &next)?;
        state.entries = next;
        Ok(())
    }

    fn delete(&self, key: &SecretKey) -> Result<bool> {
        let mut state = self.lock();
        let account = key.account();
        if !state.entries.contains_key(&account) {
            return Ok(false);
        }
        let mut next = state.entries.clone();
        next.remove(&account);
        self.persist(&state, &next)?;
        state.entries = next;
        Ok(true)
    }
}

fn cipher(key: &[u8; KEY_LEN]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(Key::from_slice(key))
}

/// A fresh salt, the key derived from `passphrase`, and a header whose key-check tag proves
/// that key.
fn new_key_and_header(
    passphrase: &Secret,
    params: KdfParams,
) -> io::Result<(Zeroizing<[u8; KEY_LEN]>, [u8; CHECK_END])> {
    let salt: [u8; SALT_LEN] = random_bytes()?;
    let check_nonce: [u8; NONCE_LEN] = random_bytes()?;
    let key = derive_key(passphrase, &salt, params).map_err(io::Error::other)?;

    let mut header = [0u8; CHECK_END];
    header[..8].copy_from_slice(MAGIC);
    header[8] = VERSION;
    header[9] = KDF_ARGON2ID_V13;
    header[PARAMS_START..PARAMS_START + 4].copy_from_slice(&params.memory_kib.to_le_bytes());
    header[PARAMS_START + 4..PARAMS_START + 8].copy_from_slice(&params.iterations.to_le_bytes());
    header[PARAMS_START + 8..PARAMS_START + 12].copy_from_slice(&params.lanes.to_le_bytes());
    header[SALT_START..CHECK_NONCE_START].copy_from_slice(&salt);
    header[CHECK_NONCE_START..CHECK_TAG_START].copy_from_slice(&check_nonce);
    let check_tag = cipher(&key)
        .encrypt(
            XNonce::from_slice(&check_nonce),
            Payload {
                msg: &[],
                aad: &header[..CHECK_TAG_START],
            },
        )
        .map_err(|_| io::Error::other("the cipher rejected the key check"))?;
    header[CHECK_TAG_START..CHECK_END].copy_from_slice(&check_tag);
    Ok((key, header))
}

fn derive_key(
    passphrase: &Secret,
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>, String> {
    let argon_params = Params::new(
        params.memory_kib,
        params.iterations,
        params.lanes,
        Some(KEY_LEN),
    )
    .map_err(|err| format!("its key derivation parameters are invalid ({err})"))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params)
        .hash_password_into(passphrase.expose().as_bytes(), salt, key.as_mut())
        .map_err(|err| format!("key derivation failed ({err})"))?;
    Ok(key)
}

fn encode_entries(entries: &Entries) -> Zeroizing<Vec<u8>> {
    let size = 4 + entries
        .iter()
        .map(|(k, v)| 8 + k.len() + v.len())
        .sum::<usize>();
    let mut out = Zeroizing::new(Vec::with_capacity(size));
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for (account, value) in entries {
        out.extend_from_slice(&(account.len() as u32).to_le_bytes());
        out.extend_from_slice(account.as_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

fn decode_entries(mut input: &[u8]) -> Option<Entries> {
    fn take<'a>(input: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if input.len() < n {
            return None;
        }
        let (head, tail) = input.split_at(n);
        *input = tail;
        Some(head)
    }
    fn take_u32(input: &mut &[u8]) -> Option<usize> {
        let mut word = [0u8; 4];
        word.copy_from_slice(take(input, 4)?);
        usize::try_from(u32::from_le_bytes(word)).ok()
    }
    fn take_str(input: &mut &[u8]) -> Option<Zeroizing<String>> {
        let len = take_u32(input)?;
        let bytes = take(input, len)?;
        std::str::from_utf8(bytes)
            .ok()
            .map(|s| Zeroizing::new(s.to_owned()))
    }
    let count = take_u32(&mut input)?;
    let mut entries = Entries::new();
    for _ in 0..count {
        let account = take_str(&mut input)?;
        let value = take_str(&mut input)?;
        entries.insert(account.as_str().to_owned(), value);
    }
    input.is_empty().then_some(entries)
}

pub(crate) fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|err| io::Error::other(format!("the OS random generator failed: {err}")))?;
    Ok(bytes)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes a file only its owner can read (anything holding credentials, such as a
/// kubeconfig): missing folders are made 0700, then [`write_atomically`], so a reader never
/// sees half a file and the bytes never sit in a world-readable file.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    write_atomically(path, bytes)
}

/// Temp file (0600, same folder) → write → fsync → rename over `path` → fsync the folder.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let suffix: [u8; 6] = random_bytes()?;
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = dir.join(format!(
        ".{}.{}-{suffix}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));

    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    // Make the rename itself durable; not every platform can open a folder, so best effort.
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_reject_trailing_or_short_input() {
        let mut entries = Entries::new();
        entries.insert("e/palette_api_key".into(), Zeroizing::new("v1".into()));
        entries.insert("e/prism_password".into(), Zeroizing::new("pässwörd".into()));
        let bytes = encode_entries(&entries);
        let back = decode_entries(&bytes).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back["e/prism_password"].as_str(), "pässwörd");
        let mut trailing = bytes.to_vec();
        trailing.push(0);
        assert!(decode_entries(&trailing).is_none());
        assert!(decode_entries(&bytes[..bytes.len() - 1]).is_none());
        assert!(decode_entries(&[]).is_none());
        // A huge count with no data must fail, not allocate.
        assert!(decode_entries(&u32::MAX.to_le_bytes()).is_none());
    }

    #[test]
    fn kdf_params_are_bounded() {
        assert!(KdfParams::new(64, 1, 1).is_some());
        assert!(KdfParams::new(7, 1, 1).is_none());
        assert!(KdfParams::new(64, 0, 1).is_none());
        assert!(KdfParams::new(64, 1, 0).is_none());
        assert!(KdfParams::new(MAX_MEMORY_KIB + 1, 1, 1).is_none());
        assert!(KdfParams::new(1024, 17, 1).is_none());
        assert_eq!(KdfParams::default(), KdfParams::RECOMMENDED);
    }
}
