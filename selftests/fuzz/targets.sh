# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# Sourced by run.sh and smoke.sh: what each libFuzzer target is given.

# fuzz_dict NAME: the -dict= option for a target, if it has a dictionary.
fuzz_dict() {
	case $1 in
	http)		echo "-dict=selftests/fuzz/http.dict" ;;
	docker|jsonl|etcd|etcdv2|listing) echo "-dict=selftests/fuzz/json.dict" ;;
	discovery)	echo "-dict=selftests/fuzz/discovery.dict" ;;
	api)		echo "-dict=selftests/fuzz/api.dict" ;;
	esac
}

# Options every run shares: a unit slower than 10 s or above 2 GiB is a
# finding; one process, as the machine is shared.
# shellcheck disable=SC2034 # used by the scripts that source this
FUZZ_OPTS="-timeout=10 -rss_limit_mb=2048 -print_final_stats=1"
