/* The PV console: the `out` ring of the console page, read by xenconsoled
 * in dom0 (which shows it in `xl console` and, with --log=guest, writes
 * /var/log/xen/console/guest-NAME.log). We produce out_prod; xenconsoled
 * consumes out_cons and notifies the console port when it did.
 *
 * A console that does not drain (no xenconsoled) must not wedge the
 * firmware: a write waits at most FW_CONSOLE_STALL_MS for room, then
 * drops the rest of that write and every later one until room appears. */
#include "fw_priv.h"

#define FW_CONSOLE_STALL_MS 2000u
#define RING_SIZE 2048u

static struct xen_cons_interface *cons;
static uint32_t cons_port;
static bool stalled;

void fw_console_init(void *page, uint32_t port)
{
	cons = page;
	cons_port = port;
}

/* Copy what fits; returns the bytes taken (0 when full or corrupt). */
static size_t ring_put(const char *buf, size_t len)
{
	uint32_t c = __atomic_load_n(&cons->out_cons, __ATOMIC_ACQUIRE);
	uint32_t p = cons->out_prod;   /* ours */
	size_t room, i;

	if (p - c > RING_SIZE)
		return 0;   /* corrupt: write nothing rather than overrun */
	room = RING_SIZE - (p - c);
	if (len > room)
		len = room;
	for (i = 0; i < len; i++)
		cons->out[(p + i) & (RING_SIZE - 1)] = buf[i];
	__atomic_store_n(&cons->out_prod, p + (uint32_t)len, __ATOMIC_RELEASE);
	return len;
}

void fw_write(const char *buf, size_t len)
{
	uint64_t deadline = 0;

	if (cons == NULL)
		return;
	while (len > 0) {
		size_t n = ring_put(buf, len);

		if (n > 0) {
			stalled = false;
			deadline = 0;
			buf += n;
			len -= n;
			(void)fw_evtchn_notify(cons_port);
			continue;
		}
		if (stalled)
			return;
		if (deadline == 0)
			deadline = fw_now_ns() + FW_CONSOLE_STALL_MS * 1000000ull;
		(void)fw_evtchn_take(cons_port);
		if (fw_evtchn_wait(&cons_port, 1, deadline) == 0) {
			stalled = true;   /* nobody reads: drop output from now on */
			return;
		}
	}
}

void fw_puts(const char *s)
{
	fw_write(s, strlen(s));
}

int fw_printf(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fw_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fw_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	return n;
}

void fw_console_flush(void)
{
	uint64_t deadline;

	if (cons == NULL || stalled)
		return;
	deadline = fw_now_ns() + FW_CONSOLE_STALL_MS * 1000000ull;
	while (__atomic_load_n(&cons->out_cons, __ATOMIC_ACQUIRE) != cons->out_prod) {
		(void)fw_evtchn_take(cons_port);
		/* short sleeps: xenconsoled may not notify after reading */
		uint64_t step = fw_now_ns() + 20000000ull;

		if (step > deadline)
			step = deadline;
		(void)fw_evtchn_wait(&cons_port, 1, step);
		if (fw_now_ns() >= deadline)
			return;
	}
}
