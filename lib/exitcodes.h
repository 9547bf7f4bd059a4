/*
 * Exit statuses of every sluice program, from sysexits(3), so that a
 * pipeline can tell "retry later" from "fix your data".
 */
#ifndef EXITCODES_H
#define EXITCODES_H

#include <sysexits.h>

#define EXIT_SIGPIPE	141	/* what the shell reports after SIGPIPE */

#endif
