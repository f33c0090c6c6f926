// Keys a self-contained deployment makes for itself on first start, kept in the store so a restart
// keeps issued credentials valid.
#pragma once

#include "config.hpp"
#include "store/store.hpp"

namespace cli {

// With no [[turn.secrets]] configured: the deployment's own Solution 1 key Km (id "local").
void ensure_turn_secret(Config& c, store::Store& s);

}  // namespace cli
