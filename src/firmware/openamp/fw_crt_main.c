/* Start file of a firmware written as a C program: the runtime calls
 * fw_main(); this one calls the application's main(argc, argv), with
 * argv[0] "xenamp-fw" and the rest the words of the domain's command
 * line (xl's extra=, split at spaces; at most FW_CRT_MAX_ARGS in all).
 * main's return value is fw_main's: 0 powers the domain off, anything
 * else crashes it. A firmware that defines fw_main itself never pulls
 * this object out of libxenamp-fw.a. */
#include <stddef.h>

#include "firmware/runtime/fw.h"

#define FW_CRT_MAX_ARGS 16

int main(int argc, char *argv[]);

static char args[sizeof(((struct fw_info *)0)->cmdline)];
static char *argv_store[FW_CRT_MAX_ARGS + 1];

/* Split args in place at spaces; returns argc. */
static int split_cmdline(void)
{
	int argc = 0;
	char *s = args;

	argv_store[argc++] = "xenamp-fw";
	while (*s != '\0' && argc < FW_CRT_MAX_ARGS) {
		while (*s == ' ')
			*s++ = '\0';
		if (*s == '\0')
			break;
		argv_store[argc++] = s;
		while (*s != '\0' && *s != ' ')
			s++;
		if (*s == ' ')
			*s++ = '\0';   /* ends the word even when it is the last one */
	}
	argv_store[argc] = NULL;
	return argc;
}

int fw_main(void)
{
	const char *cmdline = fw_info()->cmdline;
	size_t n = strnlen(cmdline, sizeof(args) - 1);

	memcpy(args, cmdline, n);
	args[n] = '\0';
	return main(split_cmdline(), argv_store);
}
