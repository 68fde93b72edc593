/*
 * clock.h -- the one clock of the tools (bp, bp-bench, bp-train-bench): seconds of a POSIX
 * clock as a double, for progress rates and benchmark timings.
 */
#ifndef BP_TOOLS_CLOCK_H
#define BP_TOOLS_CLOCK_H

#include <time.h>

/* Seconds on `clock`: CLOCK_MONOTONIC for wall time, CLOCK_THREAD_CPUTIME_ID or
 * CLOCK_PROCESS_CPUTIME_ID for CPU time. */
static inline double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
