/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PEERWATCH_GENL_H
#define _PEERWATCH_GENL_H

#include <net/genetlink.h>

enum pw_mcgrp {
	PW_MCGRP_EVENTS,
};

extern struct genl_family pw_genl_family;

int pw_genl_init(void);
void pw_genl_exit(void);

#endif /* _PEERWATCH_GENL_H */
