/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PEERWATCH_HOOKS_H
#define _PEERWATCH_HOOKS_H

int pw_hooks_init(unsigned int fail_step);
void pw_hooks_exit(void);

#endif /* _PEERWATCH_HOOKS_H */
