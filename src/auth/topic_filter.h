// MQTT topic-filter algebra for the ACL: does one filter match, cover or overlap another.
//
// Levels are split on '/'. '+' is one whole level, '#' is the rest (including the parent level:
// "a/#" matches "a") [MQTT-4.7.1-2]. Wildcards in the first level never match a topic that
// starts with '$' [MQTT-4.7.2-1], so "#" does not reach "$SYS/...". Pure functions, any thread.
#pragma once

#include <string_view>

namespace meshmq::auth {

// True when every topic that `requested` can match is also matched by `rule`. A topic name
// (no wildcards) is a filter matching exactly itself, so FilterCovers(filter, topic) is the
// ordinary "filter matches topic" test. Examples: "a/#" covers "a/b/c", "a/+/c" and "a";
// "a/+" does not cover "a/#"; "#" covers "+/x" but not "$SYS/#".
bool FilterCovers(std::string_view rule, std::string_view requested);

// True when at least one topic is matched by both filters ("a/+" and "+/b" overlap on "a/b").
bool FiltersOverlap(std::string_view a, std::string_view b);

// True for a syntactically valid filter: non-empty, '#' only as the whole last level, '+' only
// as a whole level [MQTT-4.7.1-1] [MQTT-4.7.1-3].
bool IsValidFilter(std::string_view filter);

// "$share/group/a/b" -> "a/b" [MQTT-4.8.2-1]; other filters unchanged. The ACL judges the topic
// filter a shared subscription delivers, not the group name.
std::string_view StripSharePrefix(std::string_view filter);

}  // namespace meshmq::auth
