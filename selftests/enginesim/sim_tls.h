/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_SIM_TLS_H
#define ENGINESIM_SIM_TLS_H

#include "sim.h"

struct conn;
struct tls;

int tls_new(const struct sim_opts *o, struct tls **out);
void tls_free(struct tls *t);
int tls_conn_init(struct tls *t, struct conn *c);

#endif
