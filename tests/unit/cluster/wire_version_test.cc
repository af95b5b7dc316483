// A node faced with a peer that speaks another protocol version, or sends a forward batch that
// does not decode, over real gRPC on loopback (docs/cluster.md, "Versions" and "Packed forward
// batches"). The peer here is a raw gRPC client playing an old or broken node.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "cluster.grpc.pb.h"
#include "cluster/cluster_impl.h"
#include "test_cluster.h"

namespace meshmq::cluster::testing {
namespace {

struct RawPeer {
  explicit RawPeer(int port)
      : channel(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                    grpc::InsecureChannelCredentials())),
        stub(v1::Cluster::NewStub(channel)) {
    ctx.AddMetadata("x-meshmq-secret", "s3cret");
    stream = stub->Link(&ctx);
  }
  bool Hello(uint32_t version) {
    v1::Frame f;
    v1::Hello* h = f.mutable_hello();
    h->set_protocol_version(version);
    h->set_cluster_name("test-cluster");
    h->set_node_id("raw");
    h->set_incarnation(7);
    return stream->Write(f);
  }
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Cluster::Stub> stub;
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReaderWriter<v1::Frame, v1::Frame>> stream;
};

TEST(WireVersionTest, PeerOfProtocolOneIsRefusedWithAReason) {
  ClusterFixture c(1);
  c.Start(0);
  RawPeer old(c[0].port);
  ASSERT_TRUE(old.Hello(1));
  v1::Frame reply;
  EXPECT_FALSE(old.stream->Read(&reply));
  grpc::Status status = old.stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("protocol version 1"), std::string::npos)
      << status.error_message();
  EXPECT_TRUE(c[0].node->Members().empty());
}

TEST(WireVersionTest, CorruptForwardBatchClosesTheStreamWithoutDelivering) {
  ClusterFixture c(1);
  c.Start(0);
  RawPeer peer(c[0].port);
  ASSERT_TRUE(peer.Hello(kProtocolVersion));
  v1::Frame reply;
  ASSERT_TRUE(peer.stream->Read(&reply));
  ASSERT_TRUE(reply.has_hello_ack());
  v1::Frame batch;
  // Version 1, seq 1, flags 0, then a topic length of 100 with 2 bytes left.
  batch.mutable_forward_batch()->set_packed(std::string("\x01\x01\x00\x64" "ab", 6));
  ASSERT_TRUE(peer.stream->Write(batch));
  ASSERT_GE(WaitFor([&] { return c[0].node->Stats().forward_batches_corrupt == 1; }), 0);
  while (peer.stream->Read(&reply)) {  // the node closes the stream; drain what it sent first
  }
  peer.stream->Finish();
  EXPECT_EQ(c[0].node->Stats().forwards_received, 0u);
  EXPECT_EQ(c[0].local.DeliveredCount(), 0u);
}

}  // namespace
}  // namespace meshmq::cluster::testing
