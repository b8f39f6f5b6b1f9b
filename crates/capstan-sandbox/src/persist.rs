//! Optional persistence of the world to a JSON state file, so a sandbox started again with
//! the same file (and the same seed and estate size) carries on where it stopped, like
//! LocalStack's persistence.
//!
//! Writes are atomic (temporary file + rename) and happen off the request path: the world
//! is serialised under its lock, the bytes are written on a blocking thread. A file that
//! cannot be used is moved aside (`<file>.broken`) rather than overwritten.

use std::collections::BinaryHeap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::palette::PaletteWorld;
use crate::prism::world::PrismWorld;
use crate::state::{Scheduled, Shared, World};

/// Bump when a persisted struct changes shape: older files are then set aside, not misread.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The background writer looks for changes this often, so a burst of requests costs one write.
pub(crate) const WRITE_INTERVAL: Duration = Duration::from_millis(250);

/// How long one save took and how big it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveStats {
    pub bytes: usize,
    /// Copying the world while holding its lock (requests wait this long).
    pub locked: Duration,
    /// Serialising, writing, syncing and renaming the file (no lock held).
    pub write: Duration,
}

/// The runtime RNG's exact position, so ids generated after a restart continue the sequence.
#[derive(Serialize, Deserialize)]
pub(crate) struct RngState {
    seed: [u8; 32],
    stream: u64,
    /// u128 as decimal text: JSON numbers are not exact that far.
    word_pos: String,
}

impl RngState {
    fn of(rng: &ChaCha8Rng) -> Self {
        Self {
            seed: rng.get_seed(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    fn restore(&self) -> Result<ChaCha8Rng, String> {
        let pos: u128 = self
            .word_pos
            .parse()
            .map_err(|_| format!("has an invalid RNG position {:?}", self.word_pos))?;
        let mut rng = ChaCha8Rng::from_seed(self.seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(pos);
        Ok(rng)
    }
}

/// Checked before the body is trusted.
#[derive(Deserialize)]
struct Header {
    format: u32,
    seed: u64,
    vms: usize,
}

/// A copy of everything saved, taken under the world lock (copying is several times faster
/// than serialising, so requests wait less) and serialised after the lock is released.
#[derive(Serialize)]
struct SnapshotOut {
    format: u32,
    seed: u64,
    vms: usize,
    /// Wall-clock time of the save, for people reading the file.
    saved_at: String,
    demo_seconds: f64,
    seq: u64,
    rng: RngState,
    queue: BinaryHeap<Scheduled>,
    prism: PrismWorld,
    palette: PaletteWorld,
}

impl SnapshotOut {
    fn of(w: &World, seed: u64, vms: usize) -> Self {
        Self {
            format: FORMAT_VERSION,
            seed,
            vms,
            saved_at: crate::util::now_rfc3339(),
            demo_seconds: w.now,
            seq: w.seq,
            rng: RngState::of(&w.rng),
            queue: w.queue.clone(),
            prism: w.prism.copy_for_saving(),
            palette: w.palette.clone(),
        }
    }
}

#[derive(Deserialize)]
struct SnapshotIn {
    demo_seconds: f64,
    seq: u64,
    rng: RngState,
    queue: BinaryHeap<Scheduled>,
    prism: PrismWorld,
    palette: PaletteWorld,
}

/// What a state file gave back: the world and the simulated time it was saved at.
pub(crate) struct Restored {
    pub world: World,
    pub demo_seconds: f64,
}

/// The outcome of opening a state file at start.
pub(crate) struct Opened {
    pub restored: Option<Restored>,
    /// False when an unusable file could not be moved aside: then it is never overwritten.
    pub writable: bool,
}

/// Reads `path` if it holds a state saved with this seed and estate size. Anything else that
/// is there is moved aside with a warning; a missing file is simply a fresh start.
pub(crate) fn open(path: &Path, seed: u64, vms: usize) -> Opened {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Opened {
                restored: None,
                writable: true,
            };
        }
        Err(e) => {
            return Opened {
                restored: None,
                writable: set_aside(path, &format!("cannot be read ({e})")),
            };
        }
    };
    match decode(&bytes, seed, vms) {
        Ok(restored) => {
            tracing::info!(
                path = %path.display(),
                bytes = bytes.len(),
                vms = restored.world.prism.vms.len(),
                demo_seconds = restored.demo_seconds,
                "sandbox state restored"
            );
            Opened {
                restored: Some(restored),
                writable: true,
            }
        }
        Err(reason) => Opened {
            restored: None,
            writable: set_aside(path, &reason),
        },
    }
}

fn decode(bytes: &[u8], seed: u64, vms: usize) -> Result<Restored, String> {
    let header: Header = serde_json::from_slice(bytes)
        .map_err(|e| format!("is not a readable sandbox state file ({e})"))?;
    if header.format != FORMAT_VERSION {
        return Err(format!(
            "has format version {} but this sandbox reads version {FORMAT_VERSION}",
            header.format
        ));
    }
    if header.seed != seed || header.vms != vms {
        return Err(format!(
            "was saved for seed {} with {} VMs, but this sandbox runs seed {seed} with {vms} VMs",
            header.seed, header.vms
        ));
    }
    let snap: SnapshotIn = serde_json::from_slice(bytes)
        .map_err(|e| format!("does not hold a valid sandbox state ({e})"))?;
    if !(snap.demo_seconds.is_finite() && snap.demo_seconds >= 0.0) {
        return Err(format!(
            "has an invalid simulated time {}",
            snap.demo_seconds
        ));
    }
    let rng = snap.rng.restore()?;
    Ok(Restored {
        world: World::restored(
            snap.prism,
            snap.palette,
            rng,
            snap.queue,
            snap.seq,
            snap.demo_seconds,
        ),
        demo_seconds: snap.demo_seconds,
    })
}

/// Moves an unusable state file to `<file>.broken` (or `.broken.2`, ... if that is taken).
/// Returns false when it could not, so the caller leaves the file alone.
fn set_aside(path: &Path, reason: &str) -> bool {
    let aside = (1..100)
        .map(|n| broken_path(path, n))
        .find(|p| !p.exists())
        .unwrap_or_else(|| broken_path(path, 1));
    match std::fs::rename(path, &aside) {
        Ok(()) => {
            tracing::warn!(
                "the sandbox state file {} {reason}; kept it as {} and started a fresh sandbox",
                path.display(),
                aside.display()
            );
            true
        }
        Err(e) => {
            tracing::error!(
                "the sandbox state file {} {reason}, and it could not be moved aside ({e}); \
                 started a fresh sandbox that will not be saved, so the file stays as it is",
                path.display()
            );
            false
        }
    }
}

fn broken_path(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    if n == 1 {
        name.push(".broken");
    } else {
        name.push(format!(".broken.{n}"));
    }
    PathBuf::from(name)
}

/// Writes `bytes` to `path` so that a reader sees either the old or the new file, never half
/// of one. The file is private to the user: accounts in it hold (sandbox) credentials.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Where the world is saved, and whether it changed since the last save.
pub(crate) struct Persister {
    path: PathBuf,
    dirty: AtomicBool,
    /// One save at a time: snapshots reach the file in the order they were taken.
    write_lock: Mutex<()>,
    /// So a failing disk logs once, not every second.
    failing: AtomicBool,
}

impl Persister {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            dirty: AtomicBool::new(false),
            write_lock: Mutex::new(()),
            failing: AtomicBool::new(false),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }
}

/// Saves the world now (blocking: call it from a blocking thread or at shutdown).
pub(crate) fn save(shared: &Shared) -> std::io::Result<Option<SaveStats>> {
    let Some(p) = shared.persister() else {
        return Ok(None);
    };
    let _one_at_a_time = p.write_lock.lock();
    let started = Instant::now();
    let snapshot = {
        let w = shared.world();
        // Cleared under the world lock: any later change marks the world dirty again.
        p.dirty.store(false, Ordering::Release);
        SnapshotOut::of(&w, shared.seed, shared.vms)
    };
    let locked = started.elapsed();
    let started = Instant::now();
    let bytes = match serde_json::to_vec(&snapshot) {
        Ok(b) => b,
        Err(e) => {
            p.mark_dirty();
            return Err(std::io::Error::other(e));
        }
    };
    drop(snapshot);
    if let Err(e) = write_atomically(&p.path, &bytes) {
        p.mark_dirty();
        if !p.failing.swap(true, Ordering::AcqRel) {
            tracing::warn!(path = %p.path.display(), "cannot save the sandbox state: {e}");
        }
        return Err(e);
    }
    if p.failing.swap(false, Ordering::AcqRel) {
        tracing::info!(path = %p.path.display(), "sandbox state saved again");
    }
    let stats = SaveStats {
        bytes: bytes.len(),
        locked,
        write: started.elapsed(),
    };
    tracing::debug!(
        bytes = stats.bytes,
        locked_ms = stats.locked.as_millis() as u64,
        write_ms = stats.write.as_millis() as u64,
        "sandbox state saved"
    );
    Ok(Some(stats))
}

/// Saves the world at most every [`WRITE_INTERVAL`] while it changes, until `stop` fires.
pub(crate) fn spawn_writer(
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = tokio::time::sleep(WRITE_INTERVAL) => {}
            }
            if !shared.persister().is_some_and(Persister::is_dirty) {
                continue;
            }
            let s = shared.clone();
            // Errors are logged inside (once while they persist).
            let _ = tokio::task::spawn_blocking(move || save(&s)).await;
        }
    })
}

/// A `&'static str` field saved with [`static_str`]. Spelt as an alias because serde's derive
/// treats a literal `&str` field type as borrowed from the input (`'de: 'static`) even when
/// it has its own deserializer.
pub(crate) type StaticStr = &'static str;

/// `&'static str` fields (states, layers) as plain strings. Loading maps each distinct text
/// to one leaked `&'static str`; the set of values is small and fixed by the emulator.
pub(crate) mod static_str {
    use std::collections::BTreeSet;
    use std::sync::OnceLock;

    use parking_lot::Mutex;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(s: &&'static str, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<&'static str, D::Error> {
        let s = String::deserialize(de)?;
        Ok(intern(s))
    }

    fn intern(s: String) -> &'static str {
        static SEEN: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
        let mut seen = SEEN.get_or_init(Default::default).lock();
        if let Some(known) = seen.get(s.as_str()) {
            return known;
        }
        let leaked: &'static str = Box::leak(s.into_boxed_str());
        seen.insert(leaked);
        leaked
    }
}

/// A cloud type's logo `(file name, bytes)` with the bytes in base64 (not a JSON number array).
pub(crate) mod logo {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    pub(crate) fn serialize<S: Serializer>(
        logo: &Option<(String, Vec<u8>)>,
        ser: S,
    ) -> Result<S::Ok, S::Error> {
        logo.as_ref()
            .map(|(name, bytes)| (name, B64.encode(bytes)))
            .serialize(ser)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        de: D,
    ) -> Result<Option<(String, Vec<u8>)>, D::Error> {
        match Option::<(String, String)>::deserialize(de)? {
            Some((name, b64)) => B64
                .decode(b64)
                .map(|bytes| Some((name, bytes)))
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// `<state file>.ports`: the Palette and Prism ports of the last run.
fn ports_path(state_file: &Path) -> PathBuf {
    let mut name = state_file.as_os_str().to_owned();
    name.push(".ports");
    PathBuf::from(name)
}

/// The ports the last run used, when the state file and its ports note both exist.
pub(crate) fn read_ports(state_file: &Path) -> Option<(u16, u16)> {
    if !state_file.exists() {
        return None;
    }
    let text = std::fs::read_to_string(ports_path(state_file)).ok()?;
    let mut parts = text.split_whitespace().map(|p| p.parse::<u16>().ok());
    Some((parts.next()??, parts.next()??))
}

pub(crate) fn write_ports(state_file: &Path, ports: (u16, u16)) {
    if let Err(e) = std::fs::write(ports_path(state_file), format!("{} {}\n", ports.0, ports.1)) {
        tracing::warn!(
            "could not note the sandbox ports beside {}: {e}",
            state_file.display()
        );
    }
}

#[cfg(test)]
mod ports_tests {
    use super::*;

    #[test]
    fn ports_are_read_back_only_beside_an_existing_state_file() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("sandbox-state.json");
        write_ports(&state, (41001, 41002));
        assert_eq!(
            read_ports(&state),
            None,
            "no state file: start fresh anywhere"
        );
        std::fs::write(&state, "{}").unwrap();
        assert_eq!(read_ports(&state), Some((41001, 41002)));
        std::fs::write(ports_path(&state), "garbage").unwrap();
        assert_eq!(read_ports(&state), None);
    }
}
