//! The engine's Lua scripts, loaded once per process and run by SHA (redis-rs falls back
//! to EVAL on NOSCRIPT, so a restarted Redis needs no special handling).

use std::sync::LazyLock;

use redis::Script;

pub(crate) struct Scripts {
    pub ack: Script,
    pub enqueue_unique: Script,
    pub enqueue_owned: Script,
    pub admit: Script,
    pub settle: Script,
    pub bury: Script,
    pub move_due: Script,
    pub keepalive: Script,
    pub release: Script,
    pub revive: Script,
    pub prune: Script,
    pub beat: Script,
    pub lapsed: Script,
    pub live: Script,
    pub discard_scheduled: Script,
    pub discard_all_dead: Script,
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    ack: Script::new(include_str!("lua/ack.lua")),
    enqueue_unique: Script::new(include_str!("lua/enqueue_unique.lua")),
    enqueue_owned: Script::new(concat!(
        include_str!("lua/fair.lua"),
        include_str!("lua/enqueue_owned.lua")
    )),
    admit: Script::new(concat!(
        include_str!("lua/fair.lua"),
        include_str!("lua/admit.lua")
    )),
    settle: Script::new(include_str!("lua/settle.lua")),
    bury: Script::new(include_str!("lua/bury.lua")),
    move_due: Script::new(concat!(
        include_str!("lua/fair.lua"),
        include_str!("lua/move_due.lua")
    )),
    keepalive: Script::new(include_str!("lua/keepalive.lua")),
    release: Script::new(include_str!("lua/release.lua")),
    revive: Script::new(include_str!("lua/revive.lua")),
    prune: Script::new(include_str!("lua/prune.lua")),
    beat: Script::new(include_str!("lua/beat.lua")),
    lapsed: Script::new(include_str!("lua/lapsed.lua")),
    live: Script::new(include_str!("lua/live.lua")),
    discard_scheduled: Script::new(include_str!("lua/discard_scheduled.lua")),
    discard_all_dead: Script::new(include_str!("lua/discard_all_dead.lua")),
});

/// An EVALSHA command for use inside a pipeline (redis-rs only runs scripts one by one).
/// The caller loads the script first, as `Script::load_async` does.
pub(crate) fn evalsha(script: &Script, keys: &[&str]) -> redis::Cmd {
    let mut cmd = redis::cmd("EVALSHA");
    cmd.arg(script.get_hash()).arg(keys.len());
    for key in keys {
        cmd.arg(*key);
    }
    cmd
}
