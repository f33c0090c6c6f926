// Allocation quotas shared by all worker threads: per USERNAME and per server (486 beyond).
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace turn {

class Quota {
 public:
  Quota(int per_user, int total) : per_user_(per_user), total_(total) {}
  bool acquire(std::string_view user) {
    std::lock_guard lk(mu_);
    if (total_ > 0 && count_ >= total_) return false;
    int& n = by_user_[std::string(user)];
    if (per_user_ > 0 && n >= per_user_) return false;
    ++n;
    ++count_;
    return true;
  }
  void release(std::string_view user) {
    std::lock_guard lk(mu_);
    auto it = by_user_.find(std::string(user));
    if (it != by_user_.end() && --it->second <= 0) by_user_.erase(it);
    if (count_ > 0) --count_;
  }
  int total() const {
    std::lock_guard lk(mu_);
    return count_;
  }

 private:
  int per_user_, total_;
  mutable std::mutex mu_;
  int count_ = 0;
  std::unordered_map<std::string, int> by_user_;
};

}  // namespace turn
