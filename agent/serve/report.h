/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_REPORT_H
#define PEERWATCH_REPORT_H

#include <stdint.h>

struct fleet;

/* What the agent shows until the control API exists. */
struct report {
	uint64_t last_ms;
	uint64_t last_requests;
	uint64_t last_errors;
};

/* One line: engines by state, connections, requests/s, errors. */
void report_summary(struct report *r, const struct fleet *f, uint64_t now_ms);
/* Every node as JSON, written to @path atomically (temp file + rename). */
int report_dump(const struct fleet *f, const char *path);

#endif
