/* libmetal compatibility: <metal/list.h>, circular doubly linked lists.
 * struct metal_list itself is defined once, in <xenamp/rpmsg.h> (the
 * endpoint list of a device is one). */
#ifndef XENAMP_COMPAT_METAL_LIST_H
#define XENAMP_COMPAT_METAL_LIST_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef XENAMP_METAL_LIST_DEFINED
#define XENAMP_METAL_LIST_DEFINED
struct metal_list {
	struct metal_list *next, *prev;
};
#endif

#define METAL_INIT_LIST(name) { .next = &(name), .prev = &(name) }
#define METAL_DECLARE_LIST(name) struct metal_list name = METAL_INIT_LIST(name)

static inline void metal_list_init(struct metal_list *list)
{
	list->next = list->prev = list;
}

/* Insert new_node just before node. */
static inline void metal_list_add_before(struct metal_list *node,
					 struct metal_list *new_node)
{
	new_node->prev = node->prev;
	new_node->next = node;
	node->prev->next = new_node;
	node->prev = new_node;
}

static inline void metal_list_add_after(struct metal_list *node,
					struct metal_list *new_node)
{
	metal_list_add_before(node->next, new_node);
}

static inline void metal_list_add_head(struct metal_list *list,
				       struct metal_list *node)
{
	metal_list_add_after(list, node);
}

static inline void metal_list_add_tail(struct metal_list *list,
				       struct metal_list *node)
{
	metal_list_add_before(list, node);
}

static inline int metal_list_is_empty(struct metal_list *list)
{
	return list->next == list;
}

/* Unlink node; it is left pointing at itself. */
static inline void metal_list_del(struct metal_list *node)
{
	node->next->prev = node->prev;
	node->prev->next = node->next;
	node->next = node->prev = node;
}

static inline struct metal_list *metal_list_first(struct metal_list *list)
{
	return metal_list_is_empty(list) ? NULL : list->next;
}

#define metal_list_for_each(list, node) \
	for ((node) = (list)->next; (node) != (list); (node) = (node)->next)

/* node may be deleted in the body. */
#define metal_list_for_each_safe(list, temp, node) \
	for ((node) = (list)->next, (temp) = (node)->next; (node) != (list); \
	     (node) = (temp), (temp) = (node)->next)

static inline bool metal_list_find_node(struct metal_list *list,
					struct metal_list *node)
{
	struct metal_list *n;

	metal_list_for_each(list, n)
		if (n == node)
			return true;
	return false;
}

#ifdef __cplusplus
}
#endif

#endif
