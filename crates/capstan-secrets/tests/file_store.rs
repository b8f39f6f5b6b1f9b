//! The encrypted-file store against real files in a temp folder.

use std::fs;
use std::path::Path;
use std::time::Instant;

use capstan_secrets::{
    EncryptedFileStore, KdfParams, Secret, SecretKey, SecretStore, SecretsError, StoreKind, names,
};

const PASSPHRASE: &str = "correct horse battery staple";
const PLANTED: &str = "planted-secret-value-3c9e1d";

/// Cheap Argon2 parameters so the suite stays fast; one test below uses the real ones.
fn fast() -> KdfParams {
    KdfParams::new(64, 1, 1).expect("valid test parameters")
}

fn key(env: &str, name: &str) -> SecretKey {
    SecretKey::new(env, name).expect("valid key")
}

fn create(path: &Path) -> EncryptedFileStore {
    EncryptedFileStore::create_with_params(path, &Secret::new(PASSPHRASE), fast()).expect("create")
}

fn open(path: &Path, passphrase: &str) -> Result<EncryptedFileStore, SecretsError> {
    EncryptedFileStore::open(path, &Secret::new(passphrase))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn round_trip_and_reopen_with_the_right_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    let api = key("env-1", names::PALETTE_API_KEY);
    let prism = key("env-1", names::PRISM_PASSWORD);
    let other_env = key("env-2", names::PRISM_PASSWORD);
    {
        let store = create(&path);
        assert_eq!(store.kind(), StoreKind::EncryptedFile);
        assert!(store.is_empty());
        store.set(&api, &Secret::new(PLANTED)).unwrap();
        store.set(&prism, &Secret::new("first")).unwrap();
        store.set(&prism, &Secret::new("pässwörd ✓")).unwrap();
        store.set(&other_env, &Secret::new("other")).unwrap();
        assert!(store.delete(&other_env).unwrap());
        assert!(!store.delete(&other_env).unwrap());
        assert_eq!(store.get(&api).unwrap().unwrap().expose(), PLANTED);
    }
    let reopened = open(&path, PASSPHRASE).expect("reopen");
    assert_eq!(reopened.len(), 2);
    assert_eq!(reopened.get(&api).unwrap().unwrap().expose(), PLANTED);
    assert_eq!(
        reopened.get(&prism).unwrap().unwrap().expose(),
        "pässwörd ✓"
    );
    assert_eq!(reopened.get(&other_env).unwrap(), None);
    assert_eq!(
        reopened.kdf_params(),
        fast(),
        "parameters come from the header"
    );
}

#[test]
fn wrong_passphrase_is_a_typed_error_and_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    create(&path)
        .set(&key("env", names::PRISM_PASSWORD), &Secret::new(PLANTED))
        .unwrap();
    let before = fs::read(&path).unwrap();

    let err = open(&path, "correct horse battery stapler").unwrap_err();
    assert_eq!(err.code(), "wrong_passphrase", "{err:?}");
    assert!(err.to_string().contains("does not unlock"), "{err}");
    let err = open(&path, "").unwrap_err();
    assert_eq!(err.code(), "wrong_passphrase");

    assert_eq!(
        fs::read(&path).unwrap(),
        before,
        "a failed open must not write"
    );
    assert!(open(&path, PASSPHRASE).is_ok());
}

/// Flips one byte at `offset` in a copy of a valid file and returns the open error's code.
fn code_after_tampering(valid: &[u8], offset: usize, dir: &Path) -> String {
    let path = dir.join(format!("tampered-{offset}"));
    let mut bytes = valid.to_vec();
    bytes[offset] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    let err = open(&path, PASSPHRASE).expect_err("a tampered file must not open");
    assert_eq!(
        fs::read(&path).unwrap(),
        bytes,
        "tampered file was rewritten"
    );
    err.code().to_owned()
}

#[test]
fn tampering_is_detected_and_classified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    create(&path)
        .set(&key("env", names::PALETTE_API_KEY), &Secret::new(PLANTED))
        .unwrap();
    let valid = fs::read(&path).unwrap();
    let last = valid.len() - 1;

    // Magic → not our file; a KDF id we do not know → corrupt.
    assert_eq!(code_after_tampering(&valid, 0, dir.path()), "corrupt");
    assert_eq!(code_after_tampering(&valid, 9, dir.path()), "corrupt");
    // Salt or key-check tag edited: the key check fails, as for a wrong passphrase.
    assert_eq!(
        code_after_tampering(&valid, 30, dir.path()),
        "wrong_passphrase"
    );
    assert_eq!(
        code_after_tampering(&valid, 70, dir.path()),
        "wrong_passphrase"
    );
    // Body nonce, ciphertext, tag: the key is right but the contents fail authentication.
    for offset in [80, 110, last] {
        assert_eq!(code_after_tampering(&valid, offset, dir.path()), "corrupt");
    }

    let truncated = dir.path().join("truncated");
    fs::write(&truncated, &valid[..60]).unwrap();
    let err = open(&truncated, PASSPHRASE).unwrap_err();
    assert_eq!(err.code(), "corrupt");
    assert!(err.to_string().contains("truncated"), "{err}");

    let cut_body = dir.path().join("cut-body");
    fs::write(&cut_body, &valid[..last]).unwrap();
    assert_eq!(open(&cut_body, PASSPHRASE).unwrap_err().code(), "corrupt");

    let newer = dir.path().join("newer");
    let mut bytes = valid.clone();
    bytes[8] = 2;
    fs::write(&newer, &bytes).unwrap();
    let err = open(&newer, PASSPHRASE).unwrap_err();
    assert_eq!(err.code(), "unsupported_version");
    assert!(err.to_string().contains("Update Capstan"), "{err}");

    let not_ours = dir.path().join("not-ours");
    fs::write(&not_ours, b"{\"palette_api_key\": \"x\"}").unwrap();
    let err = open(&not_ours, PASSPHRASE).unwrap_err();
    assert_eq!(err.code(), "corrupt");
    assert!(
        err.to_string().contains("not a Capstan secrets file"),
        "{err}"
    );
}

#[test]
fn header_with_huge_kdf_cost_is_rejected_before_deriving() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    create(&path);
    let mut bytes = fs::read(&path).unwrap();
    // Memory cost field (offset 10): u32::MAX KiB would be 4 TiB.
    bytes[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(&path, &bytes).unwrap();
    let started = Instant::now();
    let err = open(&path, PASSPHRASE).unwrap_err();
    assert_eq!(err.code(), "corrupt");
    assert!(started.elapsed().as_secs() < 2);
}

#[test]
fn file_bytes_never_contain_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    let store = create(&path);
    store
        .set(
            &key("env-plain", names::PALETTE_API_KEY),
            &Secret::new(PLANTED),
        )
        .unwrap();
    store
        .set(
            &key("env-plain", names::PALETTE_SYSADMIN_PASSWORD),
            &Secret::new("second-planted-9d"),
        )
        .unwrap();
    let bytes = fs::read(&path).unwrap();
    for needle in [
        PLANTED,
        "second-planted-9d",
        PASSPHRASE,
        "palette_api_key",
        "env-plain",
    ] {
        assert!(
            !contains(&bytes, needle.as_bytes()),
            "{needle:?} appears in the file"
        );
    }
    assert!(bytes.starts_with(b"CAPSTSEC\x01"));
}

#[test]
fn every_write_uses_a_fresh_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    let store = create(&path);
    let k = key("env", names::PRISM_PASSWORD);
    store.set(&k, &Secret::new(PLANTED)).unwrap();
    let first = fs::read(&path).unwrap();
    store.set(&k, &Secret::new(PLANTED)).unwrap();
    let second = fs::read(&path).unwrap();
    assert_eq!(first.len(), second.len());
    assert_eq!(
        first[..78],
        second[..78],
        "header (salt, key check) is stable"
    );
    assert_ne!(first[78..102], second[78..102], "body nonce must change");
    assert_ne!(first[102..], second[102..]);
}

#[cfg(unix)]
#[test]
fn file_is_private_and_writes_leave_no_temp_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("app-data").join("capstan");
    let path = nested.join("secrets.capstan");
    let store = create(&path);
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&nested), 0o700, "created folders are private");
    // Loosened by someone else: the next (atomic) write restores 0600.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    store
        .set(&key("env", names::PRISM_PASSWORD), &Secret::new(PLANTED))
        .unwrap();
    assert_eq!(mode(&path), 0o600);
    let names: Vec<String> = fs::read_dir(&nested)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["secrets.capstan".to_owned()]);
}

#[test]
fn a_failed_write_keeps_the_old_values_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    let store = create(&path);
    let k = key("env", names::PRISM_PASSWORD);
    store.set(&k, &Secret::new("old-value")).unwrap();

    // Something the final rename cannot replace (works even as root, unlike a read-only
    // folder): a non-empty directory where the file was.
    fs::remove_file(&path).unwrap();
    fs::create_dir(&path).unwrap();
    fs::write(path.join("keep"), b"x").unwrap();

    let err = store.set(&k, &Secret::new(PLANTED)).unwrap_err();
    assert_eq!(err.code(), "file_io", "{err:?}");
    assert!(err.to_string().contains("Could not write"), "{err}");
    assert!(!format!("{err} {err:?}").contains(PLANTED));
    assert_eq!(store.get(&k).unwrap().unwrap().expose(), "old-value");
    let mut left: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        vec!["secrets.capstan".to_owned()],
        "temp file left behind"
    );
}

#[test]
fn changing_the_passphrase_re_encrypts_and_keeps_the_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    let store = create(&path);
    let k = key("env", names::PALETTE_API_KEY);
    store.set(&k, &Secret::new(PLANTED)).unwrap();
    let before = fs::read(&path).unwrap();

    let err = store.change_passphrase(&Secret::new("short")).unwrap_err();
    assert_eq!(err.code(), "passphrase_too_short");
    assert_eq!(fs::read(&path).unwrap(), before);

    store
        .change_passphrase(&Secret::new("a brand new passphrase"))
        .unwrap();
    let after = fs::read(&path).unwrap();
    assert_ne!(before[22..38], after[22..38], "a new salt");
    assert_eq!(
        open(&path, PASSPHRASE).unwrap_err().code(),
        "wrong_passphrase"
    );
    let reopened = open(&path, "a brand new passphrase").unwrap();
    assert_eq!(reopened.get(&k).unwrap().unwrap().expose(), PLANTED);
    assert_eq!(reopened.kdf_params(), fast());
    // The original handle keeps working with the new key.
    store.set(&k, &Secret::new("after-change")).unwrap();
    let reopened = open(&path, "a brand new passphrase").unwrap();
    assert_eq!(reopened.get(&k).unwrap().unwrap().expose(), "after-change");
}

#[test]
fn create_refuses_existing_files_and_short_passphrases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    fs::write(&path, b"something the user had").unwrap();
    let err = EncryptedFileStore::create_with_params(&path, &Secret::new(PASSPHRASE), fast())
        .unwrap_err();
    assert_eq!(err.code(), "file_exists");
    assert_eq!(fs::read(&path).unwrap(), b"something the user had");

    let fresh = dir.path().join("fresh.capstan");
    let err =
        EncryptedFileStore::create_with_params(&fresh, &Secret::new("short"), fast()).unwrap_err();
    assert_eq!(err.code(), "passphrase_too_short");
    assert!(!fresh.exists());

    let err = open(&dir.path().join("missing"), PASSPHRASE).unwrap_err();
    assert_eq!(err.code(), "file_not_found");
}

#[test]
fn debug_and_errors_never_show_values_or_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    let store = create(&path);
    let k = key("env", names::PALETTE_API_KEY);
    store.set(&k, &Secret::new(PLANTED)).unwrap();
    let mut text = format!("{store:?} {store:#?}");
    assert!(text.contains("entries: 1"), "{text}");

    let empty = store.set(&k, &Secret::new("")).unwrap_err();
    assert_eq!(empty.code(), "empty_secret");
    for err in [
        open(&path, "wrong passphrase 123").unwrap_err(),
        EncryptedFileStore::create_with_params(&path, &Secret::new(PASSPHRASE), fast())
            .unwrap_err(),
        empty,
    ] {
        text.push_str(&format!("{err} {err:?}"));
    }
    for needle in [PLANTED, PASSPHRASE, "wrong passphrase 123"] {
        assert!(!text.contains(needle), "{needle:?} leaked: {text}");
    }
}

#[test]
fn many_threads_share_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    let store = create(&path);
    std::thread::scope(|scope| {
        for t in 0..4 {
            let store = &store;
            scope.spawn(move || {
                for i in 0..5 {
                    let k = key(&format!("env-{t}"), &format!("secret_{i}"));
                    store.set(&k, &Secret::new(format!("v-{t}-{i}"))).unwrap();
                }
            });
        }
    });
    let reopened = open(&path, PASSPHRASE).unwrap();
    assert_eq!(reopened.len(), 20);
    assert_eq!(
        reopened
            .get(&key("env-3", "secret_4"))
            .unwrap()
            .unwrap()
            .expose(),
        "v-3-4"
    );
}

#[test]
fn recommended_parameters_work_and_take_measured_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.capstan");
    let started = Instant::now();
    let store = EncryptedFileStore::create(&path, &Secret::new(PASSPHRASE)).unwrap();
    let create_ms = started.elapsed().as_millis();
    assert_eq!(store.kdf_params(), KdfParams::RECOMMENDED);
    store
        .set(&key("env", names::PRISM_PASSWORD), &Secret::new(PLANTED))
        .unwrap();
    drop(store);
    let started = Instant::now();
    let reopened = open(&path, PASSPHRASE).unwrap();
    let open_ms = started.elapsed().as_millis();
    assert_eq!(
        reopened
            .get(&key("env", names::PRISM_PASSWORD))
            .unwrap()
            .unwrap()
            .expose(),
        PLANTED
    );
    eprintln!(
        "Argon2id m=64MiB t=3 p=1: create {create_ms} ms, unlock {open_ms} ms (this build profile)"
    );
}
