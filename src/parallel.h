/*
 * parallel.h -- the library's one way of running work on threads (internal).
 *
 * A team of workers each call fn(ctx, worker) and claim their share of the work from the
 * context themselves (a shared counter), so that a team that could start fewer threads
 * than asked for still does all of it: a thread that fails to start only makes the team
 * smaller. bp_parallel_for runs a team with the calling thread as worker 0;
 * bp_team_start / bp_team_join run one beside the caller, for callers that do something
 * else meanwhile.
 */
#ifndef BP_PARALLEL_H
#define BP_PARALLEL_H

#include <pthread.h>
#include <stddef.h>

enum { BP_MAX_THREADS = 256 };

typedef void (*bp_worker_fn)(void *ctx, unsigned worker);

/* The threads a call uses: `requested`, 0 meaning one per online core, at most
 * BP_MAX_THREADS, and no more than one per `work_per_thread` units of the `work` to do
 * (a thread must have enough to do to pay for its start). At least 1. */
unsigned bp_thread_count(unsigned requested, size_t work, size_t work_per_thread);

/* Runs fn(ctx, w) for workers w = 0 .. k-1 and returns when all have returned: worker 0 on
 * the calling thread, the others on threads of their own. k is `threads`, or fewer when
 * threads could not be started (never 0). */
void bp_parallel_for(unsigned threads, bp_worker_fn fn, void *ctx);

typedef struct bp_team bp_team;

/* What a started thread is told: its team and its worker index. */
typedef struct bp_team_member {
    bp_team *team;
    unsigned worker;
    pthread_t thread;
} bp_team_member;

struct bp_team {
    bp_worker_fn fn;
    void *ctx;
    unsigned first;     /* whether worker 0 is a thread of the team (0) or the caller (1) */
    unsigned n_started; /* members[0 .. n_started) are running threads */
    bp_team_member members[BP_MAX_THREADS];
};

/* Starts workers first .. n-1 (at most BP_MAX_THREADS of them) on threads of their own
 * and returns at once; bp_team_join() is due in every case. */
void bp_team_start(bp_team *team, unsigned first, unsigned n, bp_worker_fn fn, void *ctx);

/* Waits for the team's threads. A team of workers from 0 on that could start no thread at
 * all has its worker 0 run here, on the calling thread, so that the work is done anyway. */
void bp_team_join(bp_team *team);

#endif
