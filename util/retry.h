/*
 * retry: the bounded retry every network call of a backup gets, so a
 * dropped connection or a server that is still starting costs a few
 * seconds instead of a component, and nothing can retry forever.
 *
 *     for (int try = 0; try < RETRY_TRIES; try++) {
 *             retry_backoff(try);
 *             if (call(..., &again, e) == 0 || !again)
 *                     break;
 *     }
 */
#ifndef FERRY_UTIL_RETRY_H
#define FERRY_UTIL_RETRY_H

#define RETRY_TRIES 3

/* Sleeps before try number `attempt` (0: the first, no sleep): 0.5 s,
 * 1 s, 2 s, ... doubling, never more than 8 s. */
void retry_backoff(int attempt);

#endif
