#include "auth/topic_filter.h"

#include <vector>

#include "auth/text.h"

namespace meshmq::auth {
namespace {

std::vector<std::string_view> Levels(std::string_view filter) { return Split(filter, '/'); }

bool IsDollar(std::string_view level) { return !level.empty() && level[0] == '$'; }

// Can rule level `r` match every topic level that requested level `q` can match, at depth `i`?
// '#' is handled by the callers because it spans levels.
bool LevelCovers(std::string_view r, std::string_view q, size_t i) {
  if (r == "+") return q == "+" || !(i == 0 && IsDollar(q));  // [MQTT-4.7.2-1]
  return q != "+" && r == q;
}

// Is there one topic level matched by both `a` and `b` at depth `i`? ('#' handled by callers.)
bool LevelsMeet(std::string_view a, std::string_view b, size_t i) {
  if (a == "+" && b == "+") return true;
  if (a == "+") return !(i == 0 && IsDollar(b));
  if (b == "+") return !(i == 0 && IsDollar(a));
  return a == b;
}

}  // namespace

bool FilterCovers(std::string_view rule, std::string_view requested) {
  const std::vector<std::string_view> r = Levels(rule);
  const std::vector<std::string_view> q = Levels(requested);
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] == "#") {
      // "#" covers the rest, parent level included; only "$..." at the top escapes it.
      return !(i == 0 && IsDollar(q[0]));
    }
    if (i >= q.size()) return false;  // rule needs more levels than the request has
    if (q[i] == "#") return false;    // request spans any depth, rule does not
    if (!LevelCovers(r[i], q[i], i)) return false;
  }
  return r.size() == q.size();
}

bool FiltersOverlap(std::string_view a, std::string_view b) {
  const std::vector<std::string_view> x = Levels(a);
  const std::vector<std::string_view> y = Levels(b);
  for (size_t i = 0;; ++i) {
    const bool x_done = i >= x.size();
    const bool y_done = i >= y.size();
    if (x_done && y_done) return true;
    if (x_done) return y[i] == "#";  // "a" and "a/#" share the topic "a"
    if (y_done) return x[i] == "#";
    if (x[i] == "#" && y[i] == "#") return true;  // both reach any non-$ topic
    if (x[i] == "#") return !(i == 0 && IsDollar(y[i]));
    if (y[i] == "#") return !(i == 0 && IsDollar(x[i]));
    if (!LevelsMeet(x[i], y[i], i)) return false;
  }
}

bool IsValidFilter(std::string_view filter) {
  if (filter.empty()) return false;
  const std::vector<std::string_view> levels = Levels(filter);
  for (size_t i = 0; i < levels.size(); ++i) {
    const std::string_view level = levels[i];
    if (level == "#") {
      if (i + 1 != levels.size()) return false;  // [MQTT-4.7.1-1]
    } else if (level != "+" && level.find_first_of("+#") != std::string_view::npos) {
      return false;  // [MQTT-4.7.1-1] [MQTT-4.7.1-3]
    }
  }
  return true;
}

std::string_view StripSharePrefix(std::string_view filter) {
  constexpr std::string_view kShare = "$share/";
  if (!filter.starts_with(kShare)) return filter;
  const std::string_view rest = filter.substr(kShare.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return filter;  // malformed; the codec rejects it
  return rest.substr(slash + 1);
}

}  // namespace meshmq::auth
