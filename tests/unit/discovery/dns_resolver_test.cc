// ResolveOnce against a real dnsmasq.
#include "discovery/dns_resolver.h"

#include <ares.h>
#include <gtest/gtest.h>

#include "dnsmasq_server.h"

namespace meshmq::discovery {
namespace {

constexpr char kHosts[] =
    "127.0.0.2 meshmq-headless.test\n"
    "127.0.0.3 meshmq-headless.test\n"
    "127.0.0.4 meshmq-headless.test\n"
    "fd00::5 meshmq-headless.test\n"
    "127.0.0.21 node1.meshmq.test\n"
    "fd00::21 node1.meshmq.test\n"
    "127.0.0.22 node2.meshmq.test\n";

class DnsResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dns_.SetHosts(kHosts);
    dns_.SetSrv({"_mqtt._tcp.meshmq.test,node1.meshmq.test,8083",
                 "_mqtt._tcp.meshmq.test,node2.meshmq.test,8084",
                 "_gone._tcp.meshmq.test,missing.meshmq.test,8085"});
    ASSERT_TRUE(dns_.Start()) << dns_.Log();
  }
  void TearDown() override { dns_.Kill(); }

  DnsOptions Options(const std::string& name) {
    DnsOptions o;
    o.name = name;
    o.server = dns_.server();
    o.peer_port = 18081;
    return o;
  }

  testing::DnsmasqServer dns_;
};

TEST_F(DnsResolverTest, ARecordsAndAaaaRecordsBecomePeersWithTheConfiguredPort) {
  auto peers = ResolveOnce(Options("meshmq-headless.test"));
  ASSERT_TRUE(peers.ok()) << peers.status() << "\n" << dns_.Log();
  EXPECT_EQ(*peers, (PeerSet{{"127.0.0.2", 18081},
                             {"127.0.0.3", 18081},
                             {"127.0.0.4", 18081},
                             {"fd00::5", 18081}}));
}

TEST_F(DnsResolverTest, SrvTargetsResolveToTheirAddressesWithTheRecordPort) {
  DnsOptions o = Options("_mqtt._tcp.meshmq.test");
  o.use_srv = true;
  auto peers = ResolveOnce(o);
  ASSERT_TRUE(peers.ok()) << peers.status() << "\n" << dns_.Log();
  EXPECT_EQ(*peers, (PeerSet{{"127.0.0.21", 8083}, {"127.0.0.22", 8084}, {"fd00::21", 8083}}));
}

TEST_F(DnsResolverTest, SrvWhoseOnlyTargetDoesNotExistIsNotFound) {
  DnsOptions o = Options("_gone._tcp.meshmq.test");
  o.use_srv = true;
  EXPECT_TRUE(absl::IsNotFound(ResolveOnce(o).status()));
}

TEST_F(DnsResolverTest, NxdomainIsNotFound) {
  auto peers = ResolveOnce(Options("nobody.meshmq.test"));
  EXPECT_TRUE(absl::IsNotFound(peers.status())) << peers.status();
}

TEST_F(DnsResolverTest, NameWithoutAddressRecordsIsNotFound) {
  // The SRV owner name exists but has no A/AAAA records: NODATA.
  auto peers = ResolveOnce(Options("_mqtt._tcp.meshmq.test"));
  EXPECT_TRUE(absl::IsNotFound(peers.status())) << peers.status();
}

TEST_F(DnsResolverTest, DeadServerIsUnavailable) {
  DnsOptions o = Options("meshmq-headless.test");
  dns_.Kill();
  auto peers = ResolveOnce(o);
  EXPECT_TRUE(absl::IsUnavailable(peers.status())) << peers.status();
}

TEST_F(DnsResolverTest, SilentServerTimesOutWithinTheTryBudget) {
  dns_.Pause();
  const auto start = std::chrono::steady_clock::now();
  auto peers = ResolveOnce(Options("meshmq-headless.test"));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(absl::IsUnavailable(peers.status())) << peers.status();
  EXPECT_LT(took, std::chrono::milliseconds(kTryTimeoutMs * 3 + 1000));
}

TEST_F(DnsResolverTest, StopFlagAbortsALookupInFlight) {
  dns_.Pause();
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop.store(true);
  });
  const auto start = std::chrono::steady_clock::now();
  auto peers = ResolveOnce(Options("meshmq-headless.test"), &stop);
  const auto took = std::chrono::steady_clock::now() - start;
  stopper.join();
  EXPECT_TRUE(absl::IsCancelled(peers.status())) << peers.status();
  EXPECT_LT(took, std::chrono::milliseconds(400));
}

TEST(DnsResolverArgsTest, BadArgumentsAreInvalid) {
  DnsOptions o;
  EXPECT_TRUE(absl::IsInvalidArgument(ResolveOnce(o).status()));
  o.name = "x.test";
  o.server = "not a server";
  EXPECT_TRUE(absl::IsInvalidArgument(ResolveOnce(o).status()));
}

TEST(DnsResolverArgsTest, AuthoritativeEmptyAnswersAreNotFoundEverythingElseUnavailable) {
  EXPECT_TRUE(AresStatusToStatus(ARES_SUCCESS, "q").ok());
  EXPECT_TRUE(absl::IsNotFound(AresStatusToStatus(ARES_ENOTFOUND, "q")));
  EXPECT_TRUE(absl::IsNotFound(AresStatusToStatus(ARES_ENODATA, "q")));
  for (int s : {ARES_ETIMEOUT, ARES_ESERVFAIL, ARES_EREFUSED, ARES_ECONNREFUSED, ARES_EBADRESP,
                ARES_EFORMERR, ARES_ENOMEM}) {
    EXPECT_TRUE(absl::IsUnavailable(AresStatusToStatus(s, "q"))) << ares_strerror(s);
  }
  EXPECT_TRUE(absl::IsCancelled(AresStatusToStatus(ARES_ECANCELLED, "q")));
}

}  // namespace
}  // namespace meshmq::discovery
