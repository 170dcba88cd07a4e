# shellcheck shell=dash
# Guest side of scenario-churn.sh (the churn verb of domu-xenamp.sh),
# installed in the domU image as /opt/xenamp/domu-churn.sh:
#
#   sh domu-churn.sh DEVNO SECS [DIR]
#
# A hostile frontend: xs-churn rewrites device DEVNO's num-pages,
# ring-refs and event-channel and flips its state between Initialised
# and Initialising for SECS seconds, as fast as xenstore answers (one
# request per write: see xs-churn.c). With DIR (the control run), the
# same writes go to DIR, which the backend does not watch: the same load
# on the guest and on dom0's xenstored.
/opt/xenamp/bin/xs-churn "${3:-device/rpmsg/$1}" "$2"
