/* xenamp-bench: the costs that do not depend on the machine's load.
 * Notifications are counted by the transports themselves (libxenamp's
 * xenamp_get_stats() in each partition, the backend's per-end kicks and
 * notifies from its control socket, the raw baseline's eventfd writes);
 * system calls by the kernel's raw_syscalls:sys_enter tracepoint, read
 * through perf_event_open(2) for one thread: each child counts itself,
 * the parent counts the backend's (single-threaded) event loop. When the
 * tracepoint cannot be used (no tracefs, perf_event_paranoid, seccomp)
 * system calls are reported as unknown and the output says so: there is
 * no honest fallback for them (getrusage and /proc count context
 * switches, not calls). */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/ctl_client.h"
#include "bench.h"

static long long tp_id = -2;   /* -2: not probed yet; -1: unavailable */

static long long read_tp_id(void)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
		"/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		FILE *f = fopen(paths[i], "re");
		long long id;

		if (f == NULL)
			continue;
		if (fscanf(f, "%lld", &id) != 1)
			id = -1;
		fclose(f);
		if (id >= 0)
			return id;
	}
	return -1;
}

static int perf_open(pid_t pid)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_TRACEPOINT;
	a.config = (uint64_t)tp_id;
	a.disabled = 1;
	return (int)syscall(SYS_perf_event_open, &a, pid, -1, -1,
			    PERF_FLAG_FD_CLOEXEC);
}

bool sc_probe(void)
{
	int fd;

	if (tp_id != -2)
		return tp_id >= 0;
	tp_id = read_tp_id();
	if (tp_id < 0)
		return false;
	fd = perf_open(0);
	if (fd < 0) {
		tp_id = -1;
		return false;
	}
	close(fd);
	return true;
}

const char *sc_source(void)
{
	return tp_id >= 0 ? "perf raw_syscalls:sys_enter" :
	       "unavailable (no raw_syscalls:sys_enter tracepoint for perf)";
}

int sc_start(pid_t tid)
{
	int fd;

	if (tp_id < 0)
		return -1;
	fd = perf_open(tid);
	if (fd < 0)
		return -1;
	if (ioctl(fd, PERF_EVENT_IOC_RESET, 0) < 0 ||
	    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool sc_stop(int fd, uint64_t *count)
{
	uint64_t v;
	bool ok;

	if (fd < 0)
		return false;
	(void)ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
	ok = read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v);
	close(fd);
	if (ok)
		*count = v;
	return ok;
}

/* Sum key over every end of every link of a "stats" reply. */
static bool sum_ends(json_object *root, const char *key, uint64_t *sum)
{
	json_object *links, *ends, *v;

	*sum = 0;
	if (!json_object_object_get_ex(root, "links", &links) ||
	    !json_object_is_type(links, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(links); i++) {
		json_object *l = json_object_array_get_idx(links, i);

		if (!json_object_object_get_ex(l, "ends", &ends) ||
		    !json_object_is_type(ends, json_type_array))
			return false;
		for (size_t j = 0; j < json_object_array_length(ends); j++) {
			if (!json_object_object_get_ex(json_object_array_get_idx(ends, j),
						       key, &v))
				return false;
			*sum += (uint64_t)json_object_get_int64(v);
		}
	}
	return true;
}

bool backend_notify_counts(uint64_t *kicks, uint64_t *calls)
{
	char err[256], *reply = NULL;
	size_t len = 0;
	json_object *root;
	bool ok;

	if (xa_ctl_request(B.sock, "{\"cmd\": \"stats\"}", 5000, &reply, &len,
			   err, sizeof(err)) < 0) {
		say("backend stats: %s", err);
		return false;
	}
	root = json_tokener_parse(reply);
	free(reply);
	ok = root != NULL && sum_ends(root, "kicks", kicks) &&
	     sum_ends(root, "notifies", calls);
	json_object_put(root);
	return ok;
}

/* Count the ends of a "status" reply in state Connected whose partition
 * starts with prefix. */
static int count_connected(json_object *root, const char *prefix)
{
	json_object *links, *ends, *v;
	int n = 0;

	if (!json_object_object_get_ex(root, "links", &links) ||
	    !json_object_is_type(links, json_type_array))
		return -1;
	for (size_t i = 0; i < json_object_array_length(links); i++) {
		if (!json_object_object_get_ex(json_object_array_get_idx(links, i), "ends", &ends) ||
		    !json_object_is_type(ends, json_type_array))
			return -1;
		for (size_t j = 0; j < json_object_array_length(ends); j++) {
			json_object *e = json_object_array_get_idx(ends, j);
			const char *st, *pa;

			if (!json_object_object_get_ex(e, "state", &v) ||
			    (st = json_object_get_string(v)) == NULL ||
			    !json_object_object_get_ex(e, "partition", &v) ||
			    (pa = json_object_get_string(v)) == NULL)
				return -1;
			n += strcmp(st, "Connected") == 0 &&
			     strncmp(pa, prefix, strlen(prefix)) == 0;
		}
	}
	return n;
}

int backend_connected_ends(const char *prefix)
{
	char err[256], *reply = NULL;
	size_t len = 0;
	json_object *root;
	int n;

	if (xa_ctl_request(B.sock, "{\"cmd\": \"status\"}", 10000, &reply, &len,
			   err, sizeof(err)) < 0) {
		say("backend status: %s", err);
		return -1;
	}
	root = json_tokener_parse(reply);
	free(reply);
	n = root != NULL ? count_connected(root, prefix) : -1;
	json_object_put(root);
	return n;
}
