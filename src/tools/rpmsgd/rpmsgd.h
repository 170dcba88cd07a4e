/* xenamp-rpmsgd: Linux's rpmsg character devices and rpmsg TTYs, served
 * from user space over one xenamp RPMsg device (docs/man/xenamp-rpmsgd.8).
 *
 * Files: main.c (options, the event loop), cdev.c (one CUSE character
 * device = one libfuse session on its own /dev/cuse descriptor), ctrl.c
 * (/dev/rpmsg_ctrlN), eptdev.c (/dev/rpmsgM), tty.c (the rpmsg-tty
 * bridge), ns.c (the peer's services), abi.c and msgq.c (the pure parts).
 *
 * Threading: none. One event loop (main.c) polls the xenamp device's fd,
 * every CUSE session's fd and every pty master, and calls
 * xenamp_dispatch(dev, 0) and fuse_session_process_buf() itself, so every
 * libxenamp callback and every CUSE request runs in that one thread and
 * the structures below need no locks. Nothing in the loop blocks: a
 * blocking read(2) or write(2) of a client is a request the daemon keeps
 * and answers later (struct rd_pending), and sends use rpmsg_trysendto(). */
#ifndef XENAMP_RPMSGD_H
#define XENAMP_RPMSGD_H

#define FUSE_USE_VERSION 35
#include <fuse3/cuse_lowlevel.h>
#include <fuse3/fuse_lowlevel.h>

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <xenamp/xenamp.h>

#include "tools/rpmsgd/abi.h"
#include "tools/rpmsgd/msgq.h"

#define RD_PROG "xenamp-rpmsgd"

/* Exit status (docs/man/xenamp-rpmsgd.8, "EXIT STATUS"). */
enum {
	RD_EX_OK = 0,       /* stopped by SIGTERM or SIGINT */
	RD_EX_RUNTIME = 1,  /* the link was lost for good, or the loop failed */
	RD_EX_USAGE = 2,
	RD_EX_OPEN = 3,     /* the xenamp device could not be opened */
	RD_EX_NOCUSE = 4,   /* this kernel offers no CUSE (/dev/cuse) */
	RD_EX_CTRL = 5,     /* /dev/rpmsg_ctrlN could not be created */
};

/* A blocked write waits at most this long for a TX buffer, as the
 * kernel's virtio rpmsg bus does; then it fails with ETIMEDOUT. */
#define RD_WRITE_WAIT_MS 15000
/* While a write waits for a TX buffer, or a poll(2) waits for POLLOUT,
 * the loop looks again this often: libxenamp wakes a non-blocking
 * sender on nothing, so free TX buffers are found by looking. */
#define RD_RETRY_MS 2
#define RD_DEFAULT_QUEUE 256

/* One CUSE character device. */
struct rd_cdev {
	struct fuse_session *se;   /* NULL: none */
	struct fuse_buf buf;       /* libfuse's receive buffer, reused */
	int fd;                    /* the /dev/cuse descriptor (owned by se) */
	char name[40];             /* DEVNAME, e.g. rpmsg_ctrl0 */
};

/* A read(2) or write(2) that cannot be answered yet. */
struct rd_pending {
	struct rd_pending *next;
	fuse_req_t req;
	bool interrupted;          /* set by libfuse's interrupt callback */
	size_t size;               /* read: the caller's buffer; write: bytes */
	int64_t deadline_ms;       /* write: when it fails with ETIMEDOUT */
	unsigned char data[];      /* write: the message */
};

/* /dev/rpmsgM: one endpoint device (CREATE_EPT, or CREATE_DEV of
 * "rpmsg-raw"). */
struct rd_eptdev {
	struct rd_eptdev *next;
	struct rd_daemon *rd;
	struct rd_cdev cdev;
	unsigned index;            /* M */
	struct rd_chinfo chinfo;
	bool channel;              /* made by CREATE_DEV: its endpoint lives
				      as long as the device (the kernel's
				      default endpoint) */
	bool ept_live;             /* ept is registered with libxenamp */
	bool open;                 /* one opener at a time (EBUSY) */
	bool destroyed;            /* DESTROY_EPT / RELEASE_DEV: every
				      operation fails with EPIPE */
	bool reap;                 /* close the CUSE device after this turn */
	bool want_out;             /* a poll(2) waits for a free TX buffer */
	struct rpmsg_endpoint ept;
	struct rd_msgq q;
	struct rd_pending *reads, *writes;   /* FIFOs */
	struct fuse_pollhandle *ph;
};

/* A channel CREATE_DEV made with a name no driver here serves: recorded
 * (RELEASE_DEV finds it), no endpoint, as in a kernel without a driver
 * for that name. */
struct rd_channel {
	struct rd_channel *next;
	struct rd_chinfo chinfo;
};

/* A service the peer announced (name service), for the services file. */
struct rd_service {
	struct rd_service *next;
	char name[RD_NAME_SIZE];
	uint32_t addr;
};

/* The TTY bridge of one "rpmsg-tty" service of the peer. */
struct rd_tty {
	struct rd_tty *next;
	struct rd_daemon *rd;
	unsigned index;            /* ttyRPMSG<index> */
	uint32_t peer;             /* the service's address */
	struct rpmsg_endpoint ept;
	bool ept_live;
	int master, slave;         /* the daemon keeps the slave open, so the
				      master never sees a hang-up */
	char link[PATH_MAX];       /* <tty-dir>/ttyRPMSG<index> */
	char pts[64];              /* /dev/pts/N */
	size_t out_len;            /* bytes read from the pty, not sent yet */
	unsigned char *out;
	uint64_t msgs_in, msgs_out, bytes_dropped;
};

struct rd_daemon {
	struct xenamp_dev *dev;
	struct rpmsg_device *rdev;
	struct rd_cdev ctrl;
	unsigned ctrl_index;
	unsigned queue_max;
	const char *run_dir;
	const char *tty_dir;
	bool tty_enabled;
	int verbose;
	struct rd_eptdev *epts;
	struct rd_channel *channels;
	struct rd_service *services;
	struct rd_tty *ttys;
};

/* main.c */
void rd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rd_dbg(const struct rd_daemon *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int64_t rd_now_ms(void);

/* cdev.c */
/* 0 when /dev/cuse can be opened; else -errno and one line in why. */
int rd_cuse_available(char *why, size_t len);
/* Whether /dev/NAME or a CUSE device NAME exists (another daemon's). */
bool rd_devname_taken(const char *name);
/* Create character device /dev/NAME served by ops with userdata priv, and
 * answer its CUSE_INIT, so that the node exists on return. 0 or -errno. */
int rd_cdev_create(struct rd_cdev *c, const char *name,
		   const struct cuse_lowlevel_ops *ops, void *priv);
/* Read and process one request. 0, or -1 when the session has ended. */
int rd_cdev_process(struct rd_cdev *c);
/* Close the device (the node goes away); c may be unused. */
void rd_cdev_destroy(struct rd_cdev *c);
/* Register req's interrupt with p (read/write requests the daemon keeps). */
void rd_pending_watch(struct rd_pending *p);

/* ctrl.c */
int rd_ctrl_create(struct rd_daemon *rd);

/* eptdev.c */
int rd_eptdev_create(struct rd_daemon *rd, const struct rd_chinfo *ci,
		     bool channel);
/* The endpoint goes away (DESTROY_EPT, RELEASE_DEV, shutdown): pending
 * requests fail with EPIPE; the device node stays until it is closed. */
void rd_eptdev_kill(struct rd_eptdev *ep);
/* One loop turn's work for every endpoint device: blocked writes, POLLOUT
 * waiters, interrupted requests, devices to close. Returns the poll
 * timeout the loop needs (RD_RETRY_MS, or -1). */
int rd_epts_service(struct rd_daemon *rd);
void rd_epts_shutdown(struct rd_daemon *rd);

/* tty.c */
void rd_tty_add(struct rd_daemon *rd, uint32_t peer);
void rd_tty_remove(struct rd_daemon *rd, uint32_t peer);
void rd_tty_readable(struct rd_tty *t);
int rd_ttys_service(struct rd_daemon *rd);
void rd_ttys_shutdown(struct rd_daemon *rd);

/* ns.c */
void rd_ns_init(struct rd_daemon *rd, struct xenamp_opts *opts);
void rd_ns_attach(struct rd_daemon *rd);
void rd_ns_shutdown(struct rd_daemon *rd);

#endif
