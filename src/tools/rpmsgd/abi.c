/* The pure parts of the rpmsg character-device ABI (abi.h). */
#include <errno.h>
#include <string.h>

#include <linux/rpmsg.h>

#include <xenamp/rpmsg.h>

#include "tools/rpmsgd/abi.h"

_Static_assert(sizeof(struct rpmsg_endpoint_info) == RD_NAME_SIZE + 8,
	       "struct rpmsg_endpoint_info is name[32], src, dst");
_Static_assert(RD_NAME_SIZE == RPMSG_NAME_SIZE, "one name size");

enum rd_ioc rd_ioc_kind(unsigned cmd, bool ctrl)
{
	if (ctrl) {
		if (cmd == (unsigned)RPMSG_CREATE_EPT_IOCTL)
			return RD_IOC_CREATE_EPT;
#ifdef RPMSG_CREATE_DEV_IOCTL
		if (cmd == (unsigned)RPMSG_CREATE_DEV_IOCTL)
			return RD_IOC_CREATE_DEV;
#endif
#ifdef RPMSG_RELEASE_DEV_IOCTL
		if (cmd == (unsigned)RPMSG_RELEASE_DEV_IOCTL)
			return RD_IOC_RELEASE_DEV;
#endif
		return RD_IOC_UNKNOWN;
	}
	if (cmd == (unsigned)RPMSG_DESTROY_EPT_IOCTL)
		return RD_IOC_DESTROY_EPT;
#ifdef RPMSG_SET_INCOMING_FLOWCONTROL
	if (cmd == (unsigned)RPMSG_SET_INCOMING_FLOWCONTROL)
		return RD_IOC_SET_INCOMING_FLOWCONTROL;
#endif
#ifdef RPMSG_GET_OUTGOING_FLOWCONTROL
	if (cmd == (unsigned)RPMSG_GET_OUTGOING_FLOWCONTROL)
		return RD_IOC_GET_OUTGOING_FLOWCONTROL;
#endif
	return RD_IOC_UNKNOWN;
}

size_t rd_ioc_in_size(enum rd_ioc kind)
{
	switch (kind) {
	case RD_IOC_CREATE_EPT:
	case RD_IOC_CREATE_DEV:
	case RD_IOC_RELEASE_DEV:
		return sizeof(struct rpmsg_endpoint_info);
	case RD_IOC_SET_INCOMING_FLOWCONTROL:
		return sizeof(int);
	default:
		return 0;
	}
}

int rd_parse_eptinfo(const void *in, size_t in_len, struct rd_chinfo *out)
{
	struct rpmsg_endpoint_info info;

	if (in == NULL || in_len != sizeof(info))
		return -EINVAL;
	/* One copy: the client's buffer is read once. */
	memcpy(&info, in, sizeof(info));
	memset(out, 0, sizeof(*out));
	memcpy(out->name, info.name, RD_NAME_SIZE - 1);
	out->name[RD_NAME_SIZE - 1] = '\0';
	out->src = info.src;
	out->dst = info.dst;
	return 0;
}

bool rd_chinfo_match(const struct rd_chinfo *pattern, const struct rd_chinfo *ch)
{
	if (pattern->src != RD_ADDR_ANY && pattern->src != ch->src)
		return false;
	if (pattern->dst != RD_ADDR_ANY && pattern->dst != ch->dst)
		return false;
	return strncmp(pattern->name, ch->name, RD_NAME_SIZE) == 0;
}

size_t rd_read_len(size_t want, size_t msg_len)
{
	return want < msg_len ? want : msg_len;
}

int rd_write_check(size_t len, int payload_max)
{
	if (payload_max < 0 || len > (size_t)payload_max)
		return -EMSGSIZE;
	return 0;
}

int rd_errno_from_rpmsg(int rpmsg_err)
{
	switch (rpmsg_err) {
	case RPMSG_ERR_NO_MEM:
		return -ENOMEM;
	case RPMSG_ERR_NO_BUFF:
		return -EAGAIN;
	case RPMSG_ERR_PARAM:
		return -EINVAL;
	case RPMSG_ERR_DEV_STATE:
		return -EPIPE;
	case RPMSG_ERR_BUFF_SIZE:
		return -EMSGSIZE;
	case RPMSG_ERR_ADDR:
		return -EADDRINUSE;
	case RPMSG_ERR_PERM:
		return -EPERM;
	case RPMSG_EOPNOTSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

void rd_safe_name(const char *name, size_t maxlen, char *out, size_t outlen)
{
	size_t i, n = 0;

	if (outlen == 0)
		return;
	for (i = 0; i < maxlen && name[i] != '\0' && n + 1 < outlen; i++) {
		unsigned char c = (unsigned char)name[i];

		out[n++] = (c > ' ' && c < 0x7f && c != '\\') ? (char)c : '?';
	}
	if (n == 0 && outlen > 1)
		out[n++] = '-';
	out[n] = '\0';
}
