// spdlog set-up from the configuration: level and text or JSON-lines format.
#pragma once

#include "config/config.h"

namespace meshmq::app {

void SetUpLogging(const config::Config& config);

}  // namespace meshmq::app
