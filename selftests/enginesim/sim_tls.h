/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_SIM_TLS_H
#define ENGINESIM_SIM_TLS_H

#include "sim.h"

struct tls;
struct transport;

int tls_new(const struct sim_opts *o, struct tls **out);
void tls_free(struct tls *t);
int tls_conn_init(struct tls *t, int fd, const struct transport **tr,
		  void **ctx);

#endif
