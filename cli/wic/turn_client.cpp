#include "wic/turn_client.hpp"

#include "crypto/hash.hpp"
#include "stun/message.hpp"

namespace wic {

TurnAllocateClient::TurnAllocateClient(TurnClientConfig config, base::Random& random)
    : config_(std::move(config)), random_(random) {
  // RFC 8489 §9.2.2: key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)); set
  // once the realm is known.
}

std::vector<uint8_t> TurnAllocateClient::build(stun::Method method, bool authenticated, uint32_t lifetime) {
  tid_ = stun::new_transaction_id(random_);
  std::vector<uint8_t> buf(1500);
  stun::Builder b(buf, method, stun::Class::Request, tid_);
  if (method == stun::Method::Allocate) b.add_requested_transport(stun::kProtocolUdp);
  else b.add_u32(stun::attr::Lifetime, lifetime);
  if (!config_.software.empty()) b.add(stun::attr::Software, config_.software);
  if (authenticated) {
    b.add(stun::attr::Username, config_.username);
    b.add(stun::attr::Realm, realm_);
    b.add(stun::attr::Nonce, nonce_);
    if (!config_.access_token.empty()) b.add(stun::attr::AccessToken, base::Bytes(config_.access_token));
    b.add_message_integrity(key_);
  }
  b.add_fingerprint();
  auto r = b.finish();
  if (!r) return {};
  return std::vector<uint8_t>(r->begin(), r->end());
}

std::vector<uint8_t> TurnAllocateClient::transmit(std::vector<uint8_t> msg, base::SteadyTime now) {
  outstanding_ = std::move(msg);
  transmissions_ = 1;
  rto_ = config_.rto;
  deadline_ = now + rto_;
  return outstanding_;
}

void TurnAllocateClient::fail(int code, std::string reason) {
  state_ = State::Failed;
  error_code_ = code;
  error_reason_ = std::move(reason);
  deadline_.reset();
  outstanding_.clear();
}

std::vector<uint8_t> TurnAllocateClient::start(base::SteadyTime now) {
  state_ = State::Allocating;
  authenticated_ = false;
  return transmit(build(stun::Method::Allocate, false, 0), now);
}

std::vector<uint8_t> TurnAllocateClient::release(base::SteadyTime now) {
  if (state_ != State::Allocated) return {};
  state_ = State::Releasing;
  stale_retries_ = 0;
  return transmit(build(stun::Method::Refresh, true, 0), now);
}

std::vector<uint8_t> TurnAllocateClient::on_timer(base::SteadyTime now) {
  if (!deadline_ || now < *deadline_ || outstanding_.empty()) return {};
  if (transmissions_ >= config_.max_transmissions) {
    // RFC 8489 §6.2.1: after Rc transmissions and a last wait of Rm * RTO, the transaction failed.
    if (state_ == State::Releasing) {
      state_ = State::Released;  // best effort: the allocation expires on its own
      deadline_.reset();
      return {};
    }
    fail(0, "no response from the TURN server");
    return {};
  }
  ++transmissions_;
  rto_ *= 2;
  deadline_ = now + (transmissions_ == config_.max_transmissions ? config_.rto * config_.last_wait_factor : rto_);
  return outstanding_;
}

std::optional<base::SteadyTime> TurnAllocateClient::next_deadline() const { return deadline_; }

std::vector<uint8_t> TurnAllocateClient::on_datagram(base::Bytes data, base::SteadyTime now) {
  if (state_ != State::Allocating && state_ != State::Releasing) return {};
  auto m = stun::parse(data);
  if (!m || m->transaction_id() != tid_) return {};
  stun::Method want = state_ == State::Allocating ? stun::Method::Allocate : stun::Method::Refresh;
  if (m->method() != want) return {};
  if (m->cls() == stun::Class::SuccessResponse) {
    // RFC 8489 §9.2.5: a response to an authenticated request must carry a valid MESSAGE-INTEGRITY.
    if (authenticated_ && !stun::verify_message_integrity(*m, key_)) return {};
    deadline_.reset();
    outstanding_.clear();
    if (state_ == State::Releasing) {
      state_ = State::Released;
      return {};
    }
    auto relayed = m->xor_address(stun::attr::XorRelayedAddress);
    if (!relayed) {
      fail(0, "Allocate success without XOR-RELAYED-ADDRESS");
      return {};
    }
    relayed_ = *relayed;
    if (auto mapped = m->xor_address(stun::attr::XorMappedAddress)) mapped_ = *mapped;
    lifetime_ = m->u32(stun::attr::Lifetime).value_or(0);
    state_ = State::Allocated;
    return {};
  }
  if (m->cls() != stun::Class::ErrorResponse) return {};
  auto ec = m->error_code();
  int code = ec ? ec->code : 0;
  std::string reason = ec ? std::string(ec->reason) : std::string("error response without ERROR-CODE");
  auto realm = m->string(stun::attr::Realm);
  auto nonce = m->string(stun::attr::Nonce);
  bool first_challenge = code == stun::code::Unauthorized && !authenticated_ && realm && nonce;
  bool stale = code == stun::code::StaleNonce && authenticated_ && nonce && stale_retries_ < 2;
  if (state_ == State::Releasing) {
    if (stale) {
      ++stale_retries_;
      nonce_ = std::string(*nonce);
      if (realm) realm_ = std::string(*realm);
      return transmit(build(stun::Method::Refresh, true, 0), now);
    }
    state_ = State::Released;  // best effort
    deadline_.reset();
    outstanding_.clear();
    return {};
  }
  if (first_challenge || stale) {
    if (stale) ++stale_retries_;
    if (realm) realm_ = std::string(*realm);
    nonce_ = std::string(*nonce);
    if (!config_.access_token.empty()) {
      key_ = config_.mac_key;  // RFC 7635: the token's session key is the HMAC key
      if (config_.coturn_mac_key && key_.size() == 20) key_.resize(16);
    } else {
      auto k = crypto::md5(crypto::view(config_.username + ":" + realm_ + ":" + config_.password));
      key_.assign(k.begin(), k.end());
    }
    authenticated_ = true;
    return transmit(build(stun::Method::Allocate, true, 0), now);
  }
  fail(code, reason);
  return {};
}

}  // namespace wic
