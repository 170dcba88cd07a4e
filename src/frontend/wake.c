/* Frontend wake-up set: two eventfds and an epoll set (see wake.h).
 *
 * xenamp_fd() is the epoll fd. It covers the transport's own event fd, so
 * an application loop wakes on backend notifications directly, and rx_efd,
 * which a blocking sender sets after it consumed a notification that also
 * carried receive work for the dispatcher. tx_efd is the converse: the
 * dispatcher sets it when it consumed a notification that freed TX buffers
 * while a sender sleeps. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "frontend/wake.h"

int xa_fe_wake_init(struct xa_fe_wake *w, int transport_fd,
		    char *err, size_t errlen)
{
	struct epoll_event ev;
	int e;

	w->epfd = w->rx_efd = w->tx_efd = -1;
	w->tr_fd = transport_fd;
	w->rx_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->tx_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->rx_efd < 0 || w->tx_efd < 0 || w->epfd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create the wake-up descriptors: %s",
			 strerror(e));
		xa_fe_wake_fini(w);
		return -e;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = transport_fd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, transport_fd, &ev) < 0)
		goto fail;
	ev.data.fd = w->rx_efd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->rx_efd, &ev) < 0)
		goto fail;
	return 0;
fail:
	e = errno;
	snprintf(err, errlen, "cannot set up the event set (epoll_ctl): %s",
		 strerror(e));
	xa_fe_wake_fini(w);
	return -e;
}

void xa_fe_wake_fini(struct xa_fe_wake *w)
{
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->rx_efd >= 0)
		close(w->rx_efd);
	if (w->tx_efd >= 0)
		close(w->tx_efd);
	w->epfd = w->rx_efd = w->tx_efd = -1;
}

void xa_fe_wake_signal(int efd)
{
	uint64_t one = 1;
	ssize_t r;

	do
		r = write(efd, &one, sizeof(one));
	while (r < 0 && errno == EINTR);
	/* EAGAIN: the counter is saturated, so it is readable anyway. */
}

void xa_fe_wake_clear(int efd)
{
	uint64_t v;
	ssize_t r;

	do
		r = read(efd, &v, sizeof(v));
	while (r < 0 && errno == EINTR);
}

int xa_fe_wake_poll(const int *fds, unsigned n, int timeout_ms)
{
	struct pollfd p[4];
	unsigned i;
	int r;

	if (n > 4)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		p[i].fd = fds[i];
		p[i].events = POLLIN;
		p[i].revents = 0;
	}
	r = poll(p, n, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r;
}
