/* Event channels, without upcalls: the pending bits in shared_info are
 * tested and cleared here, and waits are SCHEDOP_poll, which Xen ends when
 * one of the named ports becomes pending (masked or not) or at the
 * timeout. 2-level event channel ABI: ports below 64 * 64. */
#include "fw_priv.h"
#include "hypercall.h"

#define FW_EVTCHN_PORTS 4096u

int fw_evtchn_alloc_unbound(uint16_t remote, uint32_t *port)
{
	struct xen_evtchn_alloc_unbound op = { .dom = XEN_DOMID_SELF, .remote_dom = remote };
	long rc = hyp_event_channel_op(XEN_EVTCHNOP_alloc_unbound, &op);

	if (rc != 0)
		return (int)rc;
	if (op.port >= FW_EVTCHN_PORTS) {
		fw_evtchn_close(op.port);
		return -FW_ERANGE;
	}
	*port = op.port;
	return 0;
}

int fw_evtchn_notify(uint32_t port)
{
	struct xen_evtchn_port op = { .port = port };

	return (int)hyp_event_channel_op(XEN_EVTCHNOP_send, &op);
}

int fw_evtchn_close(uint32_t port)
{
	struct xen_evtchn_port op = { .port = port };

	return (int)hyp_event_channel_op(XEN_EVTCHNOP_close, &op);
}

static bool pending(uint32_t port)
{
	return port < FW_EVTCHN_PORTS &&
	       (__atomic_load_n(&fw_shared->evtchn_pending[port / 64], __ATOMIC_ACQUIRE) >>
		(port % 64)) & 1;
}

bool fw_evtchn_take(uint32_t port)
{
	uint64_t bit = 1ull << (port % 64);

	if (port >= FW_EVTCHN_PORTS)
		return false;
	return (__atomic_fetch_and(&fw_shared->evtchn_pending[port / 64], ~bit,
				   __ATOMIC_ACQ_REL) & bit) != 0;
}

int fw_evtchn_wait(const uint32_t *ports, unsigned n, uint64_t deadline_ns)
{
	uint32_t list[8];
	unsigned k = 0;

	for (unsigned i = 0; i < n && k < 8; i++)
		if (ports[i] != 0)
			list[k++] = ports[i];
	for (;;) {
		for (unsigned i = 0; i < k; i++)
			if (pending(list[i]))
				return 1;
		if (deadline_ns != 0 && fw_now_ns() >= deadline_ns)
			return 0;
		struct xen_sched_poll p = {
			.ports = list, .nr_ports = k, .timeout = deadline_ns,
		};

		/* Returns when a port is pending, at the timeout, or early for
		 * other reasons: the loop looks again either way. */
		(void)hyp_sched_op(XEN_SCHEDOP_poll, &p);
	}
}
