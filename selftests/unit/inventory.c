// SPDX-License-Identifier: GPL-2.0
/* An engine's containers: full listings, targeted updates after events. */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "inventory.h"

#define ID_A "aaaa000000000000000000000000000000000000000000000000000000000001"
#define ID_B "bbbb000000000000000000000000000000000000000000000000000000000002"
#define ID_C "cccc000000000000000000000000000000000000000000000000000000000003"

static struct json_object *listing(const char *json)
{
	return json_tokener_parse(json);
}

static const struct docker_container *find(const struct inventory *inv,
					   const char *id)
{
	size_t i;

	for (i = 0; i < inv->n; i++)
		if (!strcmp(inv->v[i].id, id))
			return &inv->v[i];
	return NULL;
}

TEST(listing_then_targeted_updates)
{
	struct inventory inv = { 0 };
	struct json_object *o;

	o = listing("[{\"Id\":\"" ID_A "\",\"Names\":[\"/a\"],\"State\":\"running\"},"
		    "{\"Id\":\"" ID_B "\",\"Names\":[\"/b\"],\"State\":\"exited\"}]");
	ASSERT_EQ(0, inventory_replace(&inv, o));
	json_object_put(o);
	ASSERT_EQ(2U, inv.n);
	EXPECT_STREQ("a", find(&inv, ID_A)->name);

	/* b started, c created, a removed: three events, three refreshes. */
	ASSERT_EQ(0, inventory_want(&inv, ID_B));
	ASSERT_EQ(0, inventory_want(&inv, ID_C));
	ASSERT_EQ(0, inventory_want(&inv, ID_B));
	ASSERT_EQ(0, inventory_want(&inv, ID_A));
	EXPECT_EQ(3U, inv.npending);
	EXPECT_STREQ(ID_B, inventory_next(&inv));

	o = listing("[{\"Id\":\"" ID_B "\",\"Names\":[\"/b\"],\"State\":\"running\"}]");
	ASSERT_EQ(0, inventory_update(&inv, o));
	json_object_put(o);
	EXPECT_STREQ("running", find(&inv, ID_B)->state);
	EXPECT_STREQ(ID_C, inventory_next(&inv));

	o = listing("[{\"Id\":\"" ID_C "\",\"Names\":[\"/c\"],\"State\":\"created\"}]");
	ASSERT_EQ(0, inventory_update(&inv, o));
	json_object_put(o);
	EXPECT_EQ(3U, inv.n);

	o = listing("[]");
	ASSERT_EQ(0, inventory_update(&inv, o));
	json_object_put(o);
	EXPECT_EQ(2U, inv.n);
	EXPECT_EQ(NULL, find(&inv, ID_A));
	EXPECT_EQ(NULL, inventory_next(&inv));
	EXPECT_EQ(NULL, inv.pending);
	EXPECT_EQ(-EINVAL, inventory_update(&inv, o));
	inventory_clear(&inv);
}

TEST(bad_ids_refused_and_bursts_bounded)
{
	struct inventory inv = { 0 };
	char id[DOCKER_ID_MAX];
	int i;

	EXPECT_EQ(-EINVAL, inventory_want(&inv, "../../etc"));
	EXPECT_EQ(-EINVAL, inventory_want(&inv, ""));
	for (i = 0; i < INVENTORY_MAX_PENDING; i++) {
		snprintf(id, sizeof(id), "%064x", i);
		ASSERT_EQ(0, inventory_want(&inv, id));
	}
	EXPECT_EQ(-ENOSPC, inventory_want(&inv, ID_A));
	inventory_clear(&inv);
	EXPECT_EQ(0U, inv.npending);
}

TEST(a_bad_listing_changes_nothing)
{
	struct inventory inv = { 0 };
	struct json_object *o;

	o = listing("[{\"Id\":\"" ID_A "\"}]");
	ASSERT_EQ(0, inventory_replace(&inv, o));
	json_object_put(o);
	o = listing("[{\"Id\":\"" ID_B "\"},{\"Id\":42}]");
	EXPECT_EQ(-EPROTO, inventory_replace(&inv, o));
	json_object_put(o);
	ASSERT_EQ(1U, inv.n);
	EXPECT_NE(NULL, find(&inv, ID_A));
	inventory_clear(&inv);
}

TEST_HARNESS_MAIN
