#include "password_input.hpp"

#include <termios.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <iostream>
#include <optional>

#include "kelvin/accounts/accounts.hpp"

namespace kelvin::ctl {
namespace {

// The terminal's settings before echo was turned off, for the signal handler. Only one EchoOff
// exists at a time (one prompt at a time in a single-threaded command).
termios saved_terminal{};
volatile std::sig_atomic_t echo_is_off = 0;

// A signal that would end the process while echo is off: restore the terminal, then let the
// signal do what it would have done (SA_RESETHAND has put its old disposition back).
extern "C" void restore_terminal_and_reraise(int signal_number) {
  if (echo_is_off != 0) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
  ::raise(signal_number);
}

// Turns echo off on the terminal on stdin for its lifetime; the Enter key still echoes a newline
// (ECHONL), so the next prompt starts on its own line.
class EchoOff {
 public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &saved_terminal) != 0) return;
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
      ::sigaction(kSignals[i], nullptr, &previous_[i]);
      if (previous_[i].sa_handler == SIG_IGN) continue;  // ignored (nohup): it ends nothing
      struct sigaction action {};
      action.sa_handler = restore_terminal_and_reraise;
      action.sa_flags = static_cast<int>(SA_RESETHAND);
      sigemptyset(&action.sa_mask);
      ::sigaction(kSignals[i], &action, nullptr);
    }
    termios quiet = saved_terminal;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    echo_is_off = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0 ? 1 : 0;
    active_ = true;
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;
  ~EchoOff() {
    if (!active_) return;
    if (echo_is_off != 0) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
    echo_is_off = 0;
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &previous_[i], nullptr);
  }

 private:
  static constexpr std::array<int, 4> kSignals{SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  std::array<struct sigaction, kSignals.size()> previous_{};
  bool active_ = false;
};

// One line from stdin without its line ending ("\n" or "\r\n"); nullopt at the end of input.
std::optional<std::string> read_line() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::optional<std::string> prompt_without_echo(std::string_view prompt) {
  std::cerr << prompt << std::flush;
  EchoOff quiet;
  return read_line();
}

Error end_of_input() {
  return make_error(Errc::io, "no password on standard input: type it at a terminal, or pipe it in as one line");
}

Result<std::string> checked(std::string_view user, std::optional<std::string> password) {
  if (!password) return end_of_input();
  if (auto problem = accounts::password_problem(user, *password)) {
    return make_error(Errc::invalid_argument, *problem + "; nothing changed");
  }
  return std::move(*password);
}

}  // namespace

Result<std::string> read_new_password(std::string_view user) {
  if (::isatty(STDIN_FILENO) == 0) return checked(user, read_line());

  auto password = checked(user, prompt_without_echo("New password for " + std::string(user) + ": "));
  if (!password) return password;
  auto again = prompt_without_echo("Retype the new password: ");
  if (!again) return end_of_input();
  if (*again != *password) return make_error(Errc::invalid_argument, "the two passwords differ; nothing changed");
  return password;
}

}  // namespace kelvin::ctl
