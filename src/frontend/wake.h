/* The wake-up set libxenamp uses so that a blocking sender and the
 * dispatching thread never steal each other's notification: an epoll set
 * over the transport's event fd and two internal eventfds (POSIX).
 *
 * Functions return 0 or a negative errno value; those with (err, errlen)
 * leave one human line there on failure. */
#ifndef XENAMP_FRONTEND_WAKE_H
#define XENAMP_FRONTEND_WAKE_H

#include <stddef.h>

struct xa_fe_wake {
	int epfd;     /* readable when the transport fd or rx_efd is: xenamp_fd() */
	int rx_efd;   /* "the dispatcher has work" (set by whoever saw it) */
	int tx_efd;   /* "a blocking sender should look again" */
	int tr_fd;    /* the transport's event fd (not owned) */
};

/* Create the two internal event fds and the epoll set over transport_fd
 * and rx_efd. */
int xa_fe_wake_init(struct xa_fe_wake *w, int transport_fd,
		    char *err, size_t errlen);
void xa_fe_wake_fini(struct xa_fe_wake *w);

/* Make an internal event fd readable / not readable. Never block. */
void xa_fe_wake_signal(int efd);
void xa_fe_wake_clear(int efd);

/* Wait up to timeout_ms (-1: forever) until one of fds[0..n) is readable.
 * Returns > 0 when one is, 0 on timeout, or -errno (EINTR is retried by
 * the caller's loop, so it is reported as 0). */
int xa_fe_wake_poll(const int *fds, unsigned n, int timeout_ms);

#endif
