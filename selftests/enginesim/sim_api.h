/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_SIM_API_H
#define ENGINESIM_SIM_API_H

struct conn;

int api_feed(struct conn *c);

#endif
