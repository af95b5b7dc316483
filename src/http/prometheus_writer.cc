#include "http/prometheus_writer.h"

#include <charconv>
#include <cmath>

namespace meshmq::http {

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Integral values (all counters, most gauges) print exactly, without an exponent.
  if (value == std::floor(value) && std::fabs(value) < 9.0e15) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(value));
    return std::string(buf, end);
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);  // shortest round-trip form
  return std::string(buf, end);
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  // HELP text escapes only backslash and newline.
  std::string escaped;
  for (char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  out_.append("# HELP ").append(name).append(" ").append(escaped).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusWriter::Sample(std::string_view name, const Labels& labels, double value) {
  out_.append(name);
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out_ += ',';
      out_.append(labels[i].first).append("=\"").append(EscapeLabelValue(labels[i].second));
      out_ += '"';
    }
    out_ += '}';
  }
  out_.append(" ").append(FormatValue(value)).append("\n");
}

void PrometheusWriter::Counter(std::string_view name, std::string_view help, double value) {
  Family(name, "counter", help);
  Sample(name, value);
}

void PrometheusWriter::Gauge(std::string_view name, std::string_view help, double value) {
  Family(name, "gauge", help);
  Sample(name, value);
}

void PrometheusWriter::Histogram(std::string_view name, std::string_view help,
                                 const std::vector<double>& bounds,
                                 const std::vector<uint64_t>& buckets, const double* sum) {
  Family(name, "histogram", help);
  std::string bucket_name = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < buckets.size() ? buckets[i] : 0;
    std::string le = i < bounds.size() ? FormatValue(bounds[i]) : "+Inf";
    Sample(bucket_name, {{"le", le}}, static_cast<double>(cumulative));
  }
  if (sum != nullptr) Sample(std::string(name) + "_sum", *sum);
  Sample(std::string(name) + "_count", static_cast<double>(cumulative));
}

}  // namespace meshmq::http
