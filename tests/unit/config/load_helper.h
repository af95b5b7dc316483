// Runs config::Load on argv/environment given as strings, as main() would receive them.
#pragma once

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "gtest/gtest.h"

namespace meshmq::config::testing_util {

inline LoadResult LoadWith(std::vector<std::string> args,
                           const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), "meshmq");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  std::vector<const char*> envp;
  for (const std::string& e : env) envp.push_back(e.c_str());
  envp.push_back(nullptr);
  return Load(static_cast<int>(args.size()), argv.data(), envp.data());
}

// Writes `text` to a fresh file under the test's temp dir and returns its path. The process id is
// part of the name: CTest runs each test as its own process, several at once.
inline std::string WriteTempFile(const std::string& name, const std::string& text) {
  static int counter = 0;
  std::string path = ::testing::TempDir() + "meshmq_config_" + std::to_string(::getpid()) + "_" +
                     std::to_string(++counter) + "_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace meshmq::config::testing_util
