/* Bounded message FIFO (msgq.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/rpmsgd/msgq.h"

void rd_msgq_init(struct rd_msgq *q, unsigned max)
{
	memset(q, 0, sizeof(*q));
	q->max = max > 0 ? max : 1;
}

int rd_msgq_push(struct rd_msgq *q, const void *data, size_t len)
{
	struct rd_msg *m;

	if (q->count >= q->max) {
		q->drops++;
		return -ENOBUFS;
	}
	m = malloc(sizeof(*m) + len);
	if (m == NULL) {
		q->drops++;
		return -ENOMEM;
	}
	m->next = NULL;
	m->len = len;
	if (len > 0)
		memcpy(m->data, data, len);
	if (q->tail != NULL)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->count++;
	q->bytes += len;
	return 0;
}

struct rd_msg *rd_msgq_pop(struct rd_msgq *q)
{
	struct rd_msg *m = q->head;

	if (m == NULL)
		return NULL;
	q->head = m->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->count--;
	q->bytes -= m->len;
	m->next = NULL;
	return m;
}

void rd_msgq_clear(struct rd_msgq *q)
{
	struct rd_msg *m;

	while ((m = rd_msgq_pop(q)) != NULL)
		free(m);
}
