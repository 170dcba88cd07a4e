/* The service the echo application announces (an OpenAMP demo keeps its
 * service name in its own header). xenamp-echo-client looks for
 * "rpmsg-echo". */
#ifndef RPMSG_ECHO_H
#define RPMSG_ECHO_H

#define RPMSG_SERVICE_NAME "rpmsg-echo"

#endif
