/* Human-readable names for the core's error codes. */
#include "xa_error.h"

const char *xa_strerror(int err)
{
	switch (err) {
	case XA_OK:
		return "success";
	case XA_EMPTY:
		return "nothing available";
	case XA_ERR_RING_PARAM:
		return "invalid ring parameters";
	case XA_ERR_RING_PLACE:
		return "ring does not fit in the region";
	case XA_ERR_AVAIL_IDX:
		return "avail index ran ahead by more than the ring size";
	case XA_ERR_DESC_ID:
		return "descriptor id out of range";
	case XA_ERR_DESC_RANGE:
		return "descriptor buffer outside the region";
	case XA_ERR_DESC_LOOP:
		return "descriptor chain loops";
	case XA_ERR_DESC_FLAGS:
		return "invalid descriptor flags";
	case XA_ERR_CHAIN_LONG:
		return "descriptor chain too long";
	case XA_ERR_DESC_LEN:
		return "zero-length descriptor";
	case XA_ERR_USED_IDX:
		return "used index ran ahead by more than the ring size";
	case XA_ERR_USED_ID:
		return "used element names a descriptor not in flight";
	case XA_ERR_USED_LEN:
		return "used length larger than the buffer";
	case XA_ERR_RING_FULL:
		return "no free descriptor";
	case XA_ERR_MSG_SHORT:
		return "message shorter than the RPMsg header";
	case XA_ERR_MSG_LEN:
		return "message length runs past the buffer";
	case XA_ERR_NS_NAME:
		return "invalid name-service name";
	case XA_ERR_NS_FLAGS:
		return "invalid name-service flags";
	case XA_ERR_NS_SIZE:
		return "name-service message of the wrong size";
	case XA_ERR_ADDR_FULL:
		return "no free endpoint address";
	case XA_ERR_ADDR_RANGE:
		return "endpoint address out of range";
	case XA_ERR_ADDR_BUSY:
		return "endpoint address already in use";
	case XA_ERR_RSC:
		return "invalid resource table";
	default:
		return "unknown error";
	}
}
