// Topic name, topic filter and UTF-8 string rules (spec 1.5.4, 4.7).
#pragma once

#include <string_view>

namespace meshmq::codec {

// Well-formed UTF-8, no U+0000, no surrogates [MQTT-1.5.4-1], [MQTT-1.5.4-2].
bool IsValidUtf8(std::string_view s);

// Non-empty, no wildcards [MQTT-4.7.3-1], [MQTT-3.3.2-2]. Does not check UTF-8.
bool IsValidTopicName(std::string_view topic);

// Non-empty; '#' only last and alone in its level; '+' alone in its level [MQTT-4.7.1-1..3].
// `$share/{group}/{filter}` is accepted when the group is non-empty, has no wildcard and the
// filter is valid [MQTT-4.8.2-1], [MQTT-4.8.2-2].
bool IsValidTopicFilter(std::string_view filter);

// Shared subscription parsing: for "$share/g/a/b" sets group="g", filter="a/b" and returns true.
bool ParseSharedFilter(std::string_view filter, std::string_view& group, std::string_view& inner);

// True when `filter` matches `topic` (both valid). '$' topics are not matched by a leading
// wildcard [MQTT-4.7.2-1].
bool TopicMatches(std::string_view filter, std::string_view topic);

}  // namespace meshmq::codec
