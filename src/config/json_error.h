// nlohmann::json parse errors made safe to show: the parser quotes the text it choked on
// ("last read: '...'"), which may be part of a secret in the config file, so that is cut out.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace meshmq::config::internal {

// "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error while parsing
// object - invalid literal; last read: 'tru,'; expected ..." becomes "parse error at line 3,
// column 5: syntax error while parsing object - invalid literal; expected ...".
std::string SanitizeJsonError(absl::string_view what);

}  // namespace meshmq::config::internal
