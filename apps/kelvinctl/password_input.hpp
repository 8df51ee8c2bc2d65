#pragma once
// Reading a new password the way passwd(1) does, for `kelvinctl user passwd`.

#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::ctl {

// From a terminal: prompts on stderr, reads the password twice with echo off (the terminal is
// restored also when Ctrl-C or another terminating signal interrupts), checks the rules
// (accounts::password_problem) before asking for the retype. Otherwise (a pipe, a file) reads
// exactly one line from stdin, without its line ending, so scripts and tests can pipe it in.
// Errc::invalid_argument when the password breaks the rules or the two entries differ, Errc::io
// when stdin ends before a line.
Result<std::string> read_new_password(std::string_view user);

}  // namespace kelvin::ctl
