//! The OS keyring store against the REAL Secret Service (never the `keyring` mock).
//!
//! * `real_keyring_round_trip` runs in-process when this process has a working Secret
//!   Service (as under `scripts/test.sh`, which wraps the suite in `dbus-run-session` +
//!   an unlocked `gnome-keyring-daemon`). Otherwise it prints a loud SKIPPED line.
//! * `real_keyring_in_a_private_dbus_session` makes plain `cargo test` exercise the real
//!   store anyway: it starts its own `dbus-run-session` + `gnome-keyring-daemon` and runs
//!   the round-trip test again inside it, where skipping is not allowed.
//! * `probe_without_a_session_bus_reports_unavailable` runs the probe in a child process
//!   whose D-Bus address is bogus or unset.

use std::path::Path;
use std::process::{Command, Output};

use capstan_secrets::{
    KeyringStore, STORE_ENV_VAR, Secret, SecretKey, SecretStore, ServiceName, StoreChoice,
    StoreKind, StorePreference, choose_store, names,
};

/// Set by the wrapper test: the round trip must run (a missing Secret Service is a failure).
const REQUIRED_ENV: &str = "CAPSTAN_KEYRING_TEST_REQUIRED";
/// Set by the parent to turn `child_probe_entry_point` into the child's body.
const CHILD_ENV: &str = "CAPSTAN_SECRETS_TEST_CHILD";
const ROUND_TRIP_OK: &str = "KEYRING ROUND TRIP OK";
const PLANTED: &str = "planted-keyring-secret-6b1f";

fn unique_service() -> ServiceName {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    ServiceName::scoped(&format!("test.{}.{nanos}", std::process::id())).unwrap()
}

fn key(env: &str, name: &str) -> SecretKey {
    SecretKey::new(env, name).unwrap()
}

#[test]
fn real_keyring_round_trip() {
    let required = std::env::var_os(REQUIRED_ENV).is_some();
    let service = unique_service();
    let store = KeyringStore::new(service.clone());
    let has_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    let probe = store.probe();
    if !has_bus || probe.is_err() {
        assert!(
            !required,
            "a Secret Service was required but the probe failed: {probe:?}"
        );
        eprintln!(
            "\n!!!!!!!!\nKEYRING TEST SKIPPED: no Secret Service in this process (run via \
             scripts/test.sh). DBUS_SESSION_BUS_ADDRESS set: {has_bus}; probe: {:?}\n\
             (real_keyring_in_a_private_dbus_session covers the real store under plain cargo \
             test when dbus-run-session and gnome-keyring-daemon are installed.)\n!!!!!!!!\n",
            probe.err().map(|e| e.code())
        );
        return;
    }

    let api = key("env-1", names::PALETTE_API_KEY);
    let prism = key("env-1", names::PRISM_PASSWORD);
    let other_env = key("env-2", names::PALETTE_API_KEY);
    assert_eq!(store.kind(), StoreKind::Keyring);
    assert_eq!(store.get(&api).unwrap(), None);
    store.set(&api, &Secret::new(PLANTED)).unwrap();
    store.set(&prism, &Secret::new("first")).unwrap();
    store.set(&prism, &Secret::new("pässwörd ✓")).unwrap();
    store.set(&other_env, &Secret::new("other")).unwrap();

    // A second store value builds new keyring entries: with the `keyring` mock each entry
    // has its own storage, so this read would come back empty. The real store persists.
    let fresh = KeyringStore::new(service.clone());
    assert_eq!(fresh.get(&api).unwrap().unwrap().expose(), PLANTED);
    assert_eq!(fresh.get(&prism).unwrap().unwrap().expose(), "pässwörd ✓");
    assert_eq!(fresh.get(&other_env).unwrap().unwrap().expose(), "other");

    // The release namespace is a different service: nothing leaks across channels.
    let elsewhere = KeyringStore::new(ServiceName::scoped("test.other-namespace").unwrap());
    assert_eq!(elsewhere.get(&api).unwrap(), None);

    // Cross-check with an independent Secret Service client, when installed.
    if let Ok(out) = Command::new("secret-tool")
        .args(["lookup", "service", service.as_str(), "username"])
        .arg(api.account())
        .output()
    {
        assert!(out.status.success(), "secret-tool lookup failed: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), PLANTED);
    }

    let debug = format!("{store:?} {fresh:#?}");
    assert!(!debug.contains(PLANTED), "{debug}");

    assert!(store.delete(&api).unwrap());
    assert!(!store.delete(&api).unwrap());
    assert_eq!(fresh.get(&api).unwrap(), None);
    assert!(store.delete(&prism).unwrap());
    assert!(store.delete(&other_env).unwrap());
    assert_eq!(
        store.set(&api, &Secret::new("")).unwrap_err().code(),
        "empty_secret"
    );

    // And choose_store picks the keyring when the probe passes.
    let dir = tempfile::tempdir().unwrap();
    match choose_store(
        StorePreference::Keyring,
        service,
        dir.path().join("secrets.capstan"),
    ) {
        StoreChoice::Ready(chosen) => assert_eq!(chosen.kind(), StoreKind::Keyring),
        other => panic!("expected the keyring, got {other:?}"),
    }
    println!("{ROUND_TRIP_OK}");
}

fn tool_exists(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false)
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs this test binary again, filtered to one test, with `configure` applied.
fn rerun_self(test_name: &str, configure: impl FnOnce(&mut Command)) -> Output {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([test_name, "--exact", "--nocapture", "--test-threads=1"]);
    configure(&mut cmd);
    cmd.output().expect("spawn the test binary")
}

fn private_dir(path: &Path) {
    std::fs::create_dir_all(path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}

/// Tools the private-session tests need; returns the missing ones.
fn missing_tools(tools: &[&'static str]) -> Vec<&'static str> {
    tools
        .iter()
        .copied()
        .filter(|tool| !tool_exists(tool))
        .collect()
}

/// Runs this test binary, filtered to `test_name`, inside a fresh `dbus-run-session` with an
/// unlocked `gnome-keyring-daemon` (as `scripts/test.sh` does for the whole suite).
/// `between` is shell run after the unlock and before the test. Keyring files and the
/// daemon's socket go to `home`, never the user's own.
fn run_in_private_keyring_session(
    home: &Path,
    between: &str,
    test_name: &str,
    envs: &[(&str, &str)],
) -> Output {
    let data = home.join("data");
    let runtime = home.join("runtime");
    private_dir(&data);
    private_dir(&runtime);
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        // A non-empty password: an empty one leaves no default collection (NoResult).
        "printf %s capstan-test | gnome-keyring-daemon --unlock --components=secrets \
         --daemonize >/dev/null && {between} exec \"$0\" \"$@\""
    );
    let mut cmd = Command::new("dbus-run-session");
    cmd.args(["--", "bash", "-c", &script])
        .arg(exe)
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env("XDG_DATA_HOME", &data)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove(STORE_ENV_VAR);
    for (name, value) in envs {
        cmd.env(name, value);
    }
    cmd.output().expect("spawn dbus-run-session")
}

#[test]
fn real_keyring_in_a_private_dbus_session() {
    let missing = missing_tools(&["dbus-run-session", "gnome-keyring-daemon", "bash"]);
    if !missing.is_empty() {
        eprintln!(
            "\n!!!!!!!!\nKEYRING TEST SKIPPED: {} not installed (Debian: dbus, dbus-x11, \
             gnome-keyring)\n!!!!!!!!\n",
            missing.join(", ")
        );
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let out = run_in_private_keyring_session(
        home.path(),
        "",
        "real_keyring_round_trip",
        &[(REQUIRED_ENV, "1")],
    );
    let text = describe(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(ROUND_TRIP_OK),
        "the round trip did not run: {text}"
    );
    assert!(!text.contains("SKIPPED"), "{text}");
    assert!(
        home.path().join("data").join("keyrings").is_dir(),
        "gnome-keyring did not use the temp data dir"
    );
}

#[test]
fn real_locked_keyring_reports_locked() {
    let missing = missing_tools(&[
        "dbus-run-session",
        "gnome-keyring-daemon",
        "bash",
        "dbus-send",
        "secret-tool",
    ]);
    if !missing.is_empty() {
        eprintln!(
            "\n!!!!!!!!\nKEYRING TEST SKIPPED: {} not installed\n!!!!!!!!\n",
            missing.join(", ")
        );
        return;
    }
    let home = tempfile::tempdir().unwrap();
    // Store one item so the login collection exists (gnome-keyring creates it lazily), then
    // lock it the way "Lock keyring" in Seahorse does. With no display the unlock prompt
    // cannot be shown, so gnome-keyring refuses with IsLocked.
    let lock = "printf x | secret-tool store --label=warm-up service capstan-warm-up \
                username w && dbus-send --session --dest=org.freedesktop.secrets --type=method_call \
                /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
                array:objpath:/org/freedesktop/secrets/collection/login &&";
    let out = run_in_private_keyring_session(
        home.path(),
        lock,
        "child_probe_entry_point",
        &[(CHILD_ENV, "probe")],
    );
    let text = describe(&out);
    assert!(out.status.success(), "{text}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("probe code: keyring_locked"), "{text}");
    assert!(
        stdout.contains("probe message: The system keyring is locked"),
        "{text}"
    );
    assert!(
        stdout.contains("choice: needs_fallback keyring_locked"),
        "{text}"
    );
    assert!(
        stdout.contains("file exists after choosing: false"),
        "{text}"
    );
}

/// Body of the child processes below; a no-op unless the parent set [`CHILD_ENV`].
#[test]
fn child_probe_entry_point() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("probe") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.capstan");
    match KeyringStore::new(unique_service()).probe() {
        Ok(()) => println!("probe: ok"),
        Err(err) => {
            println!("probe code: {}", err.code());
            println!("probe message: {err}");
        }
    }
    match choose_store(StorePreference::Keyring, unique_service(), file.clone()) {
        StoreChoice::NeedsFallback { reason, file: fb } => {
            println!("choice: needs_fallback {}", reason.code());
            println!("file exists after choosing: {}", fb.exists || file.exists());
        }
        other => println!("choice: {other:?}"),
    }
}

fn probe_in_child(bus_address: Option<&str>) -> String {
    let out = rerun_self("child_probe_entry_point", |cmd| {
        cmd.env(CHILD_ENV, "probe")
            // Without $DISPLAY, libdbus cannot autolaunch a bus either.
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        match bus_address {
            Some(addr) => cmd.env("DBUS_SESSION_BUS_ADDRESS", addr),
            None => cmd.env_remove("DBUS_SESSION_BUS_ADDRESS"),
        };
    });
    let text = describe(&out);
    assert!(out.status.success(), "{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn probe_without_a_session_bus_reports_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = format!("unix:path={}", dir.path().join("no-bus-here").display());
    for (label, address) in [("bogus address", Some(bogus.as_str())), ("unset", None)] {
        let stdout = probe_in_child(address);
        assert!(
            stdout.contains("probe code: keyring_unavailable"),
            "{label}: {stdout}"
        );
        assert!(
            stdout.contains(
                "probe message: No Secret Service is running on this desktop (gnome-keyring \
                 or KWallet). Start one, or use an encrypted file protected by a passphrase."
            ),
            "{label}: {stdout}"
        );
        // choose_store explains and waits for the user; it creates no file store.
        assert!(
            stdout.contains("choice: needs_fallback keyring_unavailable"),
            "{label}: {stdout}"
        );
        assert!(
            stdout.contains("file exists after choosing: false"),
            "{label}: {stdout}"
        );
    }
}
