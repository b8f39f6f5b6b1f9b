//! Diagnoses the OS keyring the way the app will use it: probes it and prints the verdict.
//!
//! ```text
//! cargo run -p capstan-secrets --example keyring_probe
//! ```
//!
//! Exit status 0 when the keyring works, 1 when it does not (the message says what to do).

use capstan_secrets::{KeyringStore, ServiceName};

fn main() {
    let store = KeyringStore::new(ServiceName::current());
    match store.probe() {
        Ok(()) => println!("ok: the keyring works ({})", store.service().as_str()),
        Err(err) => {
            println!("code: {}", err.code());
            println!("message: {err}");
            if let Some(detail) = err.detail() {
                println!("detail: {detail}");
            }
            std::process::exit(1);
        }
    }
}
