//! Token buckets kept in memory, one per caller key: each holds up to a minute's budget and
//! refills continuously. The map is bounded so that a flood of new keys cannot exhaust memory.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// How many keys are kept before idle ones are dropped.
pub const DEFAULT_MAX_KEYS: usize = 50_000;

/// A set of token buckets with one budget.
#[derive(Debug)]
pub struct Buckets {
    capacity: f64,
    per_second: f64,
    max_keys: usize,
    map: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Buckets {
    /// Buckets allowing `n` requests per minute (a burst of `n`, then `n / 60` per second);
    /// none when `n` is 0, which means no limit.
    pub fn per_minute(n: u32) -> Option<Self> {
        (n > 0).then(|| Self {
            capacity: f64::from(n),
            per_second: f64::from(n) / 60.0,
            max_keys: DEFAULT_MAX_KEYS,
            map: Mutex::new(HashMap::new()),
        })
    }

    /// The same budget, keeping at most `max_keys` keys.
    pub fn with_max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys.max(1);
        self
    }

    /// Spends one token of `key`'s bucket; `Err(seconds)` says how long until one is back.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        self.take_at(key, Instant::now())
    }

    /// [`Self::take`] at a given moment.
    pub fn take_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if !map.contains_key(key) && map.len() >= self.max_keys {
            self.evict(&mut map, now);
        }
        let bucket = map.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.capacity,
            at: now,
        });
        bucket.tokens = self.refilled(bucket, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(self.wait(bucket.tokens))
        }
    }

    /// Whether `key` could spend a token now, without spending it.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(key).map(|b| self.refilled(b, Instant::now())) {
            Some(tokens) if tokens < 1.0 => Err(self.wait(tokens)),
            _ => Ok(()),
        }
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.per_second).min(self.capacity)
    }

    fn wait(&self, tokens: f64) -> u64 {
        // Whole seconds, rounded up, at least one: what `Retry-After` can say.
        ((1.0 - tokens) / self.per_second).ceil().max(1.0) as u64
    }

    // A full bucket is the same as no bucket, so those go first; if the callers are all
    // active, the least recently seen half goes.
    fn evict(&self, map: &mut HashMap<String, Bucket>, now: Instant) {
        map.retain(|_, b| self.refilled(b, now) < self.capacity);
        if map.len() < self.max_keys {
            return;
        }
        let mut seen: Vec<Instant> = map.values().map(|b| b.at).collect();
        let middle = seen.len() / 2;
        let (_, cutoff, _) = seen.select_nth_unstable(middle);
        let cutoff = *cutoff;
        map.retain(|_, b| b.at > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_spends_its_burst_then_refills() {
        let buckets = Buckets::per_minute(3).expect("limited");
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(buckets.take_at("user:a", t0), Ok(()));
        }
        // 3 per minute is one token every 20 s.
        assert_eq!(buckets.take_at("user:a", t0), Err(20));
        assert_eq!(buckets.take_at("user:b", t0), Ok(()));
        assert_eq!(
            buckets.take_at("user:a", t0 + Duration::from_secs(15)),
            Err(5)
        );
        assert_eq!(
            buckets.take_at("user:a", t0 + Duration::from_secs(21)),
            Ok(())
        );
        assert!(Buckets::per_minute(0).is_none());
    }

    #[test]
    fn check_does_not_spend() {
        let buckets = Buckets::per_minute(1).expect("limited");
        assert_eq!(buckets.check("ip:1"), Ok(()));
        assert_eq!(buckets.take("ip:1"), Ok(()));
        assert!(buckets.check("ip:1").is_err());
        assert!(buckets.check("ip:2").is_ok());
        assert_eq!(buckets.len(), 1);
    }

    #[test]
    fn the_map_stays_bounded() {
        let buckets = Buckets::per_minute(10).expect("limited").with_max_keys(100);
        let t0 = Instant::now();
        for i in 0..1_000_u64 {
            let _ = buckets.take_at(&format!("ip:{i}"), t0 + Duration::from_millis(i));
            assert!(buckets.len() <= 100);
        }
        // The most recent caller survives eviction and is still charged.
        let last = t0 + Duration::from_millis(999);
        for _ in 0..9 {
            assert_eq!(buckets.take_at("ip:999", last), Ok(()));
        }
        assert!(buckets.take_at("ip:999", last).is_err());
    }
}
