/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PEERWATCH_GENL_H
#define _PEERWATCH_GENL_H

int pw_genl_init(void);
void pw_genl_exit(void);

#endif /* _PEERWATCH_GENL_H */
