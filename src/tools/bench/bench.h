/* xenamp-bench: what xenamp costs, measured against a raw baseline in the
 * same run (docs/design.md "Tests"). docs/performance.md ("How it is
 * measured") describes the method and holds the results and the targets;
 * this header is the internal contract between the program's files.
 *
 * xenamp side: local mode through a real xenamp-backend process, as users
 * run it. The program writes a configuration into a private directory,
 * starts the backend on a private socket, and for every measurement forks
 * the partitions as separate processes; each opens its own xenamp device
 * (libxenamp, the public API only), so every message goes
 * partition -> backend (relay) -> partition.
 *
 * Raw baseline: two processes sharing a memfd that holds single-producer
 * single-consumer rings of fixed-size slots (slot size and count equal to
 * the link's buf-size and buf-count), one eventfd per process to wake it.
 * A process that finds its ring empty (or full) raises its "waiting" flag,
 * looks again and blocks in read() on its eventfd; the other side writes
 * that eventfd only when the flag is up (the same notification suppression
 * the virtio rings use). No backend, no copy other than into the slot.
 *
 * Measurements (each one for xenamp and for raw, interleaved):
 *   - round-trip latency, 32 and 496 bytes: median, p99, mean;
 *   - one-way throughput, 496 bytes (buf-size 512) and 65520 bytes
 *     (buf-size 65536), with 1, 4, 16, 64 links at once (one sender and
 *     one receiver process per link): aggregate messages/s and MB/s
 *     (10^6 payload bytes), and CPU time per message: the partitions'
 *     getrusage(RUSAGE_SELF, all threads) over the measured phase plus the
 *     backend's utime+stime from /proc/PID/stat over the same phase;
 *   - idle cost: CPU used over --seconds by the backend and two connected
 *     partitions sitting in their event loop (/proc/PID/stat utime+stime);
 *   - with every timed measurement, the costs that do not depend on the
 *     machine's load (counters.c): notifications per message (xenamp:
 *     the partitions' kicks and the backend's calls; raw: eventfd
 *     writes) and system calls per message of the sender, the receiver
 *     and the backend.
 *
 * Synchronisation with the children is through pipes: each child writes
 * one byte when it is set up, the parent closes the "go" pipe (everybody
 * reads EOF at once), each child writes a fixed-size result record
 * (atomic: smaller than PIPE_BUF), and waits for the parent to close the
 * "quit" pipe before it tears down, so tear-down never counts.
 *
 * Files, by concern:
 *   main.c     options, the order of the steps, the exit status
 *   plan.c     which measurements run, xenamp then raw, and their rows
 *   run.c      one measurement: fork the children, go, collect, combine
 *   backend.c  finding, configuring, starting and stopping xenamp-backend
 *   child.c    the child side of the pipe protocol, payload sequence
 *              numbers, latency statistics, CPU clocks
 *   roles.c    the xenamp children (sender, receiver, echo, idle) through
 *              libxenamp's public API
 *   raw.c      the raw memfd-ring + eventfd baseline and its children
 *   report.c   derived figures, targets, the table and --json
 *   counters.c system-call counters (perf tracepoint) and the backend's
 *              notification counters (its control socket)
 *   scale.c    --scale: the backend's own cost per link, one process on
 *              each side opening 1..256 devices (links), and idle links */
#ifndef XENAMP_TOOLS_BENCH_H
#define XENAMP_TOOLS_BENCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define EX_OK 0
#define EX_FAIL 1      /* a measurement failed or lost messages */
#define EX_USAGE 2

#define HDR 16u                   /* RPMsg header; raw slots keep it too */
#define SMALL_BUF 512u            /* 496-byte payload */
#define SMALL_COUNT 256u          /* the configuration default */
#define BIG_BUF 65536u            /* the largest buf-size: 65520 payload */
#define BIG_COUNT 32u             /* 2 MiB in flight each way */
#define EPT_ADDR 1024u            /* fixed endpoint on both sides: no NS */
#define MAX_LINKS 256u
#define MAX_LINK_COUNTS 8u
#define STALL_S 30                /* no progress for this long: failure */
#define DEFAULT_MESSAGES 1000000ul
#define ONLY_LATENCY 1u
#define ONLY_ONEWAY 2u
#define ONLY_BIG 4u
#define ONLY_IDLE 8u
#define QUICK_MESSAGES 2000ul
/* --scale: links of SCALE_BUF x SCALE_COUNT, one device each per side. */
#define SCALE_BUF 512u
#define SCALE_COUNT 64u
#define MAX_IDLE_LINKS 4096u
#define DEFAULT_IDLE_LINKS 1024u
#define QUICK_IDLE_LINKS 64u

/* ------------------------------------------------------------------ */
/* Options and global state: set by main.c before the first measurement,
 * read-only afterwards except backend_pid (backend.c) and keep (main.c,
 * on failure). Children inherit a copy through fork(). */

struct bench {
	bool quick, json, keep, verbose;
	unsigned only;               /* ONLY_* bits; 0: everything */
	unsigned long messages;
	unsigned links[MAX_LINK_COUNTS];
	unsigned nlinks;
	double idle_s;
	const char *backend_opt;
	char backend[PATH_MAX];
	char dir[96];
	char sock[128];
	char conf[PATH_MAX];
	char log[PATH_MAX];
	pid_t backend_pid;
	unsigned max_links;
	long clk_tck;
	int poll_us;                 /* xenamp_opts.poll_us of the partitions */
	bool scale;                  /* --scale: scale.c instead of the plan */
	bool links_given;
	unsigned idle_links;         /* --scale: links of the idle measurement */
};

extern struct bench B;

/* Progress to stderr with --verbose (stdout carries the table or JSON). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------ */
/* Clocks (child.c)                                                    */

uint64_t now_ns(void);                 /* CLOCK_MONOTONIC */
uint64_t self_cpu_ns(void);            /* this process, all threads */
long long proc_ticks(pid_t pid);       /* utime+stime of PID, or -1 */
/* CPU time of PID's main thread in ns (/proc/PID/schedstat, exact), or
 * -1; the backend's event loop is its only thread in the bench. */
long long proc_run_ns(pid_t pid);
uint64_t ticks_ns(long long t);        /* clock ticks to ns; <= 0 -> 0 */

/* ------------------------------------------------------------------ */
/* Child <-> parent protocol                                           */

enum sys { SYS_XENAMP = 0, SYS_RAW = 1 };
enum kind { K_PINGPONG, K_ONEWAY, K_IDLE };

/* A child's result record: written once, whole, to the result pipe. */
struct child_res {
	uint32_t link, role;
	int32_t status;             /* 0 or the failure */
	uint32_t pad;
	uint64_t done;              /* messages sent / received / echoed */
	uint64_t bad;               /* out of order or of the wrong size */
	uint64_t t_start, t_end;    /* CLOCK_MONOTONIC ns */
	uint64_t cpu_ns;            /* own CPU over the measured phase */
	uint64_t lat_med, lat_p99, lat_mean;   /* ns (ping-pong client) */
	/* Over the measured phase: messages (or round trips) it covered,
	 * notifications this process sent (xenamp: kicks; raw: eventfd
	 * writes), wake-ups by the backend's calls it consumed (xenamp),
	 * its own system calls (valid only when sc_ok). */
	uint64_t phase_msgs;
	uint64_t kicks, calls, syscalls;
	int32_t sc_ok;
	uint32_t pad2;
	char err[200];
};

/* The four pipes of one measurement; [0] read end, [1] write end. */
struct sync {
	int ready[2], go[2], quit[2], res[2];
};

/* What one child does. */
struct role {
	enum sys sys;
	enum kind kind;
	unsigned link;
	unsigned role;              /* 0: sender / client, 1: receiver / server */
	char name[32];              /* partition (xenamp) */
	uint32_t payload;
	uint32_t buf_size, buf_count;
	uint64_t count;             /* messages or measured round trips */
	unsigned ndev;              /* >0: opens devices 0..ndev-1 (scale.c) */
	unsigned active;            /* scale.c: sends on devices 0..active-1 */
	uint64_t warmup;            /* round trips not measured */
	/* raw */
	uint8_t *shm;
	size_t shm_size;
	int efd[2];
};

extern struct sync S;          /* the parent's and each child's ends */
extern struct child_res R_out; /* in a child: its own result */

void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void write_all(int fd, const void *p, size_t n);
void child_ready(void);
void wait_eof(int fd);          /* until the parent closes the pipe */
void child_report(void);
/* Start the measured phase: wait for "go", then take the clocks. */
void child_go(void);
/* End it: CPU used since child_go(), report, wait for "quit". */
void child_finish(void);

/* The first 8 bytes of every payload carry its sequence number. */
void put_seq(uint8_t *p, uint64_t seq);
uint64_t get_seq(const uint8_t *p);
/* Sort s[0..n) and put median, p99, mean into R_out. */
void latency_stats(uint64_t *s, uint64_t n);

/* The children: run role r, fill R_out, report. (roles.c, raw.c) */
void xa_child(const struct role *r);
void raw_child(const struct role *r);
void xa_multi_child(const struct role *r);   /* r->ndev devices (scale.c) */

/* Raw shared memory of one link (raw.c). */
size_t raw_shm_size(uint32_t buf_size, uint32_t buf_count);

/* ------------------------------------------------------------------ */
/* Counters (counters.c)                                               */

/* Can this process count system calls with perf? Probed once, in main. */
bool sc_probe(void);
/* How system calls are counted, for the report. */
const char *sc_source(void);
/* Start counting the system calls of thread tid (0: the caller): an fd,
 * or -1 when counting is unavailable. */
int sc_start(pid_t tid);
/* Stop, close, and set *count; false when it could not be read. */
bool sc_stop(int fd, uint64_t *count);
/* The backend's notification counters summed over all ends: kicks taken
 * and calls sent. false when the control request failed. */
bool backend_notify_counts(uint64_t *kicks, uint64_t *calls);
/* Ends in state Connected whose partition name starts with prefix;
 * -1 when the status request failed. */
int backend_connected_ends(const char *prefix);

/* ------------------------------------------------------------------ */
/* One measurement (run.c)                                             */

struct run {
	enum sys sys;
	enum kind kind;
	unsigned links;
	uint32_t payload, buf_size, buf_count;
	uint64_t per_link;          /* messages (one-way) or round trips */
	uint64_t warmup;
	char link_prefix;           /* 'm' small, 'g' big, 'c' scale links */
	unsigned ndev;              /* >0: one pair of processes, each opening
				     * devices 0..ndev-1 (scale.c) */
	unsigned active;            /* of which the first this many carry
				     * the messages (0: all) */
};

struct outcome {
	bool ok;
	bool skipped;               /* not run (--only) */
	char err[256];
	uint64_t sent, received, bad;
	uint64_t t0, t1;
	uint64_t cpu_part_ns, cpu_be_ns;
	double med_us, p99_us, mean_us;
	double idle_be_ms, idle_part_ms;
	/* Counted (counters.c): messages the counts cover, notifications
	 * sent by the partitions and by the backend, system calls by role
	 * (0 sender or client, 1 receiver or server, 2 backend). */
	uint64_t phase_msgs;
	uint64_t kicks_part, calls_be;
	bool calls_ok;              /* the backend's counters were read */
	uint64_t sc[3];
	bool sc_ok[3];
	/* ndev > 0: the backend's exact CPU over the phase, its memory
	 * before the partitions opened their devices and once all were
	 * connected (KiB), and the ends the backend listed as Connected. */
	uint64_t run_be_ns;
	bool run_be_ok;
	long long rss0, rss1, pss0, pss1;
	unsigned connected;
};

void fail(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void close_pair(int p[2]);
void run_one(const struct run *rn, struct outcome *o);

/* ------------------------------------------------------------------ */
/* The backend (backend.c)                                             */

bool find_backend(void);
int start_backend(void);
bool stop_backend(void);        /* true: it stopped with status 0 */
bool backend_alive(void);
void remove_dir(void);

/* ------------------------------------------------------------------ */
/* The plan (plan.c) and the report (report.c)                         */

struct lat_row {
	uint32_t payload;
	uint64_t n;
	struct outcome x, r;
};

struct tp_row {
	uint32_t payload, buf_size, buf_count;
	unsigned links;
	uint64_t total;
	struct outcome x, r;
};

#define NTARGETS 5

struct target {
	const char *name, *what, *goal;
	double value;
	bool met;
	bool known;
};

struct results {
	uint64_t n_rt;              /* measured round trips per payload */
	struct lat_row lat[2];      /* 32 B, 496 B */
	struct tp_row *tp;          /* 496 B rows, then 65520 B rows */
	unsigned ntp;
	struct outcome idle_x, idle_r;
	struct target tg[NTARGETS];
	bool all_ok;
};

/* Run every measurement --only allows; -1 when out of memory. */
int plan_run(struct results *res);
/* List failed measurements on stderr; false if any failed. */
bool report_failures(const struct results *res);
void compute_targets(struct results *res);
void print_json(const struct results *res);
void print_text(const struct results *res);

/* --scale (scale.c): run it and print; the exit status. */
int scale_main(void);
/* The backend's memory in KiB (VmRSS, and Pss from smaps_rollup), -1
 * when unknown. */
void backend_mem(long long *rss_kib, long long *pss_kib);

#endif
