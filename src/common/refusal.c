/* The refusal codes on the wire and the one retry decision (refusal.h). */
#include <config.h>

#include <errno.h>
#include <stdlib.h>

#include "common/refusal.h"
#include "core/xa_error.h"

bool xa_refusal_retry(int code)
{
	switch (code) {
	case XA_REFUSE_BUSY:
	case XA_REFUSE_LIMIT:
	case XA_REFUSE_SHUTDOWN:
		return true;
	default:
		return false;   /* final, and so is any code we do not know */
	}
}

int xa_refusal_errno(int code)
{
	if (code == XA_REFUSE_NONE)
		return -ECONNRESET;
	return xa_refusal_retry(code) ? -EAGAIN : -EPERM;
}

const char *xa_refusal_name(int code)
{
	switch (code) {
	case XA_REFUSE_NONE: return "closed";
	case XA_REFUSE_NO_LINK: return "no link names this end";
	case XA_REFUSE_PROTOCOL: return "protocol violation";
	case XA_REFUSE_REGION: return "invalid region";
	case XA_REFUSE_RING: return "virtqueue fault";
	case XA_REFUSE_MESSAGE: return "malformed message";
	case XA_REFUSE_PARAMS: return "link parameters differ";
	case XA_REFUSE_DENIED: return "not allowed";
	case XA_REFUSE_QUOTA: return "over a per-end limit";
	case XA_REFUSE_BUSY: return "end busy";
	case XA_REFUSE_LIMIT: return "backend at a limit";
	case XA_REFUSE_SHUTDOWN: return "backend stopping";
	default: return "unknown refusal";
	}
}

int xa_refusal_of_core(int xa_err)
{
	/* Ranges fixed in core/xa_error.h: ring layout -1..-2, device side
	 * -10..-16, driver side -20..-23, RPMsg -30..-37, resource table -40. */
	if (xa_err == XA_ERR_RING_PARAM || xa_err == XA_ERR_RING_PLACE ||
	    xa_err == XA_ERR_RSC)
		return XA_REFUSE_REGION;
	if (xa_err <= XA_ERR_AVAIL_IDX && xa_err >= XA_ERR_RING_FULL)
		return XA_REFUSE_RING;
	if (xa_err <= XA_ERR_MSG_SHORT && xa_err >= XA_ERR_ADDR_BUSY)
		return XA_REFUSE_MESSAGE;
	return xa_err == XA_OK ? XA_REFUSE_NONE : XA_REFUSE_PROTOCOL;
}

int xa_refusal_of_errno(int neg_errno)
{
	switch (neg_errno) {
	case 0: return XA_REFUSE_NONE;
	case -ENOENT: return XA_REFUSE_NO_LINK;
	case -EBUSY: return XA_REFUSE_BUSY;
	case -EPERM: case -EACCES: return XA_REFUSE_DENIED;
	case -EDQUOT: return XA_REFUSE_QUOTA;
	case -ENOMEM: case -EMFILE: case -ENFILE: case -ENOSPC: case -EUSERS:
		return XA_REFUSE_LIMIT;
	case -ESHUTDOWN: return XA_REFUSE_SHUTDOWN;
	case -EBADF: case -EBADFD: case -EFAULT: case -ERANGE: case -EXDEV:
		return XA_REFUSE_REGION;
	default:
		return XA_REFUSE_PROTOCOL;   /* -EPROTO, -EINVAL, -EMSGSIZE... */
	}
}

int xa_refusal_parse(const char *value, const char **text)
{
	char *end;
	long code;

	*text = value;
	if (value[0] < '0' || value[0] > '9')
		return XA_REFUSE_PROTOCOL;
	code = strtol(value, &end, 10);
	if (code <= 0 || code > 255 || (*end != ' ' && *end != '\0'))
		return XA_REFUSE_PROTOCOL;
	*text = *end == ' ' ? end + 1 : end;
	return (int)code;
}
