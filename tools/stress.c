/* Concurrency stress on a shared context (see stress.h). */
#include "stress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct shared {
    opk_ctx *ctx;
    const golden_case *cases;
    const golden_result *ref; /* per case; status != OK: not run */
    size_t n;
    long repeat;
    pthread_mutex_t lock;
    stress_report *rep;
} shared;

typedef struct caller {
    shared *s;
    int id;
    pthread_t t;
} caller;

static void note(shared *s, long *counter, const char *fmt, const char *a,
                 const char *b, int id)
{
    pthread_mutex_lock(&s->lock);
    (*counter)++;
    if (!s->rep->first[0])
        snprintf(s->rep->first, sizeof s->rep->first, fmt, a, b, id);
    pthread_mutex_unlock(&s->lock);
}

static void *caller_main(void *arg)
{
    caller *c = arg;
    shared *s = c->s;
    long calls = 0;
    for (long r = 0; r < s->repeat; r++)
        for (size_t k = 0; k < s->n; k++) {
            size_t i = (k + (size_t)c->id * 7 + (size_t)r) % s->n;
            if (s->ref[i].status != OPK_OK)
                continue;
            golden_result g;
            calls++;
            if (golden_run(s->ctx, &s->cases[i], 0, &g)) {
                note(s, &s->rep->failures, "%s/%s: failed in caller %d",
                     s->cases[i].kernel, s->cases[i].name, c->id);
                continue;
            }
            int same = g.nout == s->ref[i].nout;
            for (int o = 0; same && o < g.nout; o++)
                same = g.hash[o] == s->ref[i].hash[o];
            if (!same)
                note(s, &s->rep->mismatches,
                     "%s/%s: hash differs from the single-threaded run in "
                     "caller %d",
                     s->cases[i].kernel, s->cases[i].name, c->id);
        }
    pthread_mutex_lock(&s->lock);
    s->rep->calls += calls;
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int stress_run(opk_ctx *ctx, const golden_case *cases, size_t n, int callers,
               long repeat, stress_report *rep)
{
    memset(rep, 0, sizeof *rep);
    golden_result *ref = calloc(n ? n : 1, sizeof *ref);
    caller *cl = calloc((size_t)(callers > 0 ? callers : 1), sizeof *cl);
    if (!ref || !cl) {
        free(ref), free(cl);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (golden_run(ctx, &cases[i], 0, &ref[i])) {
            if (ref[i].status == OPK_ERR_UNSUPPORTED)
                rep->unported++;
            else {
                rep->failures++;
                if (!rep->first[0]) /* 23 + 1 + 63 + 26 + 140 < 256 */
                    snprintf(rep->first, sizeof rep->first,
                             "%s/%s: failed single-threaded: %.140s",
                             cases[i].kernel, cases[i].name, ref[i].msg);
            }
            ref[i].status = OPK_ERR_UNSUPPORTED; /* not run by callers */
        }
    shared s = {ctx, cases, ref, n, repeat, PTHREAD_MUTEX_INITIALIZER, rep};
    int started = 0, rc = 0;
    for (; started < callers; started++) {
        cl[started].s = &s;
        cl[started].id = started;
        if (pthread_create(&cl[started].t, NULL, caller_main, &cl[started])) {
            rc = -1;
            break;
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(cl[i].t, NULL);
    pthread_mutex_destroy(&s.lock);
    free(ref), free(cl);
    return rc;
}
