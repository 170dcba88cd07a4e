/* mt-stress: several threads on one libxenamp device, for ThreadSanitizer
 * (tests/integration/tsan.sh). One dispatcher thread runs xenamp_dispatch();
 * S sender threads each own an endpoint bound to the "rpmsg-echo" service
 * and send N numbered messages (blocking send, trysend with retry, and
 * zero-copy in turn); one more thread creates and destroys endpoints in a
 * loop meanwhile. Every echo must come back to its own endpoint, in order.
 *
 *   mt-stress -p PARTITION [-s SENDERS] [-n MESSAGES]
 * Prints "mt-stress senders=S messages=N received=R errors=E"; exit 0 when
 * every reply came back intact and in order. */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenamp/rpmsg.h>
#include <xenamp/xenamp.h>

#define MAXS 16

struct sender {
	int id;
	struct rpmsg_endpoint ept;
	unsigned long received;   /* written by the dispatcher, atomics */
	unsigned long errors;
	unsigned long sent;
};

static struct xenamp_dev *dev;
static struct sender snd[MAXS];
static int nsenders = 4;
static unsigned long nmsg = 2000;
static uint32_t echo_addr = RPMSG_ADDR_ANY;
static int stop;

static int on_echo(struct rpmsg_endpoint *ept, void *data, size_t len,
		   uint32_t src, void *priv)
{
	struct sender *sd = priv;
	unsigned long seq, want = __atomic_load_n(&sd->received, __ATOMIC_RELAXED);
	char tmp[64];

	(void)ept;
	(void)src;
	if (len >= sizeof(tmp))
		len = sizeof(tmp) - 1;
	memcpy(tmp, data, len);
	tmp[len] = '\0';
	if (sscanf(tmp, "s%*d m%lu", &seq) != 1 || seq != want)
		__atomic_add_fetch(&sd->errors, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&sd->received, want + 1, __ATOMIC_RELEASE);
	return RPMSG_SUCCESS;
}

static int on_service(struct rpmsg_endpoint *ept, void *data, size_t len,
		      uint32_t src, void *priv)
{
	(void)ept; (void)data; (void)len; (void)src; (void)priv;
	return RPMSG_SUCCESS;
}

static void *dispatcher(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
		if (xenamp_dispatch(dev, 50) < 0)
			break;
	return NULL;
}

static void *sender(void *arg)
{
	struct sender *sd = arg;
	char msg[64];

	for (unsigned long k = 0; k < nmsg; k++) {
		int w = snprintf(msg, sizeof(msg), "s%d m%lu", sd->id, k);
		int r;

		switch ((k + (unsigned long)sd->id) % 3) {
		case 0:
			r = rpmsg_send(&sd->ept, msg, w);
			break;
		case 1:
			while ((r = rpmsg_trysend(&sd->ept, msg, w)) == RPMSG_ERR_NO_BUFF)
				usleep(100);
			break;
		default: {
			uint32_t cap;
			void *b = rpmsg_get_tx_payload_buffer(&sd->ept, &cap, 1);

			r = RPMSG_ERR_NO_BUFF;
			if (b != NULL) {
				memcpy(b, msg, (size_t)w);
				r = rpmsg_send_nocopy(&sd->ept, b, w);
			}
			break;
		}
		}
		if (r < 0) {
			fprintf(stderr, "mt-stress: sender %d: send %lu failed: %d\n",
				sd->id, k, r);
			__atomic_add_fetch(&sd->errors, 1, __ATOMIC_RELAXED);
			break;
		}
		sd->sent++;
	}
	return NULL;
}

static void *churner(void *arg)
{
	struct rpmsg_endpoint e;
	unsigned long n = 0;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		memset(&e, 0, sizeof(e));
		if (rpmsg_create_ept(&e, xenamp_rpmsg_dev(dev), "", RPMSG_ADDR_ANY,
				     echo_addr, on_service, NULL) == RPMSG_SUCCESS) {
			rpmsg_destroy_ept(&e);
			n++;
		}
		usleep(500);
	}
	return (void *)(uintptr_t)n;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const char *part = NULL;
	struct rpmsg_endpoint svc;
	pthread_t disp, ch, th[MAXS];
	void *churned;
	int c;

	while ((c = getopt(argc, argv, "p:s:n:")) != -1) {
		switch (c) {
		case 'p': part = optarg; break;
		case 's': nsenders = atoi(optarg); break;
		case 'n': nmsg = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: mt-stress -p PARTITION [-s SENDERS] [-n MESSAGES]\n");
			return 2;
		}
	}
	if (part == NULL || nsenders < 1 || nsenders > MAXS) {
		fprintf(stderr, "usage: mt-stress -p PARTITION [-s 1..%d] [-n MESSAGES]\n", MAXS);
		return 2;
	}
	if (xenamp_open(part, 0, NULL, &dev) != 0) {
		fprintf(stderr, "mt-stress: %s\n", xenamp_strerror_last());
		return 3;
	}
	memset(&svc, 0, sizeof(svc));
	if (rpmsg_create_ept(&svc, xenamp_rpmsg_dev(dev), "rpmsg-echo", RPMSG_ADDR_ANY,
			     RPMSG_ADDR_ANY, on_service, NULL) != RPMSG_SUCCESS) {
		fprintf(stderr, "mt-stress: cannot create the service endpoint\n");
		return 3;
	}
	if (pthread_create(&disp, NULL, dispatcher, NULL) != 0)
		return 3;
	long deadline = now_ms() + 20000;

	while (!is_rpmsg_ept_ready(&svc) && now_ms() < deadline)
		usleep(10000);
	if (!is_rpmsg_ept_ready(&svc)) {
		fprintf(stderr, "mt-stress: no rpmsg-echo service announced\n");
		return 4;
	}
	echo_addr = svc.dest_addr;
	for (int i = 0; i < nsenders; i++) {
		snd[i].id = i;
		snd[i].ept.priv = &snd[i];
		if (rpmsg_create_ept(&snd[i].ept, xenamp_rpmsg_dev(dev), "", RPMSG_ADDR_ANY,
				     echo_addr, on_echo, NULL) != RPMSG_SUCCESS) {
			fprintf(stderr, "mt-stress: cannot create endpoint %d\n", i);
			return 3;
		}
	}
	pthread_create(&ch, NULL, churner, NULL);
	for (int i = 0; i < nsenders; i++)
		pthread_create(&th[i], NULL, sender, &snd[i]);
	for (int i = 0; i < nsenders; i++)
		pthread_join(th[i], NULL);

	unsigned long total = 0, errors = 0;

	deadline = now_ms() + 20000;
	for (int i = 0; i < nsenders; i++)
		while (__atomic_load_n(&snd[i].received, __ATOMIC_ACQUIRE) < snd[i].sent &&
		       now_ms() < deadline)
			usleep(1000);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(ch, &churned);
	pthread_join(disp, NULL);
	for (int i = 0; i < nsenders; i++) {
		unsigned long r = __atomic_load_n(&snd[i].received, __ATOMIC_ACQUIRE);

		total += r;
		errors += __atomic_load_n(&snd[i].errors, __ATOMIC_RELAXED) +
			  (r != nmsg) + (snd[i].sent != nmsg);
		rpmsg_destroy_ept(&snd[i].ept);
	}
	rpmsg_destroy_ept(&svc);
	xenamp_close(dev);
	printf("mt-stress senders=%d messages=%lu received=%lu errors=%lu churned=%lu\n",
	       nsenders, nmsg * (unsigned long)nsenders, total, errors,
	       (unsigned long)(uintptr_t)churned);
	return errors == 0 ? 0 : 1;
}
