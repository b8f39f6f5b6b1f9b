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
    queue: BinaryHeap<Scheduled>,
    seq: u64,
    pub now: f64,
    pub prism_sessions: HashMap<String, f64>,
    pub palette_tokens: HashMap<String, PaletteToken>,
}

impl World {
    /// Schedules `event` `delay` demo seconds from now.
    pub(crate) fn schedule(&mut self, delay: f64, event: Event) {
        self.seq += 1;
        self.queue.push(Scheduled {
            due: self.now + delay.max(0.0),
            seq: self.seq,
            event,
        });
    }

    fn tick(&mut self, now: f64) {
        while self.queue.peek().is_some_and(|s| s.due <= now) {
            let Some(s) = self.queue.pop() else { break };
            // Events run "at" their due time so chained delays add up exactly.
            self.now = s.due;
            crate::palette::lifecycle::apply(self, s.event);
        }
        self.now = now;
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
}

impl Shared {
    pub(crate) fn new(config: &SandboxConfig) -> Self {
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
        let prism = crate::estate::generate(config.seed, config.vms);
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x5A4D_B0C5);
        let palette = PaletteWorld::seed(&mut rng);
        Self {
            world: Mutex::new(World {
                prism,
                palette,
                rng,
                queue: BinaryHeap::new(),
                seq: 0,
                now: 0.0,
                prism_sessions: HashMap::new(),
                palette_tokens: HashMap::new(),
            }),
            clock: Clock::new(config.time_scale),
            faults: FaultHandle::new(config.faults.clone(), config.seed),
            recorder: Recorder::new(config.record_exchanges),
            creds,
            urls: OnceLock::new(),
            seed: config.seed,
            vms: config.vms,
            tls: config.tls,
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
            Some(u) => w.prism.clusters.update(&u, |c| c.is_available = available),
            None => false,
        }
    }

    /// Locks the world after applying every lifecycle step that is due.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        let now = self.clock.now();
        let mut w = self.world.lock();
        w.tick(now);
        w
    }
}
