/* libxenamp-openamp: OpenAMP's proxy service, the firmware side
 * (<openamp/rpmsg_retarget.h>: the contract and the wire format are
 * there). One request in flight per rpc: rpc->lock serialises callers,
 * the endpoint callback (dispatching thread) hands the answer over
 * through respbuf under buflock and then clears nacked.
 *
 * Invariant: respbuf is non-NULL only while a caller of rpmsg_rpc_send()
 * waits for an answer; the callback copies into it only then, and never
 * more than respbuf_len bytes. */
#define _GNU_SOURCE
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <metal/utilities.h>
#include <openamp/rpmsg_retarget.h>

/* Largest request or answer built on the stack: the payload of a
 * 4096-byte buffer. Links with larger buffers still work, in pieces. */
#define XA_RPC_MAX_MSG 4080u
#define XA_RPC_HDR     sizeof(struct rpmsg_rpc_syscall)

static struct rpmsg_rpc_data *_Atomic g_default_rpc;

static int rpc_ept_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		      uint32_t src, void *priv)
{
	struct rpmsg_rpc_data *rpc =
		metal_container_of(ept, struct rpmsg_rpc_data, ept);
	uint32_t id;

	(void)src;
	(void)priv;
	if (len < sizeof(id))
		return RPMSG_SUCCESS;
	memcpy(&id, data, sizeof(id));
	if (id == TERM_SYSCALL_ID) {
		/* The serving side ends the session: as a withdrawal. */
		rpc->ept_destroyed = 1;
		rpmsg_destroy_ept(ept);
		atomic_flag_clear(&rpc->nacked);
		if (rpc->shutdown_cb)
			rpc->shutdown_cb(rpc);
		return RPMSG_SUCCESS;
	}
	metal_spinlock_acquire(&rpc->buflock);
	if (rpc->respbuf != NULL) {
		if (len > rpc->respbuf_len)
			len = rpc->respbuf_len;
		memcpy(rpc->respbuf, data, len);
		rpc->respbuf_len = len;
		rpc->respbuf = NULL;
		atomic_flag_clear(&rpc->nacked);
	}
	metal_spinlock_release(&rpc->buflock);
	return RPMSG_SUCCESS;
}

static void rpc_unbind(struct rpmsg_endpoint *ept)
{
	struct rpmsg_rpc_data *rpc =
		metal_container_of(ept, struct rpmsg_rpc_data, ept);

	rpc->ept_destroyed = 1;
	rpmsg_destroy_ept(ept);
	atomic_flag_clear(&rpc->nacked);
	if (rpc->shutdown_cb)
		rpc->shutdown_cb(rpc);
}

/* One poll step while waiting: the application's poll, or a yield while
 * another thread dispatches. Negative: the link is lost. */
static int rpc_poll_once(struct rpmsg_rpc_data *rpc)
{
	if (rpc->poll == NULL) {
		(void)sched_yield();
		return 0;
	}
	return rpc->poll(rpc->poll_arg) < 0 ? RPMSG_ERR_DEV_STATE : 0;
}

int rpmsg_rpc_init(struct rpmsg_rpc_data *rpc, struct rpmsg_device *rdev,
		   const char *ept_name, uint32_t ept_addr, uint32_t ept_raddr,
		   void *poll_arg, rpmsg_rpc_poll poll,
		   rpmsg_rpc_shutdown_cb shutdown_cb)
{
	if (rpc == NULL || rdev == NULL)
		return -EINVAL;
	memset(&rpc->ept, 0, sizeof(rpc->ept));
	metal_spinlock_init(&rpc->buflock);
	metal_mutex_init(&rpc->lock);
	rpc->shutdown_cb = shutdown_cb;
	rpc->poll_arg = poll_arg;
	rpc->poll = poll;
	rpc->ept_destroyed = 0;
	rpc->respbuf = NULL;
	rpc->respbuf_len = 0;
	atomic_flag_test_and_set(&rpc->nacked);
	if (rpmsg_create_ept(&rpc->ept, rdev, ept_name, ept_addr, ept_raddr,
			     rpc_ept_cb, rpc_unbind) != 0) {
		metal_mutex_deinit(&rpc->lock);
		return -EINVAL;
	}
	while (!is_rpmsg_ept_ready(&rpc->ept)) {
		int r = rpc_poll_once(rpc);

		if (r < 0) {
			rpmsg_destroy_ept(&rpc->ept);
			metal_mutex_deinit(&rpc->lock);
			return r;
		}
	}
	return 0;
}

static void stdio_restore(void);

void rpmsg_rpc_release(struct rpmsg_rpc_data *rpc)
{
	struct rpmsg_rpc_data *expected = rpc;

	if (rpc == NULL)
		return;
	if (atomic_load(&g_default_rpc) == rpc) {
		stdio_restore();
		(void)atomic_compare_exchange_strong(&g_default_rpc, &expected, NULL);
	}
	if (rpc->ept_destroyed == 0)
		rpmsg_destroy_ept(&rpc->ept);
	metal_mutex_acquire(&rpc->lock);
	metal_spinlock_acquire(&rpc->buflock);
	rpc->respbuf = NULL;
	rpc->respbuf_len = 0;
	metal_spinlock_release(&rpc->buflock);
	metal_mutex_release(&rpc->lock);
	metal_mutex_deinit(&rpc->lock);
}

/* Wait until the callback took an answer (clearing nacked) or the
 * serving side went away. Answer length, -EPIPE or the poll failure. */
static int rpc_wait_answer(struct rpmsg_rpc_data *rpc)
{
	int r = 0;

	while (atomic_flag_test_and_set(&rpc->nacked)) {
		if (rpc->ept_destroyed)
			break;
		r = rpc_poll_once(rpc);
		if (r < 0)
			break;
	}
	metal_spinlock_acquire(&rpc->buflock);
	if (rpc->respbuf == NULL && r == 0)
		r = (int)rpc->respbuf_len;      /* the callback delivered */
	else if (r == 0)
		r = -EPIPE;
	rpc->respbuf = NULL;
	metal_spinlock_release(&rpc->buflock);
	return r;
}

int rpmsg_rpc_send(struct rpmsg_rpc_data *rpc, void *req, size_t len,
		   void *resp, size_t resp_len)
{
	int r;

	if (rpc == NULL || req == NULL || len > INT_MAX)
		return -EINVAL;
	if (rpc->ept_destroyed)
		return -EPIPE;
	metal_mutex_acquire(&rpc->lock);
	metal_spinlock_acquire(&rpc->buflock);
	rpc->respbuf = resp_len != 0 ? resp : NULL;
	rpc->respbuf_len = resp_len;
	metal_spinlock_release(&rpc->buflock);
	(void)atomic_flag_test_and_set(&rpc->nacked);
	r = rpmsg_send(&rpc->ept, req, (int)len);
	if (r < 0)
		r = -EINVAL;
	else if (resp != NULL && resp_len != 0)
		r = rpc_wait_answer(rpc);
	metal_spinlock_acquire(&rpc->buflock);
	rpc->respbuf = NULL;
	metal_spinlock_release(&rpc->buflock);
	metal_mutex_release(&rpc->lock);
	return r;
}

/* ------------------------------------------------------------------ */
/* The retargeted calls                                                 */

/* Largest data part of a message on this rpc's link. */
static size_t rpc_data_room(struct rpmsg_rpc_data *rpc)
{
	int payload = rpmsg_get_tx_buffer_size(&rpc->ept);

	if (payload <= (int)XA_RPC_HDR)
		return 0;
	return metal_min((size_t)payload, (size_t)XA_RPC_MAX_MSG) - XA_RPC_HDR;
}

/* Send the request hdr + data, wait for the answer into ans (room bytes)
 * and check it: the same id, at least a header. The answer's length, or
 * a negative errno. */
static int rpc_call(struct rpmsg_rpc_data *rpc, const struct rpmsg_rpc_syscall *hdr,
		    const void *data, size_t dlen, void *ans, size_t room)
{
	unsigned char req[XA_RPC_MAX_MSG];
	struct rpmsg_rpc_syscall a;
	int r;

	if (XA_RPC_HDR + dlen > sizeof(req))
		return -EINVAL;
	memcpy(req, hdr, XA_RPC_HDR);
	if (dlen != 0)
		memcpy(req + XA_RPC_HDR, data, dlen);
	r = rpmsg_rpc_send(rpc, req, XA_RPC_HDR + dlen, ans, room);
	if (r < 0)
		return r;
	if ((size_t)r < XA_RPC_HDR)
		return -EPROTO;
	memcpy(&a, ans, XA_RPC_HDR);
	return a.id == hdr->id ? r : -EPROTO;
}

/* One request without data, whose answer is only int_field1. */
static int rpc_simple(uint32_t id, int32_t f1, int32_t f2, const void *data,
		      uint32_t dlen)
{
	struct rpmsg_rpc_data *rpc = atomic_load(&g_default_rpc);
	struct rpmsg_rpc_syscall hdr = { id, { f1, f2, dlen } };
	struct rpmsg_rpc_syscall ans;
	int r;

	if (rpc == NULL)
		return -EINVAL;
	r = rpc_call(rpc, &hdr, data, dlen, &ans, sizeof(ans));
	return r < 0 ? r : ans.args.int_field1;
}

int _open(const char *filename, int flags, int mode)
{
	struct rpmsg_rpc_data *rpc = atomic_load(&g_default_rpc);
	size_t n;

	if (filename == NULL || rpc == NULL)
		return -EINVAL;
	n = strlen(filename) + 1;
	if (n > rpc_data_room(rpc))
		return -ENAMETOOLONG;
	return rpc_simple(OPEN_SYSCALL_ID, flags, mode, filename, (uint32_t)n);
}

int _close(int fd)
{
	return rpc_simple(CLOSE_SYSCALL_ID, fd, 0, NULL, 0);
}

/* One WRITE of n bytes (n fits a message); bytes written or negative. */
static int write_piece(struct rpmsg_rpc_data *rpc, int fd, const char *ptr,
		       size_t n)
{
	unsigned char data[XA_RPC_MAX_MSG];
	/* OpenAMP sends console text NUL-terminated; hosts may rely on it. */
	size_t nul = fd == 1 ? 1 : 0;
	struct rpmsg_rpc_syscall hdr = { WRITE_SYSCALL_ID,
		{ fd, (int32_t)n, (uint32_t)(n + nul) } };
	struct rpmsg_rpc_syscall ans;
	int r;

	memcpy(data, ptr, n);
	if (nul)
		data[n] = '\0';
	r = rpc_call(rpc, &hdr, data, n + nul, &ans, sizeof(ans));
	if (r < 0)
		return r;
	/* More than asked for is a lie: take it as an error. */
	return ans.args.int_field1 > (int32_t)n ? -EPROTO : ans.args.int_field1;
}

int _write(int fd, const char *ptr, int len)
{
	struct rpmsg_rpc_data *rpc = atomic_load(&g_default_rpc);
	size_t room, done = 0;

	if (rpc == NULL || len < 0 || (ptr == NULL && len > 0))
		return -EINVAL;
	room = rpc_data_room(rpc);
	if (room < 2)
		return -EINVAL;
	room--;                                 /* for fd 1's NUL */
	do {
		size_t n = metal_min((size_t)len - done, room);
		int r = write_piece(rpc, fd, ptr + done, n);

		if (r < 0)
			return done != 0 ? (int)done : r;
		done += (size_t)r;
		if ((size_t)r < n)
			break;                  /* short write: report it */
	} while (done < (size_t)len);
	return (int)done;
}

int _read(int fd, char *buffer, int buflen)
{
	struct rpmsg_rpc_data *rpc = atomic_load(&g_default_rpc);
	unsigned char ans[XA_RPC_MAX_MSG];
	struct rpmsg_rpc_syscall hdr = { READ_SYSCALL_ID, { fd, 0, 0 } };
	struct rpmsg_rpc_syscall a;
	size_t want, got;
	int r;

	if (rpc == NULL || buffer == NULL || buflen <= 0)
		return -EINVAL;
	want = metal_min((size_t)buflen, rpc_data_room(rpc));
	hdr.args.int_field2 = (int32_t)want;
	r = rpc_call(rpc, &hdr, NULL, 0, ans, sizeof(ans));
	if (r < 0)
		return r;
	memcpy(&a, ans, XA_RPC_HDR);
	if (a.args.int_field1 <= 0)
		return a.args.int_field1;
	got = (size_t)a.args.int_field1;
	/* Hostile answer: claims more than it carries. */
	if (a.args.data_len < got || XA_RPC_HDR + got > (size_t)r)
		return -EPROTO;
	/* OpenAMP's rpc_demod answers a console read with up to its own
	 * buffer, whatever was asked: keep what fits, as OpenAMP does. */
	got = metal_min(got, want);
	memcpy(buffer, ans + XA_RPC_HDR, got);
	return (int)got;
}

/* ------------------------------------------------------------------ */
/* stdio through the default rpc (glibc: stdout and stdin are writable  */
/* variables; elsewhere only the _calls are retargeted)                 */

#ifdef __GLIBC__
static FILE *g_saved_out, *g_saved_in, *g_rpc_out, *g_rpc_in;

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
	int r;

	(void)c;
	r = _write(1, buf, n > INT_MAX ? INT_MAX : (int)n);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

static ssize_t cookie_read(void *c, char *buf, size_t n)
{
	int r;

	(void)c;
	r = _read(0, buf, n > INT_MAX ? INT_MAX : (int)n);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

static void stdio_redirect(void)
{
	cookie_io_functions_t out = { .write = cookie_write };
	cookie_io_functions_t in = { .read = cookie_read };

	if (g_rpc_out != NULL)
		return;                         /* already: the rpc is looked up per call */
	g_rpc_out = fopencookie(NULL, "w", out);
	g_rpc_in = fopencookie(NULL, "r", in);
	if (g_rpc_out == NULL || g_rpc_in == NULL) {
		if (g_rpc_out)
			fclose(g_rpc_out);
		if (g_rpc_in)
			fclose(g_rpc_in);
		g_rpc_out = g_rpc_in = NULL;
		return;
	}
	setvbuf(g_rpc_out, NULL, _IOLBF, 0);
	fflush(stdout);
	g_saved_out = stdout;
	g_saved_in = stdin;
	stdout = g_rpc_out;
	stdin = g_rpc_in;
}

static void stdio_restore(void)
{
	if (g_rpc_out == NULL)
		return;
	fflush(g_rpc_out);
	stdout = g_saved_out;
	stdin = g_saved_in;
	fclose(g_rpc_out);
	fclose(g_rpc_in);
	g_rpc_out = g_rpc_in = NULL;
}
#else
static void stdio_redirect(void)
{
}

static void stdio_restore(void)
{
}
#endif

void rpmsg_set_default_rpc(struct rpmsg_rpc_data *rpc)
{
	if (rpc == NULL)
		return;
	atomic_store(&g_default_rpc, rpc);
	stdio_redirect();
}
