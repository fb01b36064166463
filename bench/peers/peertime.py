"""Timing shared by the peer scripts: one warm-up call, then the median of
`reps` timed calls (seconds, time.perf_counter)."""
import time


def median_time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]
