// The DNS PeerSource against a real dnsmasq whose records the test changes (SIGHUP reload),
// stops (connection refused), pauses (timeouts) and restarts.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>

#include "discovery/dns_resolver.h"
#include "discovery/peer_source.h"
#include "dnsmasq_server.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"

namespace meshmq::discovery {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr int kRefreshMs = 100;
constexpr milliseconds kWait(5000);  // several periods, plus one failed lookup (3 s)

// Collects on_change reports (source's thread) for the test's thread.
class Recorder {
 public:
  std::function<void(const PeerSet&)> Callback() {
    return [this](const PeerSet& peers) {
      std::lock_guard<std::mutex> lock(mu_);
      reports_.push_back(peers);
      cv_.notify_all();
    };
  }
  // True once the latest report equals `want`.
  bool WaitFor(const PeerSet& want, milliseconds timeout = kWait) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout,
                        [&] { return !reports_.empty() && reports_.back() == want; });
  }
  std::vector<PeerSet> reports() {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PeerSet> reports_;
};

bool WaitUntil(const std::function<bool()>& done, milliseconds timeout = kWait) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

PeerSet Peers(std::initializer_list<const char*> hosts, uint16_t port = 18081) {
  PeerSet out;
  for (const char* h : hosts) out.push_back({h, port});
  return out;
}

std::string Hosts(std::initializer_list<const char*> addrs) {
  std::string out;
  for (const char* a : addrs) out += std::string(a) + " meshmq-headless.test\n";
  return out;
}

class DnsSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dns_.SetHosts(Hosts({"127.0.0.2", "127.0.0.3", "127.0.0.4"}));
    dns_.SetSrv({"_mqtt._tcp.meshmq.test,node1.meshmq.test,8083"});
    ASSERT_TRUE(dns_.Start()) << dns_.Log();
  }
  void TearDown() override {
    if (source_) source_->Stop();
    dns_.Kill();
  }

  void StartSource(const std::string& name, int refresh_ms = kRefreshMs, bool srv = false) {
    DnsOptions o;
    o.name = name;
    o.server = dns_.server();
    o.peer_port = 18081;
    o.use_srv = srv;
    o.refresh_ms = refresh_ms;
    source_ = MakeDnsSource(o);
    source_->Start(recorder_.Callback());
  }

  testing::DnsmasqServer dns_;
  Recorder recorder_;
  std::unique_ptr<PeerSource> source_;
};

TEST_F(DnsSourceTest, FollowsRecordsAsTheyAreRemovedAndAdded) {
  StartSource("meshmq-headless.test");
  ASSERT_TRUE(recorder_.WaitFor(Peers({"127.0.0.2", "127.0.0.3", "127.0.0.4"})));

  dns_.SetHosts(Hosts({"127.0.0.2", "127.0.0.4"}));  // a pod went away
  ASSERT_TRUE(recorder_.WaitFor(Peers({"127.0.0.2", "127.0.0.4"}))) << dns_.Log();

  dns_.SetHosts(Hosts({"127.0.0.2", "127.0.0.4", "127.0.0.5", "fd00::6"}));  // two joined
  ASSERT_TRUE(recorder_.WaitFor(Peers({"127.0.0.2", "127.0.0.4", "127.0.0.5", "fd00::6"})));

  // Re-resolved every period, and a set is reported only when it changes.
  const uint64_t before = source_->lookups();
  std::this_thread::sleep_for(milliseconds(kRefreshMs * 4));
  EXPECT_GE(source_->lookups(), before + 2);
  EXPECT_EQ(recorder_.reports().size(), 3u);
  EXPECT_EQ(source_->lookup_errors(), 0u);
}

TEST_F(DnsSourceTest, ServerDownKeepsTheLastSetCountsErrorsAndRecoversOnRestart) {
  StartSource("meshmq-headless.test");
  const PeerSet three = Peers({"127.0.0.2", "127.0.0.3", "127.0.0.4"});
  ASSERT_TRUE(recorder_.WaitFor(three));

  dns_.Kill();  // connection refused
  ASSERT_TRUE(WaitUntil([&] { return source_->lookup_errors() >= 2; }));
  EXPECT_EQ(recorder_.reports(), std::vector<PeerSet>{three});  // nothing dropped

  dns_.SetHosts(Hosts({"127.0.0.7"}));
  ASSERT_TRUE(dns_.Start()) << dns_.Log();  // same port as before
  ASSERT_TRUE(recorder_.WaitFor(Peers({"127.0.0.7"}))) << dns_.Log();
  const uint64_t errors = source_->lookup_errors();
  std::this_thread::sleep_for(milliseconds(kRefreshMs * 3));
  EXPECT_EQ(source_->lookup_errors(), errors);
}

TEST_F(DnsSourceTest, AnOutageIsOneWarningNotOnePerPeriod) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  StartSource("meshmq-headless.test");
  ASSERT_TRUE(recorder_.WaitFor(Peers({"127.0.0.2", "127.0.0.3", "127.0.0.4"})));
  dns_.Kill();
  const bool failed_thrice = WaitUntil([&] { return source_->lookup_errors() >= 3; });
  source_->Stop();
  spdlog::set_default_logger(previous);
  ASSERT_TRUE(failed_thrice);
  const std::string text = log.str();
  size_t warnings = 0;
  for (size_t at = text.find("[warning]"); at != std::string::npos;
       at = text.find("[warning]", at + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 1u) << text;
  EXPECT_NE(text.find("keeping 3 known peer(s)"), std::string::npos) << text;
}

TEST_F(DnsSourceTest, TimeoutsKeepTheLastSet) {
  StartSource("meshmq-headless.test");
  const PeerSet three = Peers({"127.0.0.2", "127.0.0.3", "127.0.0.4"});
  ASSERT_TRUE(recorder_.WaitFor(three));
  dns_.Pause();  // the server reads nothing: every try times out
  ASSERT_TRUE(WaitUntil([&] { return source_->lookup_errors() >= 1; }));
  dns_.Resume();
  EXPECT_EQ(recorder_.reports(), std::vector<PeerSet>{three});
}

TEST_F(DnsSourceTest, AuthoritativeNxdomainEmptiesTheSet) {
  StartSource("meshmq-headless.test");
  ASSERT_TRUE(recorder_.WaitFor(Peers({"127.0.0.2", "127.0.0.3", "127.0.0.4"})));
  dns_.SetHosts("127.0.0.9 other.meshmq.test\n");  // the service name no longer exists
  ASSERT_TRUE(recorder_.WaitFor({})) << dns_.Log();
  EXPECT_EQ(source_->lookup_errors(), 0u);
  dns_.SetHosts(Hosts({"127.0.0.3"}));
  ASSERT_TRUE(recorder_.WaitFor(Peers({"127.0.0.3"})));
}

TEST_F(DnsSourceTest, FirstLookupIsReportedEvenWhenItFails) {
  dns_.Kill();
  StartSource("meshmq-headless.test");
  ASSERT_TRUE(WaitUntil([&] { return recorder_.reports().size() == 1; }));
  EXPECT_EQ(recorder_.reports()[0], PeerSet{});
  EXPECT_GE(source_->lookup_errors(), 1u);
}

TEST_F(DnsSourceTest, FirstLookupIsReportedWhenTheNameDoesNotExist) {
  StartSource("nobody.meshmq.test");
  ASSERT_TRUE(WaitUntil([&] { return recorder_.reports().size() == 1; }));
  EXPECT_EQ(recorder_.reports()[0], PeerSet{});
}

TEST_F(DnsSourceTest, SrvRecordsGiveTargetAddressesWithRecordPorts) {
  dns_.SetHosts("127.0.0.21 node1.meshmq.test\nfd00::21 node1.meshmq.test\n");
  StartSource("_mqtt._tcp.meshmq.test", kRefreshMs, /*srv=*/true);
  ASSERT_TRUE(recorder_.WaitFor(Peers({"127.0.0.21", "fd00::21"}, 8083))) << dns_.Log();
}

TEST_F(DnsSourceTest, StopIsPromptBetweenLookupsAndSafeTwice) {
  StartSource("meshmq-headless.test", /*refresh_ms=*/60000);
  ASSERT_TRUE(recorder_.WaitFor(Peers({"127.0.0.2", "127.0.0.3", "127.0.0.4"})));
  const auto start = Clock::now();
  source_->Stop();
  EXPECT_LT(Clock::now() - start, milliseconds(100));
  source_->Stop();
  EXPECT_EQ(source_->lookups(), 1u);
}

TEST_F(DnsSourceTest, StopIsPromptDuringALookupThatWouldTimeOut) {
  dns_.Pause();
  StartSource("meshmq-headless.test");
  std::this_thread::sleep_for(milliseconds(200));  // the first lookup is now waiting
  const auto start = Clock::now();
  source_.reset();  // the destructor stops
  EXPECT_LT(Clock::now() - start, milliseconds(100));
  EXPECT_TRUE(recorder_.reports().empty());  // the cancelled lookup reports nothing
}

}  // namespace
}  // namespace meshmq::discovery
