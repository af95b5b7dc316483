// A first-in first-out queue of at most a fixed number of elements in one array, allocated on the
// first push: pushing onto a full ring is the caller's job to prevent (pop first).
//
// Why not std::deque: the late-routes list (late_routes.cc) takes one push and, once full, one
// pop per routed publish; a deque allocates and frees a block every 16 entries of that stream,
// and its pop_front walks block maps. Here both are an index step in a flat array.
// Same thread rules as a vector.
#pragma once

#include <cassert>
#include <cstddef>
#include <memory>
#include <utility>

namespace meshmq::broker {

template <typename T>
class BoundedRing {
 public:
  explicit BoundedRing(size_t capacity) : capacity_(capacity) {}

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == capacity_; }

  T& front() { return slots_[head_]; }
  const T& front() const { return slots_[head_]; }
  // The i-th oldest element (0 = front).
  const T& operator[](size_t i) const { return slots_[(head_ + i) % capacity_]; }

  void push_back(T value) {
    assert(!full());
    if (!slots_) slots_ = std::make_unique<T[]>(capacity_);
    slots_[(head_ + size_) % capacity_] = std::move(value);
    ++size_;
  }

  // Resets the oldest slot to T{} (releasing what it held) and drops it.
  void pop_front() {
    assert(!empty());
    slots_[head_] = T{};
    head_ = (head_ + 1) % capacity_;
    --size_;
  }

  void clear() {
    while (!empty()) pop_front();
  }

 private:
  size_t capacity_;
  std::unique_ptr<T[]> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace meshmq::broker
