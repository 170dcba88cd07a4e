/* The control-plane state machine every end walks, in both transports.
 * Values are Xen's xenbus states (xen/include/public/io/xenbus.h), so the
 * same numbers appear in xenstore in Xen mode and on the socket in local
 * mode. */
#ifndef XENAMP_COMMON_STATE_H
#define XENAMP_COMMON_STATE_H

#include <stdbool.h>

enum xa_state {
	XA_STATE_UNKNOWN = 0,
	XA_STATE_INITIALISING = 1,
	XA_STATE_INITWAIT = 2,     /* backend: parameters published, waiting for the region */
	XA_STATE_INITIALISED = 3,  /* frontend: region shared, waiting for the backend */
	XA_STATE_CONNECTED = 4,
	XA_STATE_CLOSING = 5,
	XA_STATE_CLOSED = 6,
};

/* "Initialising", "InitWait", ... ; "Unknown" for anything else. */
const char *xa_state_name(int state);

/* Whether a side may move from `from` to `to`. Any state may go to
 * Closing or Closed; otherwise the order is Initialising, InitWait,
 * Initialised, Connected; Closed may restart at Initialising. */
bool xa_state_transition_ok(int from, int to);

#endif
