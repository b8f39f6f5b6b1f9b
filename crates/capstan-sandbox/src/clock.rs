//! The simulated clock. Lifecycle delays and session lifetimes are expressed in demo
//! seconds; one real second is `1 / time_scale` demo seconds.

use parking_lot::Mutex;
use std::time::Instant;

pub(crate) struct Clock {
    inner: Mutex<Inner>,
}

struct Inner {
    real_base: Instant,
    demo_base: f64,
    scale: f64,
}

impl Clock {
    /// A clock that reads `demo_now` now: 0 for a fresh sandbox, the saved time for one
    /// restored from its state file (time stands still while the sandbox is not running).
    pub(crate) fn new(scale: f64, demo_now: f64) -> Self {
        Self {
            inner: Mutex::new(Inner {
                real_base: Instant::now(),
                demo_base: demo_now,
                scale,
            }),
        }
    }

    /// Demo seconds since the sandbox's world was first generated.
    pub(crate) fn now(&self) -> f64 {
        let i = self.inner.lock();
        i.demo_base + i.real_base.elapsed().as_secs_f64() / i.scale
    }

    pub(crate) fn scale(&self) -> f64 {
        self.inner.lock().scale
    }

    pub(crate) fn set_scale(&self, scale: f64) {
        let mut i = self.inner.lock();
        let now = i.demo_base + i.real_base.elapsed().as_secs_f64() / i.scale;
        i.real_base = Instant::now();
        i.demo_base = now;
        i.scale = scale;
    }

    pub(crate) fn advance(&self, demo_seconds: f64) {
        if demo_seconds.is_finite() && demo_seconds > 0.0 {
            self.inner.lock().demo_base += demo_seconds;
        }
    }
}
