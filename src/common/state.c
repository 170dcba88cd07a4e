#include "common/state.h"

const char *xa_state_name(int state)
{
	switch (state) {
	case XA_STATE_INITIALISING: return "Initialising";
	case XA_STATE_INITWAIT: return "InitWait";
	case XA_STATE_INITIALISED: return "Initialised";
	case XA_STATE_CONNECTED: return "Connected";
	case XA_STATE_CLOSING: return "Closing";
	case XA_STATE_CLOSED: return "Closed";
	default: return "Unknown";
	}
}

bool xa_state_transition_ok(int from, int to)
{
	if (to < XA_STATE_INITIALISING || to > XA_STATE_CLOSED)
		return false;
	if (to == XA_STATE_CLOSING || to == XA_STATE_CLOSED)
		return true;
	if (from == XA_STATE_CLOSED || from == XA_STATE_UNKNOWN)
		return to == XA_STATE_INITIALISING;
	/* forward only, one or more steps, never back past Connected */
	return to > from && from < XA_STATE_CONNECTED;
}
