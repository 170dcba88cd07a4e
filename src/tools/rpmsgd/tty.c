/* The rpmsg TTY bridge (rpmsgd.h), as Linux's rpmsg_tty: for each
 * "rpmsg-tty" service the peer announces, a pseudo-terminal; bytes
 * written to it go to the service as messages (at most a buffer's payload
 * each), messages from the service come out of it. Its stable name is the
 * symlink <tty-dir>/ttyRPMSG<n> (default /dev/ttyRPMSG<n>, n the lowest
 * free number, as the kernel's) to the pty's /dev/pts/N.
 *
 * The pty starts raw (cfmakeraw: no echo, no line editing, no CR/LF
 * mapping), so that the service's output is neither echoed back to it nor
 * altered; a terminal program sets its own modes. The daemon keeps the
 * slave side open itself: output that arrives while nobody has the tty
 * open waits in the tty's buffer (4 KiB) for the next reader, and what
 * does not fit is dropped and counted.
 *
 * The peer learns our address from the announcement: the bridge's
 * endpoint is created with the name "rpmsg-tty" and no destination, so
 * libxenamp announces it and a firmware endpoint "rpmsg-tty" waiting for
 * a peer binds to it (the kernel's rpmsg_tty announces nothing; its peer
 * binds on the first message instead, which works here too). The
 * endpoint is then bound to the service's address by hand, so that a
 * second "rpmsg-tty" service of the peer gets a tty of its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "tools/rpmsgd/rpmsgd.h"

#define TTY_SERVICE "rpmsg-tty"

static int tty_rx_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		     uint32_t src, void *priv)
{
	struct rd_tty *t = priv;
	const unsigned char *p = data;
	size_t done = 0;

	(void)ept, (void)src;
	t->msgs_in++;
	while (done < len) {
		ssize_t w = write(t->master, p + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;   /* EAGAIN: the tty's buffer is full */
		done += (size_t)w;
	}
	if (done < len) {
		bool first = t->bytes_dropped == 0;

		t->bytes_dropped += len - done;
		if (first)
			rd_log("%s: nobody reads it and its buffer is full: dropping output (counted)",
			       t->link);
	}
	return RPMSG_SUCCESS;
}

static int tty_open_pty(struct rd_tty *t)
{
	struct termios tio;

	t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->master < 0)
		return -errno;
	if (grantpt(t->master) < 0 || unlockpt(t->master) < 0 ||
	    ptsname_r(t->master, t->pts, sizeof(t->pts)) != 0)
		return -errno;
	t->slave = open(t->pts, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->slave < 0)
		return -errno;
	if (tcgetattr(t->slave, &tio) == 0) {
		cfmakeraw(&tio);
		(void)tcsetattr(t->slave, TCSANOW, &tio);
	}
	if (fcntl(t->master, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* <tty-dir>/ttyRPMSG<n> -> the pty, n the lowest free number. */
static int tty_link(struct rd_daemon *rd, struct rd_tty *t)
{
	struct stat st;

	for (unsigned i = 0; i < 4096; i++) {
		bool ours = false;

		for (struct rd_tty *o = rd->ttys; o != NULL; o = o->next)
			ours = ours || o->index == i;
		snprintf(t->link, sizeof(t->link), "%s/ttyRPMSG%u", rd->tty_dir, i);
		if (ours || lstat(t->link, &st) == 0)
			continue;
		if (symlink(t->pts, t->link) < 0)
			return -errno;
		t->index = i;
		return 0;
	}
	return -EMFILE;
}

static void tty_free(struct rd_tty *t)
{
	char target[sizeof(t->pts)];
	ssize_t n;

	if (t->ept_live)
		rpmsg_destroy_ept(&t->ept);
	if (t->link[0] != '\0') {
		/* Remove the link only while it still points at our pty. */
		n = readlink(t->link, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = '\0', strcmp(target, t->pts) == 0))
			(void)unlink(t->link);
	}
	if (t->slave >= 0)
		close(t->slave);
	if (t->master >= 0)
		close(t->master);
	free(t->out);
	free(t);
}

void rd_tty_add(struct rd_daemon *rd, uint32_t peer)
{
	struct rd_tty *t;
	int r;

	for (t = rd->ttys; t != NULL; t = t->next)
		if (t->peer == peer)
			return;   /* announced again (a backend restart) */
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return;
	t->rd = rd;
	t->peer = peer;
	t->master = t->slave = -1;
	r = tty_open_pty(t);
	if (r == 0)
		r = tty_link(rd, t);
	if (r == 0) {
		t->ept.priv = t;
		r = rpmsg_create_ept(&t->ept, rd->rdev, TTY_SERVICE, RPMSG_ADDR_ANY,
				     RPMSG_ADDR_ANY, tty_rx_cb, NULL);
		r = r < 0 ? rd_errno_from_rpmsg(r) : 0;
	}
	if (r < 0) {
		rd_log("rpmsg-tty service at %u: no tty: %s", peer, strerror(-r));
		tty_free(t);
		return;
	}
	t->ept_live = true;
	/* Bound to this service by hand (see the top of the file). */
	__atomic_store_n(&t->ept.dest_addr, peer, __ATOMIC_RELEASE);
	t->out = malloc((size_t)rpmsg_get_tx_buffer_size(&t->ept));
	t->next = rd->ttys;
	rd->ttys = t;
	rd_log("%s -> %s: rpmsg-tty service at address %u (local address %u)",
	       t->link, t->pts, peer, t->ept.addr);
}

void rd_tty_remove(struct rd_daemon *rd, uint32_t peer)
{
	for (struct rd_tty **pt = &rd->ttys; *pt != NULL; pt = &(*pt)->next) {
		struct rd_tty *t = *pt;

		if (t->peer != peer)
			continue;
		*pt = t->next;
		rd_log("%s removed: the peer withdrew its rpmsg-tty service at %u (%llu messages in, %llu out, %llu bytes dropped)",
		       t->link, peer, (unsigned long long)t->msgs_in,
		       (unsigned long long)t->msgs_out,
		       (unsigned long long)t->bytes_dropped);
		tty_free(t);
		return;
	}
}

/* Send what was read from the pty; false while no TX buffer is free. */
static bool tty_flush(struct rd_tty *t)
{
	int r;

	if (t->out_len == 0)
		return true;
	r = rpmsg_trysendto(&t->ept, t->out, (int)t->out_len, t->peer);
	if (r == RPMSG_ERR_NO_BUFF)
		return false;
	if (r < 0)
		rd_log("%s: sending %zu bytes to the service failed: error %d",
		       t->link, t->out_len, r);
	else
		t->msgs_out++;
	t->out_len = 0;
	return true;
}

void rd_tty_readable(struct rd_tty *t)
{
	int max = rpmsg_get_tx_buffer_size(&t->ept);
	ssize_t n;

	if (t->out == NULL || max <= 0 || t->out_len > 0)
		return;
	n = read(t->master, t->out, (size_t)max);
	if (n <= 0)
		return;   /* EAGAIN, or EIO: cannot happen while we hold the slave */
	t->out_len = (size_t)n;
	(void)tty_flush(t);
}

int rd_ttys_service(struct rd_daemon *rd)
{
	int timeout = -1;

	for (struct rd_tty *t = rd->ttys; t != NULL; t = t->next)
		if (!tty_flush(t))
			timeout = RD_RETRY_MS;
	return timeout;
}

void rd_ttys_shutdown(struct rd_daemon *rd)
{
	struct rd_tty *t;

	while ((t = rd->ttys) != NULL) {
		rd->ttys = t->next;
		tty_free(t);
	}
}
