// The --help text, generated from the option table so it can never miss a flag.
#pragma once

#include <string>

namespace meshmq::config::internal {

std::string HelpText();

}  // namespace meshmq::config::internal
