#include "core/config.hpp"

#include "sip/uri.hpp"

namespace core {

using base::config::Binder;
using base::config::Error;

void CoreConfig::describe(Binder& b) {
  b.section("core", "IMS core: combined I-CSCF/S-CSCF registrar and router with the HSS in the store (TR 33.871 6.1.1).");
  b.field("listen", listen, "SIP listeners: udp:// tcp:// tls://ADDR:PORT (TLS from [tls]); IPv6 as [::].");
  b.field("home_domain", home_domain,
          "The IMS home network domain: the Request-URI of REGISTER, the Digest realm, the domain of IMPUs.");
  b.field("trusted_nodes", trusted_nodes,
          "Addresses or CIDR ranges of trusted eP-CSCFs: they may assert identities (P-Asserted-Identity),\n"
          "use Trusted Node Authentication (integrity-protected=\"auth-done\"), and be routed to by Route.");
  b.field("sip_host", sip_host,
          "Host in Via, Record-Route and Service-Route (with the listener's port). Empty: the listener's address.");
  b.field("digest_algorithms", digest_algorithms,
          "Digest algorithms offered in a 401, in order of preference: \"MD5\", \"SHA-256\" (RFC 8760). When MD5\n"
          "is offered but not last it is also repeated last: JsSIP reads only the last challenge.");
  b.field("nonce_lifetime", nonce_lifetime, "How long a Digest nonce or AKA challenge is accepted (then stale=true / a new challenge).");
  b.field("min_expires", min_expires, "Shortest registration granted; shorter requests are raised to it.");
  b.field("max_expires", max_expires, "Longest registration granted; longer requests are cut to it.");
  b.field("default_expires", default_expires, "Registration lifetime when the REGISTER asks for none.");
  b.field("max_contacts", max_contacts, "Bindings per IMPU; beyond, the least recently refreshed is dropped.");
  b.field("max_aka_challenges", max_aka_challenges, "AKA vectors kept for outstanding challenges (memory bound).");
  b.field("registration_write_delay", registration_write_delay,
          "Registration changes are written to the store in one transaction at most this long after they\n"
          "happen (write-behind; they are in memory and answered at once). A clean stop writes them; a crash\n"
          "loses at most this window. \"0s\": every change is written before its 200 OK.");
  b.field("control_listen", control_listen, "HTTP listener for /metrics and /health. Empty: none.");
}

bool parse_sip_listener(const std::string& url, std::string& transport, base::Endpoint& endpoint) {
  auto sep = url.find("://");
  if (sep == std::string::npos) return false;
  std::string scheme = url.substr(0, sep);
  if (scheme == "udp") transport = "UDP";
  else if (scheme == "tcp") transport = "TCP";
  else if (scheme == "tls") transport = "TLS";
  else return false;
  auto ep = base::Endpoint::parse(url.substr(sep + 3));
  if (!ep) return false;
  endpoint = *ep;
  return true;
}

void CoreConfig::validate() const {
  std::vector<std::string> errs;
  if (listen.empty()) errs.push_back("[core] listen is empty: the core would not accept anything");
  for (auto& l : listen) {
    std::string t;
    base::Endpoint e;
    if (!parse_sip_listener(l, t, e)) errs.push_back("[core] listen: \"" + l + "\" is not udp://, tcp:// or tls://ADDR:PORT");
  }
  std::string home_uri = "sip:" + home_domain;
  auto uri = sip::parse_uri(home_uri);
  if (home_domain.empty() || !uri || uri->port || !uri->params.empty() || uri->has_user)
    errs.push_back("[core] home_domain = \"" + home_domain + "\" is not a domain name");
  for (auto& n : trusted_nodes)
    if (!base::Cidr::parse(n)) errs.push_back("[core] trusted_nodes: \"" + n + "\" is not an address or CIDR range");
  if (!sip_host.empty()) {
    std::string host_uri = "sip:" + sip_host;
    auto h = sip::parse_uri(host_uri);
    if (!h || h->port || h->has_user || !h->params.empty())
      errs.push_back("[core] sip_host = \"" + sip_host + "\" is not a host name or address (no port)");
  }
  if (digest_algorithms.empty()) errs.push_back("[core] digest_algorithms is empty");
  for (auto& a : digest_algorithms)
    if (a != "MD5" && a != "SHA-256") errs.push_back("[core] digest_algorithms: \"" + a + "\" is not \"MD5\" or \"SHA-256\"");
  if (nonce_lifetime < std::chrono::seconds(10)) errs.push_back("[core] nonce_lifetime must be at least 10s");
  if (registration_write_delay < Duration(0) || registration_write_delay > std::chrono::seconds(10))
    errs.push_back("[core] registration_write_delay must lie between 0s and 10s");
  if (min_expires < std::chrono::seconds(1)) errs.push_back("[core] min_expires must be at least 1s");
  if (max_expires < min_expires) errs.push_back("[core] max_expires must be >= min_expires");
  if (default_expires < min_expires || default_expires > max_expires)
    errs.push_back("[core] default_expires must lie between min_expires and max_expires");
  if (max_expires > std::chrono::hours(24 * 365)) errs.push_back("[core] max_expires must be at most a year");
  if (max_contacts < 1) errs.push_back("[core] max_contacts must be >= 1");
  if (max_aka_challenges < 1) errs.push_back("[core] max_aka_challenges must be >= 1");
  if (!control_listen.empty() && control_listen.rfind("http://", 0) != 0)
    errs.push_back("[core] control_listen = \"" + control_listen + "\" is not an http:// URL");
  if (!errs.empty()) {
    std::string msg = "invalid configuration:";
    for (auto& e : errs) msg += "\n  " + e;
    throw Error(msg);
  }
}

std::vector<base::Cidr> CoreConfig::trusted_ranges() const {
  std::vector<base::Cidr> out;
  for (auto& n : trusted_nodes)
    if (auto c = base::Cidr::parse(n)) out.push_back(*c);
  return out;
}

}  // namespace core
