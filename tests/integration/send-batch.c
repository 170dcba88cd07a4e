/* send-batch: xenamp_send_batch() from the outside (send-batch.sh).
 *
 * A receiver process (partition fw, devices 0 and 1) records every
 * message it is handed, in order, in memory shared with the sender (this
 * process, partition host). Link 0 has 16 buffers each way, link 1 has
 * 128; the payload maximum is 496 bytes (buf-size 512). Checks:
 *   - a batch of 10 messages of 1..496 bytes: returns 10, the receiver
 *     gets those 10 bytes for bytes, in order; with the backend asleep
 *     (XENAMP_POLL_US=0 in its environment) each batch costs exactly one
 *     kick (xenamp_get_stats), 10 single rpmsg_send() calls at least one;
 *   - more messages than free TX buffers (receiver paused, 16 free):
 *     returns 16, exactly the first 16 are delivered; sending the rest
 *     again delivers all of them, in order, each once;
 *   - more than 64 (link 1, 128 free): returns 64;
 *   - a buffer longer than the payload maximum: sent, truncated to 496
 *     bytes (as rpmsg_send);
 *   - n = 0, a NULL buffer, a negative length (with valid ones around it),
 *     an endpoint without a destination: RPMSG_ERR_PARAM, nothing sent.
 * Prints PASS:/FAIL: lines; exit status 0 when all passed. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenamp/rpmsg.h>
#include <xenamp/xenamp.h>

#define EPT 1024u
#define PMAX 496
#define MAXREC 4096

struct rec {
	uint32_t dev, len, sum;
};

/* Shared with the receiver: what it got, and whether it may dispatch. */
struct shared {
	int pause;
	int ready;
	int stop;
	unsigned n;
	struct rec r[MAXREC];
};

static struct shared *SH;
static int failures;

static uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void check(bool ok, const char *what)
{
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
	failures += !ok;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int open_dev(const char *part, unsigned devno, struct xenamp_dev **d,
		    struct rpmsg_endpoint *e, rpmsg_ept_cb cb, uint32_t dst)
{
	if (xenamp_open(part, devno, NULL, d) != 0) {
		fprintf(stderr, "send-batch: %s:%u: %s\n", part, devno, xenamp_strerror_last());
		return -1;
	}
	return rpmsg_create_ept(e, xenamp_rpmsg_dev(*d), "", EPT, dst, cb, NULL);
}

/* ------------------------------------------------------------------ */
/* Receiver                                                            */

static struct rpmsg_endpoint RE[2];

static int rx_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		 uint32_t src, void *priv)
{
	unsigned n = __atomic_load_n(&SH->n, __ATOMIC_RELAXED);

	(void)src; (void)priv;
	if (n < MAXREC) {
		SH->r[n] = (struct rec){ (uint32_t)(ept == &RE[1]), (uint32_t)len,
					 fnv(data, len) };
		__atomic_store_n(&SH->n, n + 1, __ATOMIC_RELEASE);
	}
	return RPMSG_SUCCESS;
}

static void receiver(void)
{
	struct xenamp_dev *d[2];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (unsigned i = 0; i < 2; i++)
		if (open_dev("fw", i, &d[i], &RE[i], rx_cb, EPT) != 0)
			_exit(3);
	__atomic_store_n(&SH->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&SH->stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&SH->pause, __ATOMIC_ACQUIRE)) {
			sleep_ms(1);
			continue;
		}
		for (unsigned i = 0; i < 2; i++)
			if (xenamp_dispatch(d[i], 5) < 0)
				_exit(4);
	}
	for (unsigned i = 0; i < 2; i++) {
		rpmsg_destroy_ept(&RE[i]);
		xenamp_close(d[i]);
	}
	_exit(0);
}

/* ------------------------------------------------------------------ */
/* Sender                                                              */

static struct xenamp_dev *SD[2];
static struct rpmsg_endpoint SE[2];
static struct rec expect[MAXREC];
static unsigned nexpect;
static uint8_t data[128][600];

static int ignore_cb(struct rpmsg_endpoint *ept, void *d, size_t len,
		     uint32_t src, void *priv)
{
	(void)ept; (void)d; (void)len; (void)src; (void)priv;
	return RPMSG_SUCCESS;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

/* Record what the receiver must get for msgs[0..n) sent on dev. */
static void expect_sent(unsigned dev, const struct xenamp_msg *m, int n)
{
	for (int i = 0; i < n && nexpect < MAXREC; i++) {
		uint32_t len = m[i].len > PMAX ? PMAX : (uint32_t)m[i].len;

		expect[nexpect++] = (struct rec){ dev, len, fnv(m[i].data, len) };
	}
}

/* Wait until the receiver has as many as expected (and a little longer,
 * to see any extra); true when it got exactly those, in order. */
static bool delivered_ok(void)
{
	for (int i = 0; i < 500 && __atomic_load_n(&SH->n, __ATOMIC_ACQUIRE) < nexpect; i++)
		sleep_ms(10);
	sleep_ms(50);
	if (__atomic_load_n(&SH->n, __ATOMIC_ACQUIRE) != nexpect) {
		fprintf(stderr, "send-batch: receiver has %u messages, expected %u\n", SH->n, nexpect);
		return false;
	}
	for (unsigned i = 0; i < nexpect; i++)
		if (memcmp(&SH->r[i], &expect[i], sizeof(expect[i])) != 0) {
			fprintf(stderr, "send-batch: message %u: dev %u len %u, expected dev %u len %u\n",
				i, SH->r[i].dev, SH->r[i].len, expect[i].dev, expect[i].len);
			return false;
		}
	return true;
}

static uint64_t kicks(void)
{
	struct xenamp_stats st;

	return xenamp_get_stats(SD[0], &st) == 0 ? st.kicks : UINT64_MAX;
}

static void mk(struct xenamp_msg *m, int n, unsigned seed, int len0)
{
	for (int i = 0; i < n; i++) {
		int len = len0 ? len0 : 1 + (int)((seed + (unsigned)i) * 53u % PMAX);

		fill(data[i], (size_t)len, seed + (unsigned)i);
		m[i].data = data[i];
		m[i].len = len;
	}
}

/* A batch of 10, three times, each after the backend went to sleep:
 * one kick each; then 10 rpmsg_send() calls. */
static void t_batches(void)
{
	struct xenamp_msg m[10];
	bool one = true, all = true;

	for (unsigned b = 0; b < 3; b++) {
		uint64_t k0;
		int r;

		sleep_ms(100);   /* the backend asleep, TX ring armed */
		k0 = kicks();
		mk(m, 10, 100 * b, 0);
		r = xenamp_send_batch(&SE[0], m, 10);
		all &= r == 10;
		if (r > 0)
			expect_sent(0, m, r);
		one &= kicks() - k0 == 1;
	}
	check(all, "3 batches of 10 messages (1..496 bytes): each returns 10");
	check(delivered_ok(), "... the receiver got those 30, byte for byte, in order, once each");
	check(one, "... each batch took exactly one kick of the backend");
	{
		uint64_t k0;

		sleep_ms(100);
		k0 = kicks();
		mk(m, 10, 900, 0);
		for (int i = 0; i < 10; i++)
			if (rpmsg_send(&SE[0], m[i].data, m[i].len) == m[i].len)
				expect_sent(0, &m[i], 1);
		{
			char what[128];
			uint64_t k = kicks() - k0;

			snprintf(what, sizeof(what),
				 "10 rpmsg_send() calls: %llu kick(s), at least one (the batch: one for all)",
				 (unsigned long long)k);
			check(k >= 1, what);
		}
		check(delivered_ok(), "... delivered");
	}
}

/* The receiver paused: 16 TX buffers free, a batch of 40 sends 16. */
static void t_short(void)
{
	struct xenamp_msg m[40];
	int r, done, calls = 0;

	sleep_ms(100);
	__atomic_store_n(&SH->pause, 1, __ATOMIC_RELEASE);
	mk(m, 40, 7, 0);
	r = xenamp_send_batch(&SE[0], m, 40);
	check(r == 16, "40 messages, 16 free TX buffers: returns 16 (fewer than asked)");
	done = r > 0 ? r : 0;
	if (r > 0)
		expect_sent(0, m, r);
	__atomic_store_n(&SH->pause, 0, __ATOMIC_RELEASE);
	while (done < 40 && calls++ < 100) {
		r = xenamp_send_batch(&SE[0], m + done, 40 - done);
		if (r <= 0)
			break;
		expect_sent(0, m + done, r);
		done += r;
	}
	check(done == 40, "... sending the rest again: all 40 accepted");
	check(delivered_ok(), "... the receiver got the 40 in order, each once, nothing more");
}

static void t_cap(void)
{
	static struct xenamp_msg m[100];
	int r;

	sleep_ms(50);
	mk(m, 100, 3, 100);
	r = xenamp_send_batch(&SE[1], m, 100);
	check(r == 64, "100 messages, 128 free TX buffers: returns 64 (at most 64 per call)");
	if (r > 0)
		expect_sent(1, m, r);
	check(delivered_ok(), "... exactly those 64 delivered");
}

static void t_errors(void)
{
	struct xenamp_msg m[3];
	struct rpmsg_endpoint any;
	uint64_t k0 = kicks();
	int r;

	mk(m, 3, 11, 0);
	m[1].len = 600;
	fill(data[1], 600, 5);
	r = xenamp_send_batch(&SE[0], m, 3);
	check(r == 3, "a 600-byte buffer between two valid ones: returns 3");
	expect_sent(0, m, r > 0 ? r : 0);
	check(delivered_ok(), "... the 600-byte one arrives truncated to 496 bytes (as rpmsg_send), the others whole");
	mk(m, 3, 12, 0);
	check(xenamp_send_batch(&SE[0], m, 0) == RPMSG_ERR_PARAM, "n = 0: RPMSG_ERR_PARAM");
	check(xenamp_send_batch(&SE[0], NULL, 3) == RPMSG_ERR_PARAM, "msgs = NULL: RPMSG_ERR_PARAM");
	m[2].data = NULL;
	check(xenamp_send_batch(&SE[0], m, 3) == RPMSG_ERR_PARAM,
	      "a NULL buffer after two valid ones: RPMSG_ERR_PARAM");
	m[2].data = data[2];
	m[1].len = -1;
	check(xenamp_send_batch(&SE[0], m, 3) == RPMSG_ERR_PARAM,
	      "a negative length between valid ones: RPMSG_ERR_PARAM");
	if (rpmsg_create_ept(&any, xenamp_rpmsg_dev(SD[0]), "", EPT + 1, RPMSG_ADDR_ANY,
			     ignore_cb, NULL) == 0) {
		m[1].len = 5;
		check(xenamp_send_batch(&any, m, 3) == RPMSG_ERR_PARAM,
		      "an endpoint without a destination: RPMSG_ERR_PARAM");
		rpmsg_destroy_ept(&any);
	}
	check(delivered_ok() && kicks() - k0 <= 1,
	      "... none of the refused batches sent anything or kicked");
}

int main(void)
{
	pid_t pid;
	int st;

	SH = mmap(NULL, sizeof(*SH), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (SH == MAP_FAILED)
		return 1;
	pid = fork();
	if (pid == 0)
		receiver();
	for (unsigned i = 0; i < 2; i++)
		if (open_dev("host", i, &SD[i], &SE[i], ignore_cb, EPT) != 0)
			return 3;
	for (int i = 0; i < 1000 && !__atomic_load_n(&SH->ready, __ATOMIC_ACQUIRE); i++)
		sleep_ms(10);
	check(SH->ready, "receiver connected on both links");
	t_batches();
	t_short();
	t_cap();
	t_errors();
	__atomic_store_n(&SH->stop, 1, __ATOMIC_RELEASE);
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "receiver exited cleanly");
	for (unsigned i = 0; i < 2; i++) {
		rpmsg_destroy_ept(&SE[i]);
		xenamp_close(SD[i]);
	}
	printf("%d failed\n", failures);
	return failures ? 1 : 0;
}
