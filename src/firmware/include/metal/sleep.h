/* libmetal's <metal/sleep.h> for the firmware: sleeps on Xen's clock
 * (the runtime's fw_sleep_ms, a SCHEDOP_poll with a timeout), rounded
 * up to whole milliseconds. Nothing is delivered meanwhile: RPMsg
 * callbacks run only inside platform_poll(). */
#ifndef XENAMP_FW_METAL_SLEEP_H
#define XENAMP_FW_METAL_SLEEP_H

#include <stdint.h>

void fw_sleep_ms(uint32_t ms);   /* the runtime's (fw.h) */

/* 0, as libmetal's. */
static inline int metal_sleep_usec(unsigned int usec)
{
	fw_sleep_ms((uint32_t)((usec + 999u) / 1000u));
	return 0;
}

#endif
