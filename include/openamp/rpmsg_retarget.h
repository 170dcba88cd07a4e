/* OpenAMP compatibility: <openamp/rpmsg_retarget.h>, the proxy service.
 * The firmware's file I/O and console are served by a program on the
 * other partition (xenamp-rpc-proxy(1), or OpenAMP's rpc_demod): each
 * _open/_read/_write/_close is one request message and one answer.
 *
 * Wire format (OpenAMP's, host byte order, both sides little-endian on
 * every machine xenamp runs on): a request and an answer both start with
 * struct rpmsg_rpc_syscall (16 bytes, no padding); data follows it.
 *
 *   id      int_field1        int_field2      data_len   data
 *   OPEN    flags (Linux      mode            path bytes  path, NUL-terminated
 *           O_* values)                       with NUL
 *   CLOSE   fd                0               0           -
 *   WRITE   fd                count           count(+1)   count bytes (+ a NUL
 *                                                         for fd 1, as OpenAMP)
 *   READ    fd                count wanted    0           -
 *   TERM    -                 -               -           - (no answer)
 *
 * The answer repeats the id; int_field1 is the result (fd, bytes, 0) or a
 * negative value on failure (xenamp-rpc-proxy: -errno, Linux numbers);
 * a READ answer carries data_len bytes of data. A TERM from the serving
 * side destroys the firmware's endpoint.
 *
 * Semantics under xenamp (differences from OpenAMP's lib/proxy noted):
 * - rpmsg_rpc_init() creates the endpoint ept_name (announced) and runs
 *   poll(poll_arg) until the serving side has bound to it; it fails with
 *   poll's negative result when poll reports a lost link (OpenAMP would
 *   loop for ever). Without a poll function another thread must dispatch.
 * - rpmsg_rpc_send() sends one request; with resp it then runs poll until
 *   the answer (up to resp_len bytes are copied) and returns the answer's
 *   length; without resp it returns the bytes sent. Calls are serialised
 *   (one request in flight per rpc). It returns -EINVAL when the request
 *   cannot be sent, -EPIPE when the serving side went away (its endpoint
 *   was withdrawn, or it sent TERM) and poll's negative result when the
 *   link is lost. Do not call it from an endpoint callback: the answer
 *   could only arrive through the dispatch that is running it.
 * - _open/_read/_write/_close use the default rpc (rpmsg_set_default_rpc);
 *   they return -EINVAL without one. Newlib-based firmware reaches them
 *   through open()/read()/write()/close() and stdio, as with OpenAMP. In a
 *   Linux partition the C library does not route through them: call them
 *   by these names, declared below. With glibc, rpmsg_set_default_rpc()
 *   also points stdout (line-buffered) and stdin at the default rpc
 *   (fds 1 and 0 of the serving side), so printf() and scanf() go to the
 *   host as on newlib; stderr stays local. rpmsg_rpc_release() of the
 *   default rpc flushes stdout and restores both.
 * - _write() sends as many requests as the buffer size needs (OpenAMP:
 *   one, overflowing its buffer for long writes) and returns the bytes
 *   written, or the first failure when nothing was written. _read()
 *   asks for at most one buffer's worth (a short read, as POSIX allows)
 *   and never copies more than buflen, whatever the answer says.
 *   _open() refuses a path that does not fit one message (-ENAMETOOLONG).
 * - Answers are checked: shorter than the header, another id, or data
 *   beyond the message, and the call returns -EPROTO. */
#ifndef XENAMP_COMPAT_OPENAMP_RPMSG_RETARGET_H
#define XENAMP_COMPAT_OPENAMP_RPMSG_RETARGET_H

#include <metal/mutex.h>
#include <metal/spinlock.h>
#include <openamp/open_amp.h>
#include <stdatomic.h>
#include <stdint.h>

#if defined __cplusplus
extern "C" {
#endif

/* File operation ids (struct rpmsg_rpc_syscall.id). */
#define OPEN_SYSCALL_ID  0x1UL
#define CLOSE_SYSCALL_ID 0x2UL
#define WRITE_SYSCALL_ID 0x3UL
#define READ_SYSCALL_ID  0x4UL
#define ACK_STATUS_ID    0x5UL

#define TERM_SYSCALL_ID  0x6UL

#define DEFAULT_PROXY_ENDPOINT  0xFFUL

struct rpmsg_rpc_data;

typedef int (*rpmsg_rpc_poll)(void *arg);
typedef void (*rpmsg_rpc_shutdown_cb)(struct rpmsg_rpc_data *rpc);

struct rpmsg_rpc_syscall_header {
	int32_t int_field1;
	int32_t int_field2;
	uint32_t data_len;
};

struct rpmsg_rpc_syscall {
	uint32_t id;
	struct rpmsg_rpc_syscall_header args;
};

/* The application provides the storage; the fields are the library's
 * (OpenAMP's members, in OpenAMP's order). respbuf_len holds, once an
 * answer has arrived, the number of bytes copied into respbuf. */
struct rpmsg_rpc_data {
	struct rpmsg_endpoint ept;
	int ept_destroyed;
	atomic_flag nacked;
	void *respbuf;
	size_t respbuf_len;
	rpmsg_rpc_poll poll;
	void *poll_arg;
	rpmsg_rpc_shutdown_cb shutdown_cb;
	metal_mutex_t lock;
	struct metal_spinlock buflock;
};

/* 0, or -EINVAL (NULL rpc or rdev, the endpoint cannot be created), or
 * poll's negative result. shutdown_cb runs (in the dispatching thread)
 * when the serving side withdraws its endpoint or sends TERM. */
int rpmsg_rpc_init(struct rpmsg_rpc_data *rpc,
		   struct rpmsg_device *rdev,
		   const char *ept_name, uint32_t ept_addr,
		   uint32_t ept_raddr,
		   void *poll_arg, rpmsg_rpc_poll poll,
		   rpmsg_rpc_shutdown_cb shutdown_cb);

/* Destroy the endpoint (unless the serving side already ended it) and
 * forget the default rpc if it is this one. */
void rpmsg_rpc_release(struct rpmsg_rpc_data *rpc);

int rpmsg_rpc_send(struct rpmsg_rpc_data *rpc,
		   void *req, size_t len,
		   void *resp, size_t resp_len);

/* The rpc that _open/_read/_write/_close (and, with glibc, stdout and
 * stdin) use from now on. NULL is ignored, as in OpenAMP. */
void rpmsg_set_default_rpc(struct rpmsg_rpc_data *rpc);

/* The retargeted C library calls (newlib's syscall names). flags are
 * Linux O_* values, as the serving side expects them. */
int _open(const char *filename, int flags, int mode);
int _read(int fd, char *buffer, int buflen);
int _write(int fd, const char *ptr, int len);
int _close(int fd);

#if defined __cplusplus
}
#endif

#endif
