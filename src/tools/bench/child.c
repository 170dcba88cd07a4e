/* xenamp-bench: the child side of the pipe protocol (bench.h), payload
 * sequence numbers, latency statistics and the clocks both sides read. */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct sync S;
struct child_res R_out;
static int sc_fd = -1;   /* this process's system-call counter */

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of this process, all threads, user + system. */
uint64_t self_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
	       1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* utime + stime of a process from /proc/PID/stat, in clock ticks; -1 when
 * it cannot be read. Fields 14 and 15, counted after the ')' that ends
 * the command name (which may itself hold blanks and parentheses). */
long long proc_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long ut, st;
	ssize_t n;
	char *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* After ')': state(3) ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime(14) stime(15). */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

long long proc_run_ns(pid_t pid)
{
	char path[64];
	long long ns = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/schedstat", (long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%lld", &ns) != 1)
		ns = -1;
	fclose(f);
	return ns;
}

uint64_t ticks_ns(long long t)
{
	return t <= 0 ? 0 : (uint64_t)t * (1000000000ull / (uint64_t)B.clk_tck);
}

void child_fail(const char *fmt, ...)
{
	va_list ap;

	if (R_out.status != 0)
		return;   /* keep the first */
	R_out.status = 1;
	va_start(ap, fmt);
	vsnprintf(R_out.err, sizeof(R_out.err), fmt, ap);
	va_end(ap);
}

void write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

void child_ready(void)
{
	write_all(S.ready[1], "r", 1);
}

/* Block until the parent closes the pipe (EOF). */
void wait_eof(int fd)
{
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r == 0 || (r < 0 && errno != EINTR))
			return;
	}
}

void child_report(void)
{
	write_all(S.res[1], &R_out, sizeof(R_out));
}

void child_go(void)
{
	wait_eof(S.go[0]);
	/* The children are single-threaded while they measure (libxenamp
	 * starts a thread only to reconnect), so the calling thread's
	 * counter is the process's. */
	sc_fd = sc_start(0);
	R_out.cpu_ns = self_cpu_ns();
	R_out.t_start = now_ns();
}

/* Tear-down waits for "quit" so that it never counts in anybody's
 * measured phase. */
void child_finish(void)
{
	R_out.cpu_ns = self_cpu_ns() - R_out.cpu_ns;
	R_out.sc_ok = sc_stop(sc_fd, &R_out.syscalls);
	sc_fd = -1;
	child_report();
	wait_eof(S.quit[0]);
}

void put_seq(uint8_t *p, uint64_t seq)
{
	memcpy(p, &seq, sizeof(seq));
}

uint64_t get_seq(const uint8_t *p)
{
	uint64_t s;

	memcpy(&s, p, sizeof(s));
	return s;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void latency_stats(uint64_t *s, uint64_t n)
{
	long double sum = 0;
	uint64_t i99;

	if (n == 0)
		return;
	qsort(s, n, sizeof(*s), cmp_u64);
	for (uint64_t i = 0; i < n; i++)
		sum += s[i];
	/* p99: the smallest sample with at least 99 % at or below it. */
	i99 = (n * 99 + 99) / 100;
	if (i99 > 0)
		i99--;
	R_out.lat_med = s[n / 2];
	R_out.lat_p99 = s[i99 < n ? i99 : n - 1];
	R_out.lat_mean = (uint64_t)(sum / n);
}
