#include "wwsf/logic/sessions.hpp"

#include <array>

#include "base/encoding.hpp"

namespace wwsf {

std::string random_token(base::Random& random) {
  std::array<uint8_t, 32> b{};
  random.fill(b);
  auto s = base::base64url_encode({b.data(), b.size()});
  b.fill(0);
  return s;
}

std::optional<std::string> SessionTable::create(Session s, base::Random& random, base::SteadyTime now) {
  if (sessions_.size() >= max_) {
    prune(now, [](const Session&) {});
    if (sessions_.size() >= max_) return std::nullopt;
  }
  s.created = s.last_seen = now;
  std::string id;
  do id = random_token(random);
  while (sessions_.count(id));
  sessions_.emplace(id, std::move(s));
  return id;
}

Session* SessionTable::find(const std::string& id, base::SteadyTime now, std::optional<Session>* expired) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  if (is_expired(it->second, now)) {
    if (expired) *expired = std::move(it->second);
    sessions_.erase(it);
    return nullptr;
  }
  it->second.last_seen = now;
  return &it->second;
}

bool WindowCounter::exceeded(const std::string& key, base::SteadyTime now) const {
  auto it = counts_.find(key);
  if (it == counts_.end() || now - it->second.start >= window_) return false;
  return it->second.count >= limit_;
}

void WindowCounter::hit(const std::string& key, base::SteadyTime now) {
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    if (counts_.size() >= max_) {
      prune(now);
      if (counts_.size() >= max_) {
        auto oldest = counts_.begin();
        for (auto i = counts_.begin(); i != counts_.end(); ++i)
          if (i->second.start < oldest->second.start) oldest = i;
        counts_.erase(oldest);
      }
    }
    counts_.emplace(key, Entry{1, now});
    return;
  }
  if (now - it->second.start >= window_) it->second = Entry{1, now};
  else ++it->second.count;
}

int64_t WindowCounter::retry_after(const std::string& key, base::SteadyTime now) const {
  auto it = counts_.find(key);
  if (it == counts_.end() || !exceeded(key, now)) return 0;
  auto left = std::chrono::duration_cast<std::chrono::seconds>(it->second.start + window_ - now).count();
  return left < 1 ? 1 : left;
}

void WindowCounter::prune(base::SteadyTime now) {
  for (auto it = counts_.begin(); it != counts_.end();)
    if (now - it->second.start >= window_) it = counts_.erase(it);
    else ++it;
}

}  // namespace wwsf
