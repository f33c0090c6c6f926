#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cli {

int cmd_turn(std::vector<std::string> args);
int cmd_all(std::vector<std::string> args);
int cmd_pcscf(std::vector<std::string> args);
int cmd_core(std::vector<std::string> args);
int cmd_admin(std::vector<std::string> args);
int cmd_wic(std::vector<std::string> args);
int cmd_waf(std::vector<std::string> args);
int cmd_wwsf(std::vector<std::string> args);

// Shared option parsing: removes `--name VALUE` / `--name=VALUE` from args.
std::optional<std::string> take_option(std::vector<std::string>& args, const std::string& name);
bool take_flag(std::vector<std::string>& args, const std::string& name);

}  // namespace cli
