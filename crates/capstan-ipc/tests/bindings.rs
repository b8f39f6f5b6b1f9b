//! The committed TypeScript bindings must match the Rust types. Regenerate with
//! `CAPSTAN_UPDATE_BINDINGS=1 cargo test -p capstan-ipc --test bindings`.

use std::path::{Path, PathBuf};

fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings")
}

fn read_dir_sorted(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                    (name, text)
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn typescript_bindings_are_up_to_date() {
    let committed = committed_dir();
    if std::env::var_os("CAPSTAN_UPDATE_BINDINGS").is_some() {
        capstan_ipc::typescript::generate(&committed).expect("write bindings");
        eprintln!("bindings regenerated in {}", committed.display());
        return;
    }
    let fresh = std::env::temp_dir().join(format!("capstan-bindings-{}", std::process::id()));
    capstan_ipc::typescript::generate(&fresh).expect("generate bindings");
    let want = read_dir_sorted(&fresh);
    let have = read_dir_sorted(&committed);
    let _ = std::fs::remove_dir_all(&fresh);
    let want_names: Vec<_> = want.iter().map(|(n, _)| n.as_str()).collect();
    let have_names: Vec<_> = have.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        want_names, have_names,
        "binding files differ from the Rust types; run CAPSTAN_UPDATE_BINDINGS=1 cargo test -p capstan-ipc --test bindings"
    );
    for ((name, w), (_, h)) in want.iter().zip(have.iter()) {
        assert_eq!(
            w, h,
            "ui/src/lib/bindings/{name} is stale; run CAPSTAN_UPDATE_BINDINGS=1 cargo test -p capstan-ipc --test bindings"
        );
    }
}

#[test]
fn every_command_name_is_unique_and_snake_case() {
    let mut seen = std::collections::HashSet::new();
    for name in capstan_ipc::commands::NAMES {
        assert!(seen.insert(*name), "duplicate command {name}");
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{name}"
        );
    }
}

#[test]
fn error_envelope_shape_is_code_message_details() {
    use capstan_ipc::{ErrorCode, IpcError};
    let e = IpcError::new(ErrorCode::TlsUntrusted, "The certificate is self-signed.");
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"code": "tls_untrusted", "message": "The certificate is self-signed."})
    );
    let e = e.with_details(serde_json::json!({"fingerprint": "ab"}));
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["details"]["fingerprint"], "ab");
    // as_str agrees with serde for every code the UI may branch on
    for code in [
        ErrorCode::InvalidRequest,
        ErrorCode::KeyringUnavailable,
        ErrorCode::Internal,
        ErrorCode::RateLimited,
    ] {
        assert_eq!(
            serde_json::to_value(code).unwrap(),
            serde_json::Value::String(code.as_str().into())
        );
    }
}
