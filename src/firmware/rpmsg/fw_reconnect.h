/* The firmware's reconnection after a backend restart, its pure part: what
 * to do next, decided from what xenstore shows (docs/protocol.md, "Backend
 * restart"). fw_rpmsg.c reads the nodes, calls fw_rc_decide, acts, and
 * sleeps for xenstore news; this file only decides, so that every case is
 * a host unit test (tests/firmware/test-fw-reconnect.c).
 *
 * The facts the decision rests on:
 *   - a backend that starts finds the domain as new and rewrites the
 *     frontend dir (state Initialising, no ring-ref, no event-channel)
 *     before it offers the device (InitWait with buf-size, buf-count,
 *     max-pages); so a frontend dir in Initialised holding OUR current
 *     port is an offer we wrote to this very backend, which has not taken
 *     it yet. Offering again then would close the port the backend may be
 *     binding right now: wait instead.
 *   - a SIGKILLed backend leaves its nodes as they were (state Connected,
 *     our old port): Connected counts only once we offered since the loss.
 *   - an `error` node is the backend's refusal ("CODE TEXT"): a transient
 *     code (the same three as src/common/refusal.c's xa_refusal_retry,
 *     which the unit test compares) means wait, any other code gives up.
 *   - the region was laid out for one buf-size and buf-count and has
 *     npages pages: other parameters give up (as libxenamp does). */
#ifndef XENAMP_FW_RECONNECT_H
#define XENAMP_FW_RECONNECT_H

#include <stdbool.h>
#include <stdint.h>

/* What fw_rpmsg.c read while the link is lost. A node that could not be
 * read has its has_* false (or state FW_RC_ABSENT). */
#define FW_RC_ABSENT 0
struct fw_rc_view {
	int be_state;               /* backend dir state, FW_RC_ABSENT if gone */
	int fe_state;               /* frontend dir state, FW_RC_ABSENT if gone */
	bool has_port;
	unsigned long fe_port;      /* frontend dir's event-channel */
	bool has_error;
	int refusal;                /* the `error` node's code (fw_rc_refusal) */
	bool has_params;            /* buf-size, buf-count, max-pages all read */
	unsigned long buf_size, buf_count, max_pages;
};

/* This end: the region's parameters and the offer made since the loss. */
struct fw_rc_link {
	uint32_t buf_size, buf_count, npages;
	uint32_t port;              /* the port of our latest offer */
	bool offered;               /* an offer was written since the loss */
};

enum fw_rc_step {
	FW_RC_WAIT,          /* nothing to do now: sleep for xenstore news */
	FW_RC_OFFER,         /* new port, the same ring-refs, state Initialised */
	FW_RC_CONNECTED,     /* the backend took our offer: Connected, resume */
	FW_RC_REFUSED,       /* a final refusal: give up */
	FW_RC_PARAMS,        /* other link parameters: the region cannot fit */
};

enum fw_rc_step fw_rc_decide(const struct fw_rc_view *v, const struct fw_rc_link *l);

/* The `error` node's value "CODE TEXT": the code, or 2 (a protocol
 * refusal, final) when it does not start with a number in 1..255
 * (xa_refusal_parse's rule). */
int fw_rc_refusal(const char *value);
/* Whether a refusal with this code may pass (wait for the next offer). */
bool fw_rc_refusal_transient(int code);

#endif
