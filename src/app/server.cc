// meshmq::Server (include/meshmq/server.h): the public face of a Node for host programs.
#include "meshmq/server.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "app/logging.h"
#include "app/node.h"
#include "broker/message.h"
#include "codec/topic_rules.h"
#include "config/config.h"

namespace meshmq {

struct Server::Impl {
  std::unique_ptr<app::Node> node;
  std::mutex mu;
  std::condition_variable cv;
  bool running = false;
  bool stopped = false;  // Stop() began
  bool done = false;     // Stop() finished
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

std::unique_ptr<Server> Server::Create(const std::map<std::string, std::string>& config,
                                       std::string* error) {
  // The same parser, checks and messages as the executable: each key becomes a flag.
  std::vector<std::string> args{"meshmq"};
  for (const auto& [key, value] : config) {
    std::string flag = key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    args.push_back("--" + flag + "=" + value);
  }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  const char* const no_env[] = {nullptr};
  config::LoadResult loaded = config::Load(static_cast<int>(args.size()), argv.data(), no_env);
  if (loaded.exit_now) {
    if (error != nullptr) {
      *error = !loaded.error.empty() ? loaded.error
                                     : "meshmq: --help, --version and --print-config do not start a server";
    }
    return nullptr;
  }
  app::SetUpLogging(loaded.config);
  auto impl = std::make_unique<Impl>();
  impl->node = std::make_unique<app::Node>(std::move(loaded.config));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::AddHook(std::shared_ptr<Hook> hook) { impl_->node->broker().hooks().Add(std::move(hook)); }

std::vector<std::shared_ptr<Hook>> Server::Hooks() const {
  return impl_->node->broker().hooks().hooks();
}

void Server::SetHooks(std::vector<std::shared_ptr<Hook>> hooks) {
  impl_->node->broker().hooks().Set(std::move(hooks));
}

bool Server::Start(std::string* error) {
  if (absl::Status s = impl_->node->Start(); !s.ok()) {
    if (error != nullptr) *error = "meshmq: " + std::string(s.message());
    impl_->node->Stop();
    return false;
  }
  std::lock_guard lock(impl_->mu);
  impl_->running = true;
  return true;
}

uint16_t Server::mqtt_port() const { return impl_->node->mqtt_port(); }

bool Server::Publish(const std::string& topic, std::string payload, int qos, bool retain) {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->running) return false;
  }
  if (!codec::IsValidTopicName(topic)) return false;
  broker::Broker& broker = impl_->node->broker();
  auto msg = std::make_shared<broker::Message>();
  msg->topic = topic;
  msg->payload = codec::SharedBytes(std::move(payload));
  msg->qos = static_cast<uint8_t>(std::clamp(qos, 0, 2));
  msg->retain = retain;
  msg->origin_node = broker.options().node_id;
  msg->timestamp_ms = broker::NowMs();
  msg->origin_seq = broker::NextOriginSeq();
  broker::ChargeMemory(*msg);
  broker.Publish(std::move(msg));
  return true;
}

void Server::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->running = false;
  }
  impl_->node->Stop();
  {
    std::lock_guard lock(impl_->mu);
    impl_->done = true;
  }
  impl_->cv.notify_all();
}

void Server::Wait() {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait(lock, [this] { return impl_->done; });
}

}  // namespace meshmq
