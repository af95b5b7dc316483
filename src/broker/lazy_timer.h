// A steady_timer that exists only once it is first armed. Sessions and connections carry timers
// that most of them never use (session expiry and will delay run only while a client is
// offline); an Asio timer is ~112 bytes, this is 16 until armed.
//
// Same thread rules as the timer it wraps.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <utility>

namespace meshmq::broker {

class LazyTimer {
 public:
  explicit LazyTimer(boost::asio::io_context& io) : io_(&io) {}

  template <typename Duration>
  void expires_after(const Duration& d) { timer().expires_after(d); }
  template <typename Handler>
  void async_wait(Handler&& handler) { timer().async_wait(std::forward<Handler>(handler)); }
  // Cancels a pending wait; nothing to do if the timer was never armed.
  void cancel() {
    if (timer_) timer_->cancel();
  }
  // Cancels a pending wait and frees the timer until it is armed again.
  void reset() { timer_.reset(); }

 private:
  boost::asio::steady_timer& timer() {
    if (!timer_) timer_ = std::make_unique<boost::asio::steady_timer>(*io_);
    return *timer_;
  }

  boost::asio::io_context* io_;
  std::unique_ptr<boost::asio::steady_timer> timer_;
};

}  // namespace meshmq::broker
