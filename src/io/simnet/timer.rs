//! The one timer primitive the wire builds on, and a test of the madsim behaviour it relies on.
//!
//! madsim 0.2.34's `Sleep` registers a timer each time it is polled while pending and never
//! cancels it: dropping the `Sleep` leaves the timer in the heap, and it still wakes the waker
//! it was given. So polling a fresh `Sleep` once and dropping it is a fire-and-forget wake-up
//! call, which is all [`wake_at`] does. None of this is a public promise of madsim (Cargo.toml
//! pins the exact version); the tests below fail loudly if an upgrade changes it.

use madsim::time::TimeHandle;
use std::future::Future;
use std::task::{Context, Waker};
use tokio::time::Instant;

/// Sets one madsim timer that wakes `waker` at `at` (at least 1 ms from now: madsim rounds
/// every sleep up to 1 ms, as tokio does).
pub(crate) fn wake_at(time: &TimeHandle, at: Instant, waker: &Waker) {
    let mut cx = Context::from_waker(waker);
    let mut sleep = std::pin::pin!(time.sleep_until(at));
    let _ = sleep.as_mut().poll(&mut cx);
}

#[cfg(test)]
mod tests {
    use super::*;
    use madsim::runtime::Runtime;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Poll, Wake};
    use std::time::Duration;

    /// Counts wakes.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref()
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Arms `wake_at(at)` for the current task, and returns how long after `from` it ran again.
    async fn woken(time: &TimeHandle, from: Instant, at: Instant) -> Duration {
        let mut armed = false;
        std::future::poll_fn(|cx| {
            if armed {
                return Poll::Ready(());
            }
            armed = true;
            wake_at(time, at, cx.waker());
            Poll::Pending
        })
        .await;
        time.now_instant() - from
    }

    /// The madsim timer behaviour `wake_at`, the inbox, the exchange and the deadline watchdog
    /// rely on (madsim 0.2.34). If this fails after a madsim upgrade, the transport's timing
    /// (and every snapshot) is no longer what it was reviewed as: re-read `src/sim/time/` of
    /// the new madsim before changing the expectations.
    #[test]
    fn madsim_timers_fire_once_per_poll_are_never_cancelled_and_round_up_to_1ms() {
        let rt = Runtime::with_seed_and_config(1, madsim::Config::default());
        rt.block_on(async {
            let time = TimeHandle::current();
            let (ms, ns) = (Duration::from_millis, Duration::from_nanos);

            // 1. The Sleep `wake_at` polls is dropped at once, and its timer still wakes the
            //    task at the deadline, plus the 50 ns madsim adds when it jumps to a timer.
            let t0 = time.now_instant();
            assert_eq!(woken(&time, t0, t0 + ms(10)).await, ms(10) + ns(50));

            // 2. A deadline closer than 1 ms (here: now) is rounded up to now + 1 ms.
            let t1 = time.now_instant();
            assert_eq!(woken(&time, t1, t1).await, ms(1) + ns(50));

            // 3. Each poll of a pending Sleep registers one more timer, and dropping the Sleep
            //    cancels none of them.
            let count = Arc::new(Count::default());
            let waker = Waker::from(count.clone());
            {
                let mut cx = Context::from_waker(&waker);
                let t2 = time.now_instant();
                let mut s = std::pin::pin!(time.sleep_until(t2 + ms(20)));
                assert!(s.as_mut().poll(&mut cx).is_pending());
                assert!(s.as_mut().poll(&mut cx).is_pending());
            }
            tokio::time::sleep(ms(19)).await;
            assert_eq!(count.0.load(Ordering::Relaxed), 0, "no timer fires early");
            tokio::time::sleep(ms(2)).await;
            assert_eq!(
                count.0.load(Ordering::Relaxed),
                2,
                "one wake per poll, none cancelled"
            );
        });
    }
}
