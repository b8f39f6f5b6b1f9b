//! Where Capstan keeps its files. Platform directories by default; `CAPSTAN_HOME` puts
//! everything under one folder (tests, end-to-end runs and portable installs use it).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct AppPaths {
    /// The cache database and drafts.
    pub data_dir: PathBuf,
    /// Settings and the list of environments (no secrets: those live in the keyring).
    pub config_dir: PathBuf,
    /// Rotating log files.
    pub log_dir: PathBuf,
}

impl AppPaths {
    /// Everything under one folder.
    pub fn under(home: &Path) -> Self {
        Self {
            data_dir: home.join("data"),
            config_dir: home.join("config"),
            log_dir: home.join("logs"),
        }
    }

    /// `CAPSTAN_HOME` if set, else the platform's directories (on Linux:
    /// `~/.local/share/capstan`, `~/.config/capstan`, `~/.local/state/capstan/logs`).
    pub fn from_env() -> Self {
        if let Some(home) = std::env::var_os("CAPSTAN_HOME").filter(|h| !h.is_empty()) {
            return Self::under(Path::new(&home));
        }
        match directories::ProjectDirs::from("dev", "capstan", "capstan") {
            Some(dirs) => Self {
                data_dir: dirs.data_dir().to_path_buf(),
                config_dir: dirs.config_dir().to_path_buf(),
                log_dir: dirs
                    .state_dir()
                    .unwrap_or(dirs.data_local_dir())
                    .join("logs"),
            },
            // No home directory at all (a locked-down service account): stay usable.
            None => Self::under(&std::env::temp_dir().join("capstan")),
        }
    }

    pub fn create_all(&self) -> std::io::Result<()> {
        for dir in [&self.data_dir, &self.config_dir, &self.log_dir] {
            std::fs::create_dir_all(dir)?;
        }
        Ok(())
    }
}
