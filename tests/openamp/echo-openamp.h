/* Service name of the echo application (as an OpenAMP demo keeps it in
 * its own rpmsg-echo.h). xenamp's echo client looks for "rpmsg-echo". */
#ifndef ECHO_OPENAMP_H
#define ECHO_OPENAMP_H

#define RPMSG_SERVICE_NAME "rpmsg-echo"

#endif
