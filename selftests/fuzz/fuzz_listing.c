// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the streaming parser of /containers/json
 * (agent/watch/listing.c), a new input boundary, checked against the
 * json-c path it replaced (selftests/unit/listing_diff.h): for any body,
 * both refuse it or both take the same containers, and what is taken is
 * bounded as docker.h says.
 *
 * Input: one control byte, the size of the pieces the body arrives in (0:
 * at once), then the body.
 */
#include "../unit/listing_diff.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docker_container *v;
	unsigned int lenient = 0;
	char *body, id[DOCKER_ID_MAX];
	size_t i, n;

	if (!size)
		return 0;
	body = fuzz_piece(data + 1, size - 1);
	fuzz_assert(!listing_diff(body, size - 1, data[0], &lenient));
	if (!diff_new(body, size - 1, data[0], false, &v, &n)) {
		for (i = 0; i < n; i++) {
			fuzz_assert(docker_id_valid(
					    docker_container_id(&v[i], id)));
			fuzz_assert(strlen(docker_container_name(&v[i])) <
				    DOCKER_NAME_MAX);
			fuzz_assert(strlen(docker_container_command(&v[i])) <
				    DOCKER_COMMAND_MAX);
			fuzz_assert(strlen(docker_container_status(&v[i])) <
				    DOCKER_STATUS_MAX);
			fuzz_assert(v[i].labels_len <= DOCKER_LABELS_BYTES);
			fuzz_assert(v[i].nlabels <= DOCKER_MAX_LABELS);
		}
		docker_containers_free(v, n);
	}
	free(body);
	return 0;
}
