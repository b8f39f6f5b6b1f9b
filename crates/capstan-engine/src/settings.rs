//! Non-secret settings in a small JSON file, written atomically (temp file + rename) so a
//! crash mid-write never leaves a truncated file. Environments live in the cache
//! database; the theme and the secret-store choice stay here because they are read before
//! anything else.

use std::path::PathBuf;

use capstan_ipc::types::ThemePreference;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StoredSettings {
    pub theme: ThemePreference,
    pub active_environment: Option<String>,
    /// The user chose the passphrase-protected secrets file (no usable OS keyring).
    pub secret_store_file: bool,
}

pub struct SettingsFile {
    path: PathBuf,
    current: Mutex<StoredSettings>,
}

impl SettingsFile {
    /// Reads the file; a missing file means defaults, and an unreadable one is kept aside as
    /// `settings.json.broken` (never silently overwritten) before starting from defaults.
    pub fn open(path: PathBuf) -> Self {
        let current = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(s) => s,
                Err(e) => {
                    let aside = path.with_extension("json.broken");
                    let _ = std::fs::rename(&path, &aside);
                    tracing::warn!(
                        "settings file {} could not be read ({e}); kept it as {} and started from defaults",
                        path.display(),
                        aside.display()
                    );
                    StoredSettings::default()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => StoredSettings::default(),
            Err(e) => {
                tracing::warn!("settings file {} could not be opened: {e}", path.display());
                StoredSettings::default()
            }
        };
        Self {
            path,
            current: Mutex::new(current),
        }
    }

    pub fn get(&self) -> StoredSettings {
        self.current.lock().clone()
    }

    pub fn set_secret_store_file(&self, chosen: bool) {
        if let Err(e) = self.update(|s| s.secret_store_file = chosen) {
            tracing::warn!("could not remember the secret store choice: {e}");
        }
    }

    pub fn set_theme(&self, theme: ThemePreference) -> std::io::Result<()> {
        self.update(|s| s.theme = theme)
    }

    pub fn set_active_environment(&self, id: &str) {
        if let Err(e) = self.update(|s| s.active_environment = Some(id.to_owned())) {
            tracing::warn!("could not remember the active environment: {e}");
        }
    }

    fn update(&self, change: impl FnOnce(&mut StoredSettings)) -> std::io::Result<()> {
        let mut s = self.current.lock();
        change(&mut s);
        let bytes = serde_json::to_vec_pretty(&*s).map_err(std::io::Error::other)?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_a_reopen_and_a_broken_file_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let f = SettingsFile::open(path.clone());
        f.set_theme(ThemePreference::Dark).unwrap();
        f.set_active_environment("sandbox");
        let again = SettingsFile::open(path.clone());
        assert_eq!(again.get().theme, ThemePreference::Dark);
        assert_eq!(again.get().active_environment.as_deref(), Some("sandbox"));

        std::fs::write(&path, b"{not json").unwrap();
        let broken = SettingsFile::open(path.clone());
        assert_eq!(broken.get().theme, ThemePreference::System);
        assert!(dir.path().join("settings.json.broken").exists());
    }
}
