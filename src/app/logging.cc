#include "app/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace meshmq::app {

void SetUpLogging(const config::Config& config) {
  // A host program may create several Servers: the second one reuses the logger (spdlog throws
  // on a second registration of the same name).
  auto logger = spdlog::get("meshmq");
  if (!logger) logger = spdlog::stderr_color_mt("meshmq");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  if (config.log_format == "json") {
    spdlog::set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","node":")" + config.node_id +
        R"(","thread":%t,"msg":"%v"})");
  } else {
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [" + config.node_id + "] %v");
  }
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace meshmq::app
