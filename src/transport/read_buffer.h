// Where received bytes land. Plain TCP connections do not own a read buffer: they wait until
// their socket is readable, then read into one buffer per shard thread, and the decoder keeps
// only the bytes of an incomplete packet (so an idle connection holds no read buffer at all).
// TLS and WebSocket streams decrypt or unframe inside an asynchronous read that can stay pending,
// so they keep a buffer of their own, allocated when the handshake completed.
//
// The shard buffer is valid until the handler that read into it returns: Client::OnBytes
// consumes it synchronously and copies any incomplete tail.
#pragma once

#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <memory>

namespace meshmq::transport {

// Bytes read per readiness notification on plain TCP; large enough that a busy publisher is
// read in few system calls, and it exists once per thread, not per connection.
inline constexpr std::size_t kShardReadBufferSize = 64 * 1024;
// Per-connection buffer of the TLS and WebSocket transports.
inline constexpr std::size_t kStreamReadBufferSize = 16 * 1024;

// The calling thread's read buffer (allocated on first use; shard threads only).
inline boost::asio::mutable_buffer ShardReadBuffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[kShardReadBufferSize]);
  return boost::asio::buffer(buffer.get(), kShardReadBufferSize);
}

}  // namespace meshmq::transport
