/*
 * parallel.c -- teams of worker threads (see parallel.h).
 */
#include <unistd.h>

#include "parallel.h"

unsigned bp_thread_count(unsigned requested, size_t work, size_t work_per_thread)
{
    size_t threads = requested;
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (size_t)cores : 1;
    }
    size_t useful = work_per_thread ? work / work_per_thread : work;
    if (threads > useful)
        threads = useful;
    if (threads > BP_MAX_THREADS)
        threads = BP_MAX_THREADS;
    return threads ? (unsigned)threads : 1;
}

static void *run_member(void *arg)
{
    bp_team_member *member = arg;
    member->team->fn(member->team->ctx, member->worker);
    return NULL;
}

void bp_team_start(bp_team *team, unsigned first, unsigned n, bp_worker_fn fn, void *ctx)
{
    team->fn = fn;
    team->ctx = ctx;
    team->first = first;
    team->n_started = 0;
    for (unsigned w = first; w < n && team->n_started < BP_MAX_THREADS; w++) {
        bp_team_member *member = &team->members[team->n_started];
        *member = (bp_team_member){.team = team, .worker = w};
        if (pthread_create(&member->thread, NULL, run_member, member) != 0)
            break; /* a smaller team: the others claim the work this one would have done */
        team->n_started++;
    }
}

void bp_team_join(bp_team *team)
{
    for (unsigned i = 0; i < team->n_started; i++)
        pthread_join(team->members[i].thread, NULL);
    if (team->first == 0 && team->n_started == 0)
        team->fn(team->ctx, 0);
    team->n_started = 0;
}

void bp_parallel_for(unsigned threads, bp_worker_fn fn, void *ctx)
{
    bp_team team;
    bp_team_start(&team, 1, threads, fn, ctx);
    fn(ctx, 0);
    bp_team_join(&team);
}
