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
    pub(crate) fn new(scale: f64) -> Self {
        Self {
            inner: Mutex::new(Inner {
                real_base: Instant::now(),
                demo_base: 0.0,
                scale,
            }),
        }
    }

    /// Demo seconds since the sandbox started.
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
