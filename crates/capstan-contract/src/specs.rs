//! Finding and loading the official specs (once per process).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::ContractError;
use crate::service::Service;
use crate::spec::ServiceSpec;

/// Directory holding `palette/` and `prism/` (overrides the default location).
pub const SPECS_DIR_ENV: &str = "CAPSTAN_SPECS_DIR";
/// When set to anything but `""`/`0`, missing specs fail the test instead of skipping it
/// (CI sets it, so a broken checkout cannot pass silently).
pub const REQUIRE_SPECS_ENV: &str = "CAPSTAN_REQUIRE_SPECS";

const PALETTE_ERROR_FILE: &str = "palette/error_v1.json";

/// Both parsed specs plus Palette's error mixin.
#[derive(Debug)]
pub struct Specs {
    dir: PathBuf,
    palette: ServiceSpec,
    prism: ServiceSpec,
    /// `definitions.V1Error` of `error_v1.json`.
    palette_error: Value,
    load_time: Duration,
}

/// What [`Specs::load`] found.
#[derive(Debug, Clone, Copy)]
pub enum SpecsLoad {
    Loaded(&'static Specs),
    /// The specs are not on this machine (e.g. a user's own clone): contract tests skip.
    Skipped {
        reason: &'static str,
    },
    /// The specs are there but unusable: contract tests must fail.
    Failed(&'static ContractError),
}

enum Cached {
    Loaded(Box<Specs>),
    Skipped(String),
    Failed(ContractError),
}

static CACHE: OnceLock<Cached> = OnceLock::new();

impl Specs {
    /// Locates and parses the specs the first time it is called in the process; later calls
    /// return the same result.
    pub fn load() -> SpecsLoad {
        let cached = CACHE.get_or_init(|| match locate() {
            Err(reason) => Cached::Skipped(reason),
            Ok(dir) => match Specs::load_from(&dir) {
                Ok(specs) => Cached::Loaded(Box::new(specs)),
                Err(e) => Cached::Failed(e),
            },
        });
        match cached {
            Cached::Loaded(s) => SpecsLoad::Loaded(s),
            Cached::Skipped(reason) => SpecsLoad::Skipped { reason },
            Cached::Failed(e) => SpecsLoad::Failed(e),
        }
    }

    /// Parses the specs below `dir` (uncached; prefer [`Specs::load`]).
    pub fn load_from(dir: &Path) -> Result<Specs, ContractError> {
        let started = Instant::now();
        let (palette, prism) = std::thread::scope(|scope| {
            // The two documents are independent: parse them side by side.
            let prism = scope.spawn(|| load_service(dir, Service::Prism));
            let palette = load_service(dir, Service::Palette);
            let prism = prism.join().unwrap_or_else(|_| {
                Err(ContractError::SpecNotSwagger {
                    what: "the Prism spec",
                    path: dir.join(Service::Prism.spec_file()),
                    detail: "its parser thread panicked".to_string(),
                })
            });
            (palette, prism)
        });
        let palette = palette?;
        let prism = prism?;
        let error_path = dir.join(PALETTE_ERROR_FILE);
        let error_doc = read_json(&error_path, "the Palette error spec")?;
        let palette_error = error_doc
            .pointer("/definitions/V1Error")
            .cloned()
            .ok_or_else(|| ContractError::SpecNotSwagger {
                what: "the Palette error spec",
                path: error_path.clone(),
                detail: "it has no definitions.V1Error".to_string(),
            })?;
        Ok(Specs {
            dir: dir.to_path_buf(),
            palette,
            prism,
            palette_error,
            load_time: started.elapsed(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How long reading and parsing took.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    pub fn spec(&self, service: Service) -> &ServiceSpec {
        match service {
            Service::Palette => &self.palette,
            Service::Prism => &self.prism,
        }
    }

    pub(crate) fn palette_error_schema(&self) -> &Value {
        &self.palette_error
    }
}

fn load_service(dir: &Path, service: Service) -> Result<ServiceSpec, ContractError> {
    let what = match service {
        Service::Palette => "the Palette spec",
        Service::Prism => "the Prism spec",
    };
    let path = dir.join(service.spec_file());
    let doc = read_json(&path, what)?;
    ServiceSpec::from_document(service, doc).map_err(|detail| ContractError::SpecNotSwagger {
        what,
        path,
        detail,
    })
}

fn read_json(path: &Path, what: &'static str) -> Result<Value, ContractError> {
    let bytes = std::fs::read(path).map_err(|source| ContractError::SpecUnreadable {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ContractError::SpecNotJson {
        what,
        path: path.to_path_buf(),
        source,
    })
}

fn has_specs(dir: &Path) -> bool {
    Service::ALL
        .iter()
        .map(|s| s.spec_file())
        .chain([PALETTE_ERROR_FILE])
        .all(|f| dir.join(f).is_file())
}

/// The specs directory: `$CAPSTAN_SPECS_DIR`, else `<workspace root>/../shared/specs`.
/// `Err` carries the reason they were not found, worded for the skip message.
pub fn locate() -> Result<PathBuf, String> {
    let needed = "palette/palette-apis-spec.json, palette/error_v1.json and \
                  prism/prism-central-v3-swagger.json";
    if let Some(dir) = std::env::var_os(SPECS_DIR_ENV).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if has_specs(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "{SPECS_DIR_ENV}={} does not hold {needed}",
                dir.display()
            ))
        };
    }
    let Some(root) = workspace_root() else {
        return Err(format!(
            "no workspace root above {} and {SPECS_DIR_ENV} is not set",
            env!("CARGO_MANIFEST_DIR")
        ));
    };
    let dir = root
        .parent()
        .map_or_else(|| root.join(".."), Path::to_path_buf)
        .join("shared")
        .join("specs");
    if has_specs(&dir) {
        Ok(dir)
    } else {
        Err(format!(
            "the official API specs were not found at {} (a clone without the shared/ folder \
             beside it has none); set {SPECS_DIR_ENV} to a directory holding {needed}",
            dir.display()
        ))
    }
}

/// The nearest ancestor of this crate whose `Cargo.toml` declares `[workspace]`.
fn workspace_root() -> Option<PathBuf> {
    let start = Path::new(env!("CARGO_MANIFEST_DIR"));
    start
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
}

/// True when `CAPSTAN_REQUIRE_SPECS` asks for missing specs to fail.
pub fn specs_required() -> bool {
    std::env::var(REQUIRE_SPECS_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Tells the person running the tests, unmissably, that a contract test did not run. Written
/// straight to the process's stderr so the test harness's output capture does not hide it.
/// Panics instead when [`REQUIRE_SPECS_ENV`] is set.
pub fn announce_skip(context: &str, reason: &str) {
    // libtest names each test's thread after the test, which is more useful than the module.
    let thread = std::thread::current();
    let test = match thread.name() {
        Some(name) if name != "main" => format!("{context}::{name}"),
        _ => context.to_string(),
    };
    if specs_required() {
        panic!("CONTRACT TEST {test} CANNOT RUN and {REQUIRE_SPECS_ENV} is set: {reason}");
    }
    let bar = "!".repeat(78);
    let message = format!(
        "\n{bar}\n!! CONTRACT TESTS SKIPPED: {test}\n!! {reason}\n!! Nothing was checked \
         against the official Palette / Prism Central specs.\n{bar}\n"
    );
    let mut stderr = std::io::stderr().lock();
    // Nothing sensible to do if stderr itself is gone.
    let _ = stderr.write_all(message.as_bytes());
    let _ = stderr.flush();
}

/// Loads the specs or skips the calling test loudly. Evaluates to `&'static Specs`.
///
/// `specs_or_skip!()` returns `()` from the calling function when the specs are absent;
/// `specs_or_skip!(value)` returns `value` (for tests returning `Result`). Broken specs panic:
/// they are present, so the test must not pass quietly.
#[macro_export]
macro_rules! specs_or_skip {
    () => {
        $crate::specs_or_skip!(())
    };
    ($ret:expr) => {
        match $crate::Specs::load() {
            $crate::SpecsLoad::Loaded(specs) => specs,
            $crate::SpecsLoad::Skipped { reason } => {
                $crate::announce_skip(module_path!(), reason);
                return $ret;
            }
            $crate::SpecsLoad::Failed(error) => panic!(
                "the contract specs are present but unusable [{}]: {}",
                error.code(),
                error
            ),
        }
    };
}
