/* The reconnection decision of a firmware's RPMsg device (contract in
 * fw_reconnect.h). Pure: no xenstore, no time, no console. */
#include "firmware/rpmsg/fw_reconnect.h"

/* xenbus states (src/common/state.h) */
#define ST_INITWAIT 2
#define ST_INITIALISED 3
#define ST_CONNECTED 4

/* The wire's refusal codes (src/common/refusal.h): the transient ones. */
#define REFUSE_PROTOCOL 2
#define REFUSE_BUSY 32
#define REFUSE_LIMIT 33
#define REFUSE_SHUTDOWN 34

bool fw_rc_refusal_transient(int code)
{
	return code == REFUSE_BUSY || code == REFUSE_LIMIT || code == REFUSE_SHUTDOWN;
}

int fw_rc_refusal(const char *value)
{
	int code = 0;
	unsigned i;

	for (i = 0; value[i] >= '0' && value[i] <= '9'; i++)
		if (code <= 255)   /* saturate: anything above is out of range */
			code = code * 10 + (value[i] - '0');
	if (i == 0 || code == 0 || code > 255 || (value[i] != '\0' && value[i] != ' '))
		return REFUSE_PROTOCOL;
	return code;
}

/* The frontend dir holds our latest offer, unanswered or answered. */
static bool our_offer_stands(const struct fw_rc_view *v, const struct fw_rc_link *l)
{
	return l->offered && v->has_port && v->fe_port == l->port &&
	       (v->fe_state == ST_INITIALISED || v->fe_state == ST_CONNECTED);
}

static bool params_fit(const struct fw_rc_view *v, const struct fw_rc_link *l)
{
	return v->buf_size == l->buf_size && v->buf_count == l->buf_count &&
	       v->max_pages >= l->npages;
}

enum fw_rc_step fw_rc_decide(const struct fw_rc_view *v, const struct fw_rc_link *l)
{
	/* The backend's word first: it is written with the offer it spoils
	 * (one transaction), so an offer is never seen without it. */
	if (v->has_error)
		return fw_rc_refusal_transient(v->refusal) ? FW_RC_WAIT : FW_RC_REFUSED;
	if (v->be_state == ST_CONNECTED)
		return our_offer_stands(v, l) ? FW_RC_CONNECTED : FW_RC_WAIT;
	if (v->be_state != ST_INITWAIT || !v->has_params)
		return FW_RC_WAIT;   /* no backend, or one that has not offered yet */
	if (our_offer_stands(v, l) && v->fe_state == ST_INITIALISED)
		return FW_RC_WAIT;   /* this backend has not taken it yet */
	return params_fit(v, l) ? FW_RC_OFFER : FW_RC_PARAMS;
}
