/* The matrix-multiply demo's wire format and service name (an OpenAMP
 * demo keeps them in its own header). Both sides of a link run on the
 * same kind of machine here: host byte order. */
#ifndef MATRIX_MULTIPLY_H
#define MATRIX_MULTIPLY_H

#define RPMSG_SERVICE_NAME "rpmsg-openamp-demo-channel"

#define MAX_SIZE   6
#define NUM_MATRIX 2

typedef struct _matrix {
	unsigned int size;
	unsigned int elements[MAX_SIZE][MAX_SIZE];
} matrix;

#endif
