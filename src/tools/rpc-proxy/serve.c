/* xenamp-rpc-proxy: one request in, one answer out. The request is read
 * once into a local header, then each field is checked against the
 * message length before the data behind it is touched. */
#define _GNU_SOURCE
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openamp/rpmsg_retarget.h>

#include "tools/rpc-proxy/rpc_proxy.h"

#define HDR sizeof(struct rpmsg_rpc_syscall)

const char *rp_printable(const char *s, size_t n, char *buf, size_t bufsz)
{
	size_t i;

	for (i = 0; i < n && i + 1 < bufsz; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static size_t answer(void *ans, uint32_t id, int32_t result, uint32_t dlen)
{
	struct rpmsg_rpc_syscall a = { id, { result, 0, dlen } };

	memcpy(ans, &a, HDR);
	return HDR + dlen;
}

static void refuse(struct rp_state *st, uint32_t src, const char *what,
		   const char *why, int err)
{
	fprintf(st->log, "xenamp-rpc-proxy: address %u: %s refused: %s (answered %d)\n",
		(unsigned)src, what, why, err);
}

/* OPEN: data is the path, NUL-terminated within data_len. */
static int do_open(struct rp_state *st, struct rp_client *c,
		   const struct rpmsg_rpc_syscall *h, const char *data)
{
	size_t n = h->args.data_len;
	const char *nul = n != 0 ? memchr(data, '\0', n) : NULL;

	if (nul == NULL) {
		refuse(st, c->addr, "open", "the path is not NUL-terminated within data_len", -EINVAL);
		return -EINVAL;
	}
	if ((size_t)(nul - data) > RP_PATH_MAX) {
		refuse(st, c->addr, "open", "the path is longer than 1024 bytes", -ENAMETOOLONG);
		return -ENAMETOOLONG;
	}
	return rp_open(st, c, data, h->args.int_field1, h->args.int_field2);
}

/* Write all of buf to fd (a console may take it in pieces). */
static ssize_t write_all(int fd, const char *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return done != 0 ? (ssize_t)done : -errno;
		done += (size_t)w;
	}
	return (ssize_t)done;
}

/* WRITE: int_field2 bytes of data (data_len may add OpenAMP's NUL). */
static int do_write(struct rp_state *st, struct rp_client *c,
		    const struct rpmsg_rpc_syscall *h, const char *data)
{
	int32_t count = h->args.int_field2;
	int fd = rp_host_fd(st, c, h->args.int_field1);

	if (count < 0 || (uint32_t)count > h->args.data_len) {
		refuse(st, c->addr, "write", "the count is negative or beyond data_len", -EINVAL);
		return -EINVAL;
	}
	if (fd < 0 || h->args.int_field1 == 0)
		return -EBADF;
	return (int)write_all(fd, data, (size_t)count);
}

/* READ: at most int_field2 bytes, and what fits in the answer. */
static size_t do_read(struct rp_state *st, struct rp_client *c,
		      const struct rpmsg_rpc_syscall *h, char *ans, size_t room)
{
	int32_t count = h->args.int_field2;
	int fd = rp_host_fd(st, c, h->args.int_field1);
	ssize_t r;

	if (count < 0) {
		refuse(st, c->addr, "read", "the count is negative", -EINVAL);
		return answer(ans, READ_SYSCALL_ID, -EINVAL, 0);
	}
	if (fd < 0 || h->args.int_field1 == 1 || h->args.int_field1 == 2)
		return answer(ans, READ_SYSCALL_ID, -EBADF, 0);
	if ((size_t)count > room - HDR)
		count = (int32_t)(room - HDR);
	do
		r = read(fd, ans + HDR, (size_t)count);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return answer(ans, READ_SYSCALL_ID, -errno, 0);
	return answer(ans, READ_SYSCALL_ID, (int32_t)r, (uint32_t)r);
}

static size_t do_term(struct rp_state *st, struct rp_client *c)
{
	uint32_t addr = c->addr;
	unsigned n = rp_client_end(st, c);
	bool any = false;

	for (int i = 0; i < RP_MAX_CLIENTS; i++)
		any = any || st->cl[i].used;
	if (!st->quiet)
		fprintf(st->log, "xenamp-rpc-proxy: address %u ended its session (TERM), %u file%s closed\n",
			(unsigned)addr, n, n == 1 ? "" : "s");
	st->ended = !any;
	return 0;
}

size_t rp_handle(struct rp_state *st, uint32_t src, const void *msg,
		 size_t len, void *ans, size_t room)
{
	struct rpmsg_rpc_syscall h;
	struct rp_client *c;
	const char *data = (const char *)msg + HDR;

	if (len < HDR) {
		fprintf(st->log, "xenamp-rpc-proxy: address %u: message of %zu bytes dropped (a request starts with a %zu-byte header)\n",
			(unsigned)src, len, HDR);
		return 0;
	}
	memcpy(&h, msg, HDR);
	c = rp_client_get(st, src);
	if (c == NULL) {
		refuse(st, src, "request", "8 clients are served already", -EUSERS);
		return h.id == TERM_SYSCALL_ID ? 0 : answer(ans, h.id, -EUSERS, 0);
	}
	if (h.id != TERM_SYSCALL_ID && h.id != READ_SYSCALL_ID &&
	    h.id != CLOSE_SYSCALL_ID && h.args.data_len > len - HDR) {
		refuse(st, src, "request", "data_len is beyond the message", -EINVAL);
		return answer(ans, h.id, -EINVAL, 0);
	}
	switch (h.id) {
	case OPEN_SYSCALL_ID:
		return answer(ans, h.id, do_open(st, c, &h, data), 0);
	case CLOSE_SYSCALL_ID:
		return answer(ans, h.id, rp_close(st, c, h.args.int_field1), 0);
	case WRITE_SYSCALL_ID:
		return answer(ans, h.id, do_write(st, c, &h, data), 0);
	case READ_SYSCALL_ID:
		return do_read(st, c, &h, ans, room);
	case TERM_SYSCALL_ID:
		return do_term(st, c);
	default:
		fprintf(st->log, "xenamp-rpc-proxy: address %u: unknown request id %u (answered %d)\n",
			(unsigned)src, (unsigned)h.id, -ENOSYS);
		return answer(ans, h.id, -ENOSYS, 0);
	}
}
