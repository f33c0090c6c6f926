// Demo data of `webims all` ([all] demo): on first start, what every way into the browser WIC needs,
// so each can be tried at once: two IMS subscribers (scenario 1, TR 33.871 6.1.1), a web account with
// an identity link already confirmed to one of them (scenario 2, 6.1.2, Annex C M2) and a pool of
// guest subscriptions owned by the WWSF (scenario 3, 6.1.3, NOTE 6). The passwords are random, kept
// as the store's local secrets (like the TURN key Km) so they can be listed at every start, on
// standard output only, never in the log. The pool's passwords are never shown (nobody types them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "wwsf/logic/credentials.hpp"

namespace cli {

struct DemoOptions {
  std::string home_domain = "ims.example.org";
  std::string wwsf_id = "localhost";
  wwsf::PwhashCost cost = wwsf::PwhashCost::interactive();
  int pool_size = 5;
};

// The demo items present in the store with the passwords kept for them.
struct DemoListing {
  struct Subscriber {
    std::string impi, impu, password;
  };
  struct WebAccount {
    std::string username, password, linked;  // linked: the first confirmed IMPI, empty when none
  };
  std::vector<Subscriber> subscribers;
  std::optional<WebAccount> web_account;
  std::string pool_pattern, wwsf_id;
  size_t pool_size = 0;  // pool subscriptions of the WWSF; 0: no pool listed

  bool empty() const { return subscribers.empty() && !web_account && pool_size == 0; }
};

// Creates the demo data when the store holds no subscriber at all, so a store provisioned beforehand
// (tests, an operator's data) gets none. Every step inserts or keeps what is there, so a second run,
// or one after an interrupted first, changes nothing already made. True when it created them.
bool create_demo_if_empty(store::Store& store, const DemoOptions& o, int64_t now_unix);

// What of the demo data exists, each with its kept password; an item whose credential changed since
// (another password, removed) is left out, so the listing never shows a password that does not work.
DemoListing list_demo(store::Store& store, const DemoOptions& o);

// The console lines, machine-readable (the browser test parses them), values without spaces:
//   "  demo ims-subscriber impi=I impu=U password=P"
//   "  demo web-account username=N password=P linked=I"
//   "  demo guest-pool pattern=*@guest.D size=N wwsf=W"
std::vector<std::string> demo_lines(const DemoListing& l);

}  // namespace cli
