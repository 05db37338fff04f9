//! The server process's own CPU time over a measured window, from its counters in
//! `/proc/PID/stat` (user + system time of all its threads, dead ones included), so that
//! the cost of a request can be told apart from the noise of a shared machine, which moves
//! requests/s far more than it moves CPU time per request.

use std::time::{Duration, Instant};

use anyhow::Context;

/// Clock ticks per second of `/proc/PID/stat`'s `utime` and `stime`: the kernel's `USER_HZ`,
/// 100 on Linux for every architecture this runs on.
const TICKS_PER_SECOND: u64 = 100;

/// CPU time (user + system) the process `pid` has used so far.
pub fn used(pid: u32) -> anyhow::Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let line = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {path} (is {pid} the server's pid, on Linux?)"))?;
    parse_stat(&line).with_context(|| format!("{path} has no utime and stime fields: {line:?}"))
}

/// The CPU time in one `/proc/PID/stat` line: fields 14 (`utime`) and 15 (`stime`),
/// counted after the command name, which is in parentheses and may hold spaces.
fn parse_stat(line: &str) -> Option<Duration> {
    let after_name = &line[line.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime + stime;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// The CPU time `pid` uses from `from` until `until` (sleeping until each).
pub async fn over(pid: u32, from: Instant, until: Instant) -> anyhow::Result<Duration> {
    tokio::time::sleep_until(from.into()).await;
    let before = used(pid)?;
    tokio::time::sleep_until(until.into()).await;
    let after = used(pid)?;
    Ok(after.saturating_sub(before))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utime_and_stime_are_read_past_a_name_with_spaces_and_parentheses() {
        let line =
            "4242 (clear ance) (x)) S 1 4242 4242 0 -1 4194560 9 0 0 0 250 75 0 0 20 0 9 0 1 2 3";
        assert_eq!(parse_stat(line), Some(Duration::from_millis(3250)));
        assert_eq!(parse_stat("4242 (x) S 1"), None);
    }

    #[test]
    fn this_process_has_used_some_cpu_time() {
        let spin = Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {
            std::hint::black_box(0);
        }
        let used = used(std::process::id()).expect("/proc is readable on Linux");
        assert!(used > Duration::ZERO, "{used:?}");
    }
}
