//! The one shared in-memory world behind both servers.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::OnceLock;

use capstan_common::Secret;
use parking_lot::{Mutex, MutexGuard};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::SandboxConfig;
use crate::clock::Clock;
use crate::faults::FaultHandle;
use crate::palette::PaletteWorld;
use crate::palette::lifecycle::Event;
use crate::persist::{self, Persister};
use crate::prism::world::PrismWorld;
use crate::record::Recorder;
use crate::util::hex_token;

pub(crate) struct Creds {
    pub prism_user: String,
    pub prism_password: Secret,
    pub prism_api_key: Secret,
    pub palette_api_key: Secret,
    pub palette_system_user: String,
    pub palette_email: String,
    pub palette_password: Secret,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Scheduled {
    pub due: f64,
    pub seq: u64,
    pub event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    // Reversed so the BinaryHeap pops the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .due
            .total_cmp(&self.due)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

pub(crate) struct PaletteToken {
    pub expires: f64,
    pub system: bool,
}

pub(crate) struct World {
    pub prism: PrismWorld,
    pub palette: PaletteWorld,
    /// Runtime randomness (ids, name suffixes) - seeded, so a scripted run is repeatable.
    pub rng: ChaCha8Rng,
    pub queue: BinaryHeap<Scheduled>,
    pub seq: u64,
    pub now: f64,
    pub prism_sessions: HashMap<String, f64>,
    pub palette_tokens: HashMap<String, PaletteToken>,
}

impl World {
    fn generated(config: &SandboxConfig) -> Self {
        let prism = crate::estate::generate(config.seed, config.vms);
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x5A4D_B0C5);
        let palette = PaletteWorld::seed(&mut rng);
        Self::restored(prism, palette, rng, BinaryHeap::new(), 0, 0.0)
    }

    /// A world from its parts (sessions and tokens are never saved: clients log in again).
    pub(crate) fn restored(
        prism: PrismWorld,
        palette: PaletteWorld,
        rng: ChaCha8Rng,
        queue: BinaryHeap<Scheduled>,
        seq: u64,
        now: f64,
    ) -> Self {
        Self {
            prism,
            palette,
            rng,
            queue,
            seq,
            now,
            prism_sessions: HashMap::new(),
            palette_tokens: HashMap::new(),
        }
    }

    /// Schedules `event` `delay` demo seconds from now.
    pub(crate) fn schedule(&mut self, delay: f64, event: Event) {
        self.seq += 1;
        self.queue.push(Scheduled {
            due: self.now + delay.max(0.0),
            seq: self.seq,
            event,
        });
    }

    /// Applies every event due by `now`; true when at least one ran (the world changed).
    fn tick(&mut self, now: f64) -> bool {
        let mut changed = false;
        while self.queue.peek().is_some_and(|s| s.due <= now) {
            let Some(s) = self.queue.pop() else { break };
            // Events run "at" their due time so chained delays add up exactly.
            self.now = s.due;
            crate::palette::lifecycle::apply(self, s.event);
            changed = true;
        }
        self.now = now;
        changed
    }
}

pub(crate) struct Shared {
    world: Mutex<World>,
    pub clock: Clock,
    pub faults: FaultHandle,
    pub recorder: Recorder,
    pub creds: Creds,
    urls: OnceLock<(String, String)>,
    pub seed: u64,
    pub vms: usize,
    pub tls: bool,
    persister: Option<Persister>,
    restored: bool,
}

impl Shared {
    pub(crate) fn new(config: &SandboxConfig) -> Self {
        // The credentials come from the seed alone, so they survive restarts with a state file.
        let mut cred_rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0xC4ED_5EED);
        let creds = Creds {
            prism_user: "admin".to_owned(),
            prism_password: Secret::new(format!("Nutanix/{}", &hex_token(&mut cred_rng, 6))),
            prism_api_key: Secret::new(hex_token(&mut cred_rng, 24)),
            palette_api_key: Secret::new(hex_token(&mut cred_rng, 20)),
            palette_system_user: "admin".to_owned(),
            palette_email: "admin@capstan.sandbox".to_owned(),
            palette_password: Secret::new(format!("Palette-{}", hex_token(&mut cred_rng, 6))),
        };
        let (restored, persister) = match &config.state_file {
            Some(path) => {
                let opened = persist::open(path, config.seed, config.vms);
                let persister = opened.writable.then(|| Persister::new(path.clone()));
                (opened.restored, persister)
            }
            None => (None, None),
        };
        let is_restored = restored.is_some();
        let (world, demo_now) = match restored {
            Some(r) => (r.world, r.demo_seconds),
            None => (World::generated(config), 0.0),
        };
        Self {
            world: Mutex::new(world),
            clock: Clock::new(config.time_scale, demo_now),
            faults: FaultHandle::new(config.faults.clone(), config.seed),
            recorder: Recorder::new(config.record_exchanges),
            creds,
            urls: OnceLock::new(),
            seed: config.seed,
            vms: config.vms,
            tls: config.tls,
            persister,
            restored: is_restored,
        }
    }

    pub(crate) fn persister(&self) -> Option<&Persister> {
        self.persister.as_ref()
    }

    /// True when the world came from the state file rather than the generator.
    pub(crate) fn is_restored(&self) -> bool {
        self.restored
    }

    /// Something the state file holds changed; the background writer saves it soon.
    pub(crate) fn mark_dirty(&self) {
        if let Some(p) = &self.persister {
            p.mark_dirty();
        }
    }

    pub(crate) fn set_urls(&self, palette: String, prism: String) {
        let _ = self.urls.set((palette, prism));
    }

    pub(crate) fn palette_url(&self) -> String {
        self.urls.get().map(|u| u.0.clone()).unwrap_or_default()
    }

    pub(crate) fn prism_url(&self) -> String {
        self.urls.get().map(|u| u.1.clone()).unwrap_or_default()
    }

    /// Marks a Prism Element available or not (`is_available`); false when no PE has that name.
    pub(crate) fn set_pe_available(&self, name: &str, available: bool) -> bool {
        let mut w = self.world();
        let uuid = w
            .prism
            .clusters
            .rows
            .iter()
            .find(|c| !c.data.is_pc && c.data.name == name)
            .map(|c| c.data.uuid.clone());
        match uuid {
            Some(u) => {
                let found = w.prism.clusters.update(&u, |c| c.is_available = available);
                self.mark_dirty();
                found
            }
            None => false,
        }
    }

    /// Locks the world after applying every lifecycle step that is due.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        let now = self.clock.now();
        let mut w = self.world.lock();
        if w.tick(now) {
            self.mark_dirty();
        }
        w
    }
}
