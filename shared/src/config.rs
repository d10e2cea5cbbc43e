//! One typed configuration, loaded once at startup: `config/default.toml`, then
//! `AG_`-prefixed environment variables (`AG_REDIS__URL` sets `redis.url`), then the
//! conventional `REDIS_URL`. A bad value stops the process at startup, not at the first
//! job that needs it.

use std::path::Path;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub redis: RedisConfig,
    pub queue: QueueConfig,
    pub workers: WorkersConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedisConfig {
    pub url: String,
}

/// The queue engine's tunables (see `jobs::Settings` for what each does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueConfig {
    pub prefix: String,
    pub visibility_timeout_ms: u64,
    pub block_ms: u64,
    pub mover_interval_ms: u64,
    pub dead_max: u64,
    /// Jobs a worker reads beyond its concurrency; unset = as many as its concurrency
    /// (at most 100). Lower it for queues of slow jobs so idle workers are not starved.
    #[serde(default)]
    pub read_ahead: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkersConfig {
    /// How long a SIGTERM waits for running jobs before leaving them to crash recovery.
    pub shutdown_deadline_ms: u64,
    pub heartbeat_interval_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        let q = jobs::Settings::default();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            redis: RedisConfig {
                url: "redis://127.0.0.1:6379/0".to_owned(),
            },
            queue: QueueConfig {
                prefix: q.prefix,
                visibility_timeout_ms: ms(q.visibility_timeout),
                block_ms: ms(q.block),
                mover_interval_ms: ms(q.mover_interval),
                dead_max: q.dead_max,
                read_ahead: q.read_ahead,
            },
            workers: WorkersConfig {
                shutdown_deadline_ms: 25_000,
                heartbeat_interval_ms: ms(q.heartbeat_interval),
            },
        }
    }
}

impl Config {
    /// Defaults, then `config/default.toml` if present, then the environment.
    pub fn load() -> Result<Self, Error> {
        Self::load_from(Path::new("config/default.toml"))
    }

    pub fn load_from(file: &Path) -> Result<Self, Error> {
        let config: Self = Figment::from(Serialized::defaults(Self::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("AG_").split("__"))
            .merge(Env::raw().only(&["REDIS_URL"]).map(|_| "redis.url".into()))
            .extract()
            .map_err(|e| Error::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), Error> {
        if !(self.redis.url.starts_with("redis://")
            || self.redis.url.starts_with("rediss://")
            || self.redis.url.starts_with("unix://")
            || self.redis.url.starts_with("redis+unix://"))
        {
            return Err(Error::Config(format!(
                "redis.url must be a redis:// URL, got {:?}",
                self.redis.url
            )));
        }
        if self.queue.visibility_timeout_ms < 1_000 {
            return Err(Error::Config(
                "queue.visibility_timeout_ms must be at least 1000".into(),
            ));
        }
        if self.queue.block_ms == 0 || self.queue.block_ms >= self.queue.visibility_timeout_ms {
            return Err(Error::Config(
                "queue.block_ms must be above 0 and below the visibility timeout".into(),
            ));
        }
        jobs::QueueName::new(self.queue.prefix.trim_end_matches(':'))
            .map_err(|e| Error::Config(format!("queue.prefix: {e}")))?;
        Ok(())
    }

    /// The engine settings this configuration describes.
    pub fn queue_settings(&self) -> jobs::Settings {
        jobs::Settings {
            prefix: self.queue.prefix.clone(),
            visibility_timeout: Duration::from_millis(self.queue.visibility_timeout_ms),
            block: Duration::from_millis(self.queue.block_ms),
            mover_interval: Duration::from_millis(self.queue.mover_interval_ms.max(1)),
            dead_max: self.queue.dead_max.max(1),
            heartbeat_interval: Duration::from_millis(self.workers.heartbeat_interval_ms.max(100)),
            read_ahead: self.queue.read_ahead,
            ..jobs::Settings::default()
        }
    }

    pub fn shutdown_deadline(&self) -> Duration {
        Duration::from_millis(self.workers.shutdown_deadline_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_map_to_engine_settings() {
        let config = Config::default();
        config.validate().unwrap();
        let settings = config.queue_settings();
        assert_eq!(settings.prefix, "ag:");
        assert_eq!(settings.visibility_timeout, Duration::from_secs(30));
        assert_eq!(config.shutdown_deadline(), Duration::from_secs(25));
    }

    #[test]
    fn bad_values_are_refused_at_startup() {
        let mut c = Config::default();
        c.redis.url = "http://localhost".into();
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.queue.block_ms = c.queue.visibility_timeout_ms;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.queue.visibility_timeout_ms = 10;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.queue.prefix = "has space:".into();
        assert!(c.validate().is_err());
    }

    #[test]
    fn file_values_override_defaults() {
        let dir = std::env::temp_dir().join(format!("ag-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("default.toml");
        std::fs::write(&file, "[queue]\nvisibility_timeout_ms = 60000\n").unwrap();
        let config = Config::load_from(&file).unwrap();
        assert_eq!(config.queue.visibility_timeout_ms, 60_000);
        std::fs::write(&file, "[queue]\nvisibility_timeout_ms = \"soon\"\n").unwrap();
        let err = Config::load_from(&file).unwrap_err().to_string();
        assert!(err.contains("visibility_timeout_ms"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
