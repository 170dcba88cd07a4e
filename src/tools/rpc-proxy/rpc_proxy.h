/* xenamp-rpc-proxy: the host side of OpenAMP's proxy service
 * (docs/man/xenamp-rpc-proxy.1; the wire format is in
 * <openamp/rpmsg_retarget.h>). A partition's _open/_read/_write/_close
 * become file operations under one root directory of this host.
 *
 * Files: main.c (options, the device, the dispatch loop), serve.c (one
 * request in, one answer out: no RPMsg calls, so tests feed it
 * directly), files.c (the per-client fd tables and the root-confined
 * open).
 *
 * Every request is hostile: its length, data_len, counts, fds, flags and
 * path are checked against the message and the policy before use, and a
 * refusal is answered with a negative errno and one line on the log. */
#ifndef XA_RPC_PROXY_H
#define XA_RPC_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Clients (source addresses) served at once, and files each may hold. */
#define RP_MAX_CLIENTS 8
#define RP_MAX_FILES   32
/* Partition-visible fds: 0, 1, 2 are this program's stdin, stdout and
 * stderr; files are RP_FIRST_FD up. */
#define RP_FIRST_FD    3
/* Longest path accepted (bytes before the NUL). */
#define RP_PATH_MAX    1024

struct rp_client {
	bool used;
	uint32_t addr;
	int fd[RP_MAX_FILES];          /* host fds, -1 when free */
};

struct rp_state {
	int rootfd;                    /* O_PATH directory: every open is beneath it */
	const char *root;              /* its name, for messages */
	int std_fd[3];                 /* what fds 0, 1, 2 of the partition reach */
	FILE *log;                     /* one line per refusal or event */
	bool quiet;                    /* no event lines (refusals still) */
	unsigned sessions;             /* clients that ever sent a request */
	bool ended;                    /* the last client sent TERM */
	struct rp_client cl[RP_MAX_CLIENTS];
};

/* files.c */
/* 0, or -errno with a line on stderr (the root cannot be opened). */
int rp_init(struct rp_state *st, const char *root);
void rp_fini(struct rp_state *st);
/* The client of address src, taken on first use; NULL when the table is
 * full. */
struct rp_client *rp_client_get(struct rp_state *st, uint32_t src);
/* Close a client's files and forget it; the number closed. */
unsigned rp_client_end(struct rp_state *st, struct rp_client *c);
/* Open path (NUL-terminated, already bounded) for client c with wire
 * flags and mode: the partition-visible fd, or -errno. */
int rp_open(struct rp_state *st, struct rp_client *c, const char *path,
	    int32_t wflags, int32_t mode);
/* The host fd behind partition fd pfd, or -1. */
int rp_host_fd(const struct rp_state *st, const struct rp_client *c, int32_t pfd);
/* Close partition fd pfd: 0 or -EBADF. fds 0..2 are not closed (0). */
int rp_close(struct rp_state *st, struct rp_client *c, int32_t pfd);

/* serve.c */
/* Handle one message of len bytes from src; write the answer into ans
 * (room bytes, at least 16) and return its length, or 0 for no answer. */
size_t rp_handle(struct rp_state *st, uint32_t src, const void *msg,
		 size_t len, void *ans, size_t room);
/* A printable copy of at most n bytes of s (others as '?'), for logs. */
const char *rp_printable(const char *s, size_t n, char *buf, size_t bufsz);

#endif
