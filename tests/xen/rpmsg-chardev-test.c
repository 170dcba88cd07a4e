/* rpmsg-chardev-test: a Linux program written against <linux/rpmsg.h>
 * only, as for a kernel with rpmsg, run against xenamp-rpmsgd.
 *
 * Opens the control device, creates an endpoint to a service of the peer
 * (an echo service: what it receives comes back), checks the new
 * /dev/rpmsgM, exchanges COUNT messages of sizes cycling 1..MAX with
 * every byte checked (half waited for with poll, half with a blocking
 * read), then the semantics around it: a second open (EBUSY), a message
 * too large (EMSGSIZE), a non-blocking read with nothing queued (EAGAIN),
 * poll timing out, a short read (the rest of the message discarded), an
 * unknown ioctl (EINVAL), RPMSG_DESTROY_EPT_IOCTL (then EPIPE, POLLERR,
 * the node gone after close), and the services RPMSG_CREATE_DEV_IOCTL /
 * RPMSG_RELEASE_DEV_IOCTL make. Prints "ok: ..." or "FAIL: ..." per
 * check and a last line "rpmsg-chardev-test: N checks passed, N failed";
 * exit status 0 when all passed, 1 otherwise, 2 usage. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/rpmsg.h>

static unsigned passed, failed;

static void result(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void result(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static uint8_t pattern(unsigned long seq, size_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (seq >> 8) + (i >> 3));
}

/* The numbers M of the /dev/rpmsgM that exist, as a bit set. */
#define MAXDEV 1024
static void scan_devs(unsigned char *set)
{
	DIR *d = opendir("/dev");
	struct dirent *e;

	memset(set, 0, MAXDEV);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		unsigned m;
		char tail;

		if (sscanf(e->d_name, "rpmsg%u%c", &m, &tail) == 1 && m < MAXDEV &&
		    strncmp(e->d_name, "rpmsg_", 6) != 0)
			set[m] = 1;
	}
	closedir(d);
}

/* The one device that appeared between two scans; -1 if not exactly one. */
static int new_dev(const unsigned char *before, const unsigned char *after)
{
	int found = -1;

	for (int m = 0; m < MAXDEV; m++) {
		if (after[m] && !before[m]) {
			if (found >= 0)
				return -1;
			found = m;
		}
	}
	return found;
}

static int gone_within(const char *path, int ms)
{
	struct stat st;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (stat(path, &st) == 0) {
		if (ms_since(&t0) > ms)
			return 0;
		usleep(20000);
	}
	return 1;
}

static int create(int ctrl, unsigned long req, const char *name, uint32_t src,
		  uint32_t dst, char *path, size_t pathlen)
{
	static unsigned char before[MAXDEV], after[MAXDEV];
	struct rpmsg_endpoint_info info;
	int m;

	memset(&info, 0, sizeof(info));
	snprintf(info.name, sizeof(info.name), "%s", name);
	info.src = src;
	info.dst = dst;
	scan_devs(before);
	if (ioctl(ctrl, req, &info) != 0)
		return -errno;
	scan_devs(after);
	m = new_dev(before, after);
	if (m < 0)
		return -ENOENT;
	snprintf(path, pathlen, "/dev/rpmsg%d", m);
	return 0;
}

/* COUNT echoes of sizes 1..max, every byte checked. */
static unsigned long echo_run(int fd, unsigned long count, size_t max)
{
	static uint8_t out[65536], in[65536];
	unsigned long good = 0;

	for (unsigned long seq = 0; seq < count; seq++) {
		size_t len = 1 + seq % max;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		for (size_t i = 0; i < len; i++)
			out[i] = pattern(seq, i);
		if (write(fd, out, len) != (ssize_t)len) {
			printf("  message %lu: write of %zu bytes: %s\n", seq, len, strerror(errno));
			break;
		}
		/* Even messages: wait with poll; odd: a blocking read waits. */
		if (seq % 2 == 0 && (poll(&p, 1, 10000) != 1 || !(p.revents & POLLIN))) {
			printf("  message %lu: no POLLIN within 10 s (revents %#x)\n", seq, p.revents);
			break;
		}
		n = read(fd, in, sizeof(in));
		if (n != (ssize_t)len || memcmp(in, out, len) != 0) {
			printf("  message %lu: read %zd bytes (%s), expected %zu intact\n",
			       seq, n, n < 0 ? strerror(errno) : "data", len);
			break;
		}
		good++;
	}
	return good;
}

static void errno_check(ssize_t r, int want, const char *what)
{
	int e = errno;

	result(r < 0 && e == want, "%s: %s (want %s)", what,
	       r < 0 ? strerror(e) : "succeeded", strerror(want));
}

/* The endpoint device's semantics besides the echo run. */
static void semantics(int fd, const char *path, size_t max)
{
	static uint8_t buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct timespec t0;
	ssize_t n;
	int fd2, r;

	fd2 = open(path, O_RDWR);
	errno_check(fd2, EBUSY, "a second open of the endpoint device");
	if (fd2 >= 0)
		close(fd2);
	memset(buf, 0x5a, sizeof(buf));
	errno_check(write(fd, buf, max + 1), EMSGSIZE, "a write one byte larger than the payload");
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	errno_check(read(fd, buf, sizeof(buf)), EAGAIN, "a non-blocking read with nothing queued");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = poll(&p, 1, 300);
	result(r == 0 && ms_since(&t0) >= 250, "poll with nothing queued times out (%d after %ld ms of 300)",
	       r, ms_since(&t0));
	for (int i = 0; i < 100; i++)
		buf[i] = (uint8_t)(i + 1);
	r = (int)write(fd, buf, 100);
	p.revents = 0;
	if (r == 100 && poll(&p, 1, 10000) == 1) {
		memset(buf + 200, 0, 16);
		n = read(fd, buf + 200, 10);
		result(n == 10 && memcmp(buf + 200, buf, 10) == 0,
		       "a 10-byte read of a 100-byte message gets its first 10 bytes (%zd)", n);
		errno_check(read(fd, buf + 200, sizeof(buf) - 200), EAGAIN,
			    "... and the rest of it is discarded (next read)");
	} else {
		result(0, "short read: sending or polling for the 100-byte echo failed");
	}
	errno_check(ioctl(fd, _IO(0xb5, 0x7f)), EINVAL, "an unknown ioctl on the endpoint device");
	r = ioctl(fd, RPMSG_DESTROY_EPT_IOCTL);
	result(r == 0, "RPMSG_DESTROY_EPT_IOCTL: %s", r == 0 ? "done" : strerror(errno));
	errno_check(read(fd, buf, sizeof(buf)), EPIPE, "read after destroy");
	errno_check(write(fd, buf, 1), EPIPE, "write after destroy");
	p.revents = 0;
	r = poll(&p, 1, 1000);
	result(r == 1 && (p.revents & POLLERR), "poll after destroy reports POLLERR (revents %#x)",
	       p.revents);
	close(fd);
	result(gone_within(path, 3000), "%s gone after destroy and close", path);
}

/* RPMSG_CREATE_DEV_IOCTL / RPMSG_RELEASE_DEV_IOCTL with an rpmsg-raw
 * service (an endpoint device of its own). */
static void services(int ctrl)
{
	struct rpmsg_endpoint_info info;
	char path[64];
	int r, fd;

	r = create(ctrl, RPMSG_CREATE_DEV_IOCTL, "rpmsg-raw", RPMSG_ADDR_ANY,
		   RPMSG_ADDR_ANY, path, sizeof(path));
	result(r == 0, "RPMSG_CREATE_DEV_IOCTL rpmsg-raw makes a new endpoint device (%s)",
	       r == 0 ? path : strerror(-r));
	if (r != 0)
		return;
	memset(&info, 0, sizeof(info));
	snprintf(info.name, sizeof(info.name), "rpmsg-raw");
	info.src = info.dst = RPMSG_ADDR_ANY;
	errno_check(ioctl(ctrl, RPMSG_CREATE_DEV_IOCTL, &info), ENXIO,
		    "the same service again");
	fd = open(path, O_RDWR);
	result(fd >= 0, "the service's device opens");
	if (fd >= 0) {
		errno_check(ioctl(fd, RPMSG_DESTROY_EPT_IOCTL), EINVAL,
			    "RPMSG_DESTROY_EPT_IOCTL on a service's endpoint");
		close(fd);
	}
	r = ioctl(ctrl, RPMSG_RELEASE_DEV_IOCTL, &info);
	result(r == 0, "RPMSG_RELEASE_DEV_IOCTL: %s", r == 0 ? "done" : strerror(errno));
	result(gone_within(path, 3000), "%s gone after the release", path);
	errno_check(ioctl(ctrl, RPMSG_RELEASE_DEV_IOCTL, &info), EINVAL,
		    "releasing it again");
}

int main(int argc, char **argv)
{
	const char *ctrl_path = "/dev/rpmsg_ctrl0", *name = "rpmsg-echo";
	unsigned long count = 1000, max = 496, dst = RPMSG_ADDR_ANY;
	char path[64];
	int c, ctrl, fd, r;

	while ((c = getopt(argc, argv, "c:s:a:n:m:h")) != -1) {
		switch (c) {
		case 'c': ctrl_path = optarg; break;
		case 's': name = optarg; break;
		case 'a': dst = strtoul(optarg, NULL, 0); break;
		case 'n': count = strtoul(optarg, NULL, 0); break;
		case 'm': max = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: rpmsg-chardev-test [-c CTRL] [-s SERVICE] [-a DST] [-n COUNT] [-m PAYLOAD_MAX]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (max == 0 || max > 65535)
		return 2;
	ctrl = open(ctrl_path, O_RDWR);
	result(ctrl >= 0, "open %s: %s", ctrl_path, ctrl >= 0 ? "done" : strerror(errno));
	if (ctrl < 0)
		goto out;
	errno_check(ioctl(ctrl, _IO(0xb5, 0x7f)), EINVAL, "an unknown ioctl on the control device");
	r = create(ctrl, RPMSG_CREATE_EPT_IOCTL, name, RPMSG_ADDR_ANY, (uint32_t)dst,
		   path, sizeof(path));
	result(r == 0, "RPMSG_CREATE_EPT_IOCTL '%s' dst %lu makes a new endpoint device (%s)",
	       name, dst, r == 0 ? path : strerror(-r));
	if (r != 0)
		goto out;
	fd = open(path, O_RDWR);
	result(fd >= 0, "open %s: %s", path, fd >= 0 ? "done" : strerror(errno));
	if (fd < 0)
		goto out;
	{
		struct timespec t0;
		unsigned long good;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		good = echo_run(fd, count, max);
		result(good == count, "%lu of %lu messages of 1..%lu bytes echoed intact, every byte checked (%ld ms)",
		       good, count, max, ms_since(&t0));
	}
	semantics(fd, path, max);
	services(ctrl);
	close(ctrl);
out:
	printf("rpmsg-chardev-test: %u checks passed, %u failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}
