//! The in-process signal of new global revisions: every commit this process makes, and (on
//! PostgreSQL) every commit another process makes, advances it.

use tokio::sync::{broadcast, watch};

/// How many revisions a slow subscriber may fall behind before it sees `Lagged`.
const FEED_CAPACITY: usize = 1024;

/// The highest revision known to be committed, as a watch (for "wait until at least") and as a
/// broadcast feed (for "tell me about each advance").
pub(crate) struct RevisionSignal {
    seen: watch::Sender<u64>,
    feed: broadcast::Sender<u64>,
}

impl RevisionSignal {
    pub(crate) fn new(current: u64) -> Self {
        RevisionSignal {
            seen: watch::Sender::new(current),
            feed: broadcast::Sender::new(FEED_CAPACITY),
        }
    }

    /// Records that `revision` is committed. Never moves backwards; an advance is broadcast
    /// while the watch's lock is held, so the feed is in increasing order.
    pub(crate) fn advance(&self, revision: u64) {
        self.seen.send_if_modified(|seen| {
            if revision > *seen {
                *seen = revision;
                // No subscriber is not an error: nobody is listening yet.
                let _ = self.feed.send(revision);
                true
            } else {
                false
            }
        });
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<u64> {
        self.feed.subscribe()
    }

    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.seen.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_never_moves_backwards_and_feeds_only_increases() {
        let signal = RevisionSignal::new(3);
        let mut feed = signal.subscribe();
        signal.advance(5);
        signal.advance(4);
        signal.advance(5);
        signal.advance(7);
        assert_eq!(*signal.watch().borrow(), 7);
        assert_eq!(feed.try_recv().ok(), Some(5));
        assert_eq!(feed.try_recv().ok(), Some(7));
        assert!(feed.try_recv().is_err());
    }
}
