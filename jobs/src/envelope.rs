//! The job envelope: what a stream entry, a scheduled member or a dead record holds.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::Error;

/// How many past errors an envelope keeps: enough for the admin UI to show a pattern,
/// few enough that a job failing 25 times does not grow without bound.
pub const MAX_ERRORS_KEPT: usize = 5;

/// One JSON value per job, parsed once per delivery. `args` stays raw so the engine never
/// re-parses or re-encodes a handler's arguments (a retry writes back exactly what came in).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub id: String,
    pub kind: String,
    pub queue: String,
    pub args: Box<RawValue>,
    /// Attempts already made (failed or interrupted); 0 for a fresh job.
    #[serde(default)]
    pub attempt: u32,
    pub max_attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    /// Wall-clock ms when first enqueued.
    pub enqueued_at: u64,
    /// When the job is next due: a retry or a deferral moves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_at: Option<u64>,
    /// Wall-clock ms when the job became due: the instant it was enqueued for (a post's
    /// slot, weeks after the approval that enqueued it), or when it was enqueued. Retries
    /// and waits leave it, so the bound a pipeline puts on waiting counts from here, not
    /// from the enqueue. Absent in envelopes of older producers: see [`Envelope::due_at`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_key: Option<String>,
    /// The kind's `Job::UNIQUE_FOR` in ms, carried so that whoever reschedules the job
    /// (a retry, a deferral, crash recovery, an admin) can keep its unique key alive until
    /// the job is due plus this much, without knowing the kind. Absent in envelopes of
    /// older producers, and in jobs without a unique key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_for: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred: Option<Deferral>,
    /// Set when the job reached the dead set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub died_at: Option<u64>,
    /// Times crash recovery handed this job back without using an attempt because it had
    /// not started. Bounded by [`MAX_FREE_RETURNS`]: a job the
    /// keepalive last saw waiting, which then started and killed its worker before the
    /// next keepalive, must not loop for free forever.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub returned: u32,
}

/// Returns without an attempt a job may get before crash recovery charges one anyway.
pub const MAX_FREE_RETURNS: u32 = 3;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One failed attempt, as the admin UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRecord {
    pub at: u64,
    pub attempt: u32,
    pub message: String,
}

/// Why and until when a job waits without using an attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferral {
    pub until: u64,
    pub reason: String,
    /// How many times in a row this job was deferred.
    pub count: u32,
}

impl Envelope {
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|e| Error::Envelope(e.to_string()))
    }

    pub fn encode(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::Encode {
            kind: self.kind.clone(),
            source: e,
        })
    }

    /// Records a failed attempt, keeping the newest [`MAX_ERRORS_KEPT`].
    pub fn record_error(&mut self, at: u64, message: &str) {
        self.errors.push(ErrorRecord {
            at,
            attempt: self.attempt + 1,
            message: truncate(message, 2_000),
        });
        if self.errors.len() > MAX_ERRORS_KEPT {
            let excess = self.errors.len() - MAX_ERRORS_KEPT;
            self.errors.drain(..excess);
        }
        self.attempt += 1;
    }

    /// When the job became due. An envelope of an older producer has no `due_at`: its
    /// `run_at` is still the instant it was enqueued for while nothing rescheduled it (no
    /// attempt made, no wait); after that, `run_at` is the next retry's, and the enqueue is
    /// the only instant left.
    pub fn due_at(&self) -> u64 {
        if let Some(due) = self.due_at {
            return due;
        }
        let untouched = self.attempt == 0 && self.deferred.is_none() && self.returned == 0;
        match self.run_at {
            Some(run_at) if untouched => run_at.max(self.enqueued_at),
            _ => self.enqueued_at,
        }
    }

    pub fn last_error(&self) -> Option<&str> {
        self.errors.last().map(|e| e.message.as_str())
    }
}

/// Cuts on a char boundary so a huge panic message cannot bloat the dead set.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// A stream entry whose envelope could not be parsed: kept verbatim for the dead set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Malformed {
    pub id: String,
    pub queue: String,
    pub raw: String,
    pub error: String,
    pub died_at: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(args: &str) -> Envelope {
        Envelope {
            id: "0190-x".into(),
            kind: "noop".into(),
            queue: "bench".into(),
            args: RawValue::from_string(args.to_owned()).unwrap(),
            attempt: 0,
            max_attempts: 5,
            user_id: Some(42),
            enqueued_at: 1,
            run_at: None,
            due_at: None,
            unique_key: None,
            unique_for: None,
            trace: None,
            errors: vec![],
            deferred: None,
            died_at: None,
            returned: 0,
        }
    }

    #[test]
    fn keeps_only_the_newest_errors() {
        let mut env = sample("{}");
        for i in 0..8 {
            env.record_error(i, &format!("boom {i}"));
        }
        assert_eq!(env.attempt, 8);
        assert_eq!(env.errors.len(), MAX_ERRORS_KEPT);
        assert_eq!(env.last_error(), Some("boom 7"));
    }

    #[test]
    fn truncates_on_char_boundaries() {
        let s = "é".repeat(10);
        let t = truncate(&s, 5);
        assert!(t.starts_with("éé"));
    }

    #[test]
    fn an_older_envelope_is_due_when_it_was_enqueued_for() {
        // Written before envelopes carried `due_at`: a post's job for its slot.
        let old = r#"{"id":"j","kind":"k","queue":"q","args":{},"max_attempts":5,
                      "enqueued_at":1000,"run_at":9000}"#;
        let mut env = Envelope::decode(old.as_bytes()).unwrap();
        assert_eq!(env.due_at(), 9000);
        // Once a wait moved `run_at`, it says when the wait ends, not when the job was due.
        env.deferred = Some(Deferral {
            until: 20_000,
            reason: "429".into(),
            count: 1,
        });
        env.run_at = Some(20_000);
        assert_eq!(env.due_at(), 1000);
        // A job enqueued to run now.
        let now =
            r#"{"id":"j","kind":"k","queue":"q","args":{},"max_attempts":5,"enqueued_at":1000}"#;
        assert_eq!(Envelope::decode(now.as_bytes()).unwrap().due_at(), 1000);
        // A new envelope says it.
        let mut new = sample("{}");
        new.due_at = Some(5000);
        let decoded = Envelope::decode(new.encode().unwrap().as_bytes()).unwrap();
        assert_eq!(decoded.due_at(), 5000);
    }

    proptest! {
        #[test]
        fn round_trip_keeps_args_verbatim(n in any::<i64>(), s in ".{0,40}", attempt in 0u32..100) {
            let args = serde_json::json!({ "n": n, "s": s, "empty": [], "obj": {} }).to_string();
            let mut env = sample(&args);
            env.attempt = attempt;
            let decoded = Envelope::decode(env.encode().unwrap().as_bytes()).unwrap();
            prop_assert_eq!(decoded.args.get(), args.as_str());
            prop_assert_eq!(decoded.attempt, attempt);
            prop_assert_eq!(decoded.user_id, Some(42));
        }
    }
}
